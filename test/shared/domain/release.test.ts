import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../shared/config/load.js';
import { releaseSchema } from '../../../shared/contracts/tasks.js';
import {
  decideRelease,
  type ImageAction,
  repushRefusal,
  tagOnlyStages,
} from '../../../shared/domain/release.js';
import { InvalidInputError } from '../../../shared/errors.js';

const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));
const fixture = (name: string): ImageAction => JSON.parse(readFileSync(`test/fixtures/${name}.json`, 'utf8'));
const push = fixture('ecr-image-push');
const withDetail = (detail: Partial<ImageAction['detail']>): ImageAction => ({
  ...push,
  detail: { ...push.detail, ...detail },
});

describe('decideRelease', () => {
  it('starts a release for a tagged push to a configured repository', () => {
    const decision = decideRelease(push, config);

    expect(decision).toEqual({
      kind: 'start',
      executionName: 'backend-v1.4.2-7f5b2640fe6f',
      release: {
        app: 'backend',
        ecrRepository: 'itdo-erp/backend',
        image: 'itdo-erp/backend',
        tag: 'v1.4.2',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        registryId: '123456789012',
        region: 'eu-west-1',
        pushedAt: '2025-11-16T01:54:34Z',
      },
    });
    if (decision.kind === 'start') expect(releaseSchema.parse(decision.release)).toEqual(decision.release);
  });

  it('carries the app’s kustomize newName when it configures one', () => {
    const frontend = config.apps.frontend!;
    const withNewName = {
      ...config,
      apps: { ...config.apps, frontend: { ...frontend, newName: 'registry.example.com/erp/frontend' } },
    };

    const decision = decideRelease(withDetail({ 'repository-name': 'itdo-erp/frontend' }), withNewName);

    expect(decision).toMatchObject({
      kind: 'start',
      executionName: 'frontend-v1.4.2-7f5b2640fe6f',
      release: { app: 'frontend', image: 'itdo-erp/frontend', newName: 'registry.example.com/erp/frontend' },
    });
  });

  it('ignores an image deletion', () => {
    expect(decideRelease(fixture('ecr-image-delete'), config)).toMatchObject({
      kind: 'ignored',
      reason: 'not-a-push',
    });
  });

  it('ignores a failed push', () => {
    expect(decideRelease(fixture('ecr-image-push-failed'), config)).toMatchObject({
      kind: 'ignored',
      reason: 'push-failed',
      message: 'push to itdo-erp/backend ended with FAILURE',
    });
  });

  it('ignores a push to a repository no app is configured for', () => {
    expect(decideRelease(withDetail({ 'repository-name': 'itdo-erp/batch-jobs' }), config)).toMatchObject({
      kind: 'ignored',
      reason: 'repository-not-configured',
      message: 'no app is configured for ECR repository itdo-erp/batch-jobs',
    });
  });

  it('ignores a push without a tag', () => {
    expect(decideRelease(fixture('ecr-image-push-untagged'), config)).toMatchObject({
      kind: 'ignored',
      reason: 'untagged',
    });
    expect(decideRelease(withDetail({ 'image-tag': '' }), config)).toMatchObject({ reason: 'untagged' });
  });

  it.each(['latest', 'v1.4', 'v1.4.2-rc.1', 'sha-7f5b264'])('ignores tag %s that is not a release', (tag) => {
    expect(decideRelease(withDetail({ 'image-tag': tag }), config)).toMatchObject({
      kind: 'ignored',
      reason: 'tag-not-a-release',
      message: `tag ${tag} does not match ^v\\d+\\.\\d+\\.\\d+$, the tags of app backend`,
    });
  });

  describe('without apps.<name>.tags', () => {
    const backend = config.apps.backend!;
    const { tags: _, ...untagged } = backend;
    const noPattern = { ...config, apps: { ...config.apps, backend: untagged } };

    it.each(['v1.4.2', '1.4', 'v2.1.7-rc.1'])('releases the version tag %s', (tag) => {
      expect(decideRelease(withDetail({ 'image-tag': tag }), noPattern)).toMatchObject({
        kind: 'start',
        release: { app: 'backend', tag },
      });
    });

    it.each([
      ['latest', 'latest is a moving tag, never a release'],
      [`sha256-${'a'.repeat(64)}.sig`, 'it is a signature, attestation or SBOM tag'],
      ['buildcache', 'it is a build-cache tag'],
      ['main-cache', 'it is a build-cache tag'],
      ['sha-7f5b264', 'it does not look like a version (like v1.4.2 or 1.4.2-rc.1)'],
    ])('ignores %s and says why', (tag, why) => {
      expect(decideRelease(withDetail({ 'image-tag': tag }), noPattern)).toEqual({
        kind: 'ignored',
        reason: 'tag-not-a-release',
        message: `tag ${tag} is not a release of app backend (no tags pattern set): ${why}`,
      });
    });

    it('leaves a configured pattern alone: .* still releases latest', () => {
      const anything = { ...config, apps: { ...config.apps, backend: { ...backend, tags: '.*' } } };
      expect(decideRelease(withDetail({ 'image-tag': 'latest' }), anything).kind).toBe('start');
    });

    it('is what the config means when tags is left out', () => {
      const parsed = parseConfigText(
        readFileSync('shiplane.config.yaml', 'utf8').replace(/^ {4}tags: .*\n/m, ''),
      );
      expect(parsed.apps.backend?.tags).toBeUndefined();
      expect(decideRelease(withDetail({ 'image-tag': 'latest' }), parsed)).toMatchObject({ kind: 'ignored' });
    });
  });

  it('matches the tag pattern in linear time: a catastrophic pattern answers a 34-character near miss', () => {
    const catastrophic = {
      ...config,
      apps: { ...config.apps, backend: { ...config.apps.backend!, tags: '^v(\\d+\\.?)+$' } },
    };
    const tag = `v${'1'.repeat(32)}-`;

    expect(decideRelease(withDetail({ 'image-tag': tag }), catastrophic)).toMatchObject({
      kind: 'ignored',
      reason: 'tag-not-a-release',
    });
    expect(decideRelease(withDetail({ 'image-tag': 'v1.4.2' }), catastrophic).kind).toBe('start');
  });

  it.each([
    [
      'a tag outside ECR’s grammar',
      { 'image-tag': 'v1.4.2 v1.4.3' },
      /detail\.image-tag: expected an ECR image tag/,
    ],
    ['a tag of 129 characters', { 'image-tag': `v${'1'.repeat(128)}` }, /detail\.image-tag/],
    ['a digest that is not sha256', { 'image-digest': `sha512:${'a'.repeat(64)}` }, /detail\.image-digest/],
    ['a digest of 63 hex digits', { 'image-digest': `sha256:${'a'.repeat(63)}` }, /detail\.image-digest/],
    ['a digest in upper-case hex', { 'image-digest': `sha256:${'A'.repeat(64)}` }, /lower-case hex/],
  ])('refuses %s before anything else, even on a deletion', (_, detail, problem) => {
    const deletion = fixture('ecr-image-delete');
    const event = { ...deletion, detail: { ...deletion.detail, ...detail } };

    expect(() => decideRelease(event, config)).toThrow(InvalidInputError);
    expect(() => decideRelease(event, config)).toThrow(problem);
  });

  it('accepts the edges of ECR’s tag grammar', () => {
    for (const tag of ['_', `v${'1'.repeat(127)}`, 'V1.4.2_rc-1']) {
      expect(decideRelease(withDetail({ 'image-tag': tag }), config)).toMatchObject({ kind: 'ignored' });
    }
  });

  it('refuses a successful push that carries no digest', () => {
    expect(() => decideRelease(withDetail({ 'image-digest': undefined }), config)).toThrow(InvalidInputError);
  });
});

describe('tagOnlyStages and repushRefusal', () => {
  it('finds no tag-only stage in the default config: digests are pinned', () => {
    expect(tagOnlyStages(config)).toEqual([]);
  });

  it('names every stage that deploys by tag alone, and the fix', () => {
    const tagOnly = { ...config, stages: config.stages.map((stage) => ({ ...stage, pinDigest: false })) };
    const stages = tagOnlyStages(tagOnly);

    const message = repushRefusal(
      {
        app: 'backend',
        ecrRepository: 'itdo-erp/backend',
        tag: 'v1.4.2',
        digest: `sha256:${'b'.repeat(64)}`,
      },
      { digest: `sha256:${'a'.repeat(64)}`, execution: undefined },
      stages,
    );

    expect(stages).toEqual(['staging', 'production']);
    expect(message).toBe(
      `refused: itdo-erp/backend:v1.4.2 was released as sha256:${'a'.repeat(64)} and is now pushed as sha256:${'b'.repeat(64)}; ` +
        'stages staging, production deploy by tag alone (pinDigest: false), so the new image would run unapproved. ' +
        'Enable tag immutability on the ECR repository itdo-erp/backend (or set pinDigest: true), and push a new tag.',
    );
  });
});
