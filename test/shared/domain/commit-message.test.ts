import { describe, expect, it } from 'vitest';
import type { CommitChange, Release } from '../../../shared/contracts/tasks.js';
import { commitMessage, describeChange } from '../../../shared/domain/commit-message.js';

const release = (app: string, tag: string, hex: string): Release => ({
  app,
  ecrRepository: `itdo-erp/${app}`,
  image: `itdo-erp/${app}`,
  tag,
  digest: `sha256:${hex.repeat(64)}`,
  registryId: '123456789012',
  region: 'eu-west-1',
  pushedAt: '2025-01-15T09:30:00Z',
});

const image = (app: string, tag: string, hex: string, stage = 'staging'): CommitChange => ({
  kind: 'image',
  stage,
  file: `environments/${stage}/kustomization.yaml`,
  release: release(app, tag, hex),
  pinDigest: false,
  createIfMissing: false,
});

const secrets: CommitChange = {
  kind: 'file',
  stage: 'production',
  file: 'environments/production/external-secrets.yaml',
  content: 'kind: ExternalSecret\n',
  summary: 'Sync external secrets for production (2 changed)',
};

describe('commitMessage', () => {
  it('says what one promotion does, with its execution and digest as trailers', () => {
    const message = commitMessage([
      { change: image('backend', 'v2.1.6', 'a'), execution: 'backend-v2.1.6-aaaaaaaaaaaa' },
    ]);

    expect(message).toBe(
      [
        'Promote backend v2.1.6 to staging',
        '',
        'Shiplane-Execution: backend-v2.1.6-aaaaaaaaaaaa',
        `Image-Digest: sha256:${'a'.repeat(64)}`,
        '',
      ].join('\n'),
    );
  });

  it('summarises several changes and lists one line and one set of trailers per change', () => {
    const message = commitMessage([
      { change: image('backend', 'v2.1.6', 'a'), execution: 'exec-1' },
      { change: image('frontend', 'v1.8.3', 'b'), execution: 'exec-2' },
      { change: secrets },
    ]);

    expect(message).toBe(
      [
        'Promote 2 images to staging, sync 1 file for production',
        '',
        '- Promote backend v2.1.6 to staging',
        '- Promote frontend v1.8.3 to staging',
        '- Sync external secrets for production (2 changed)',
        '',
        'Shiplane-Execution: exec-1',
        `Image-Digest: sha256:${'a'.repeat(64)}`,
        'Shiplane-Execution: exec-2',
        `Image-Digest: sha256:${'b'.repeat(64)}`,
        '',
      ].join('\n'),
    );
  });

  it('names every stage a batch promotes to', () => {
    const message = commitMessage([
      { change: image('backend', 'v2.1.6', 'a') },
      { change: image('frontend', 'v1.8.3', 'b', 'production') },
    ]);

    expect(message.split('\n')[0]).toBe('Promote 2 images to staging and production');
  });

  it("uses a file change's own summary when it is alone, without trailers when no run waits", () => {
    expect(commitMessage([{ change: secrets }])).toBe('Sync external secrets for production (2 changed)\n');
  });

  it('describes an image change by app, tag and stage', () => {
    expect(describeChange(image('backend', 'v2.1.6', 'a', 'production'))).toBe(
      'Promote backend v2.1.6 to production',
    );
  });

  it('refuses an empty batch', () => {
    expect(() => commitMessage([])).toThrow('a commit needs at least one change');
  });
});

describe('commitMessage for a rollback', () => {
  const rollback = (pinDigest: boolean): CommitChange => ({
    kind: 'image',
    stage: 'staging',
    file: 'environments/staging/kustomization.yaml',
    release: release('backend', 'v2.1.5', '5'),
    pinDigest,
    createIfMissing: false,
    rollback: {
      of: 'backend-v2.1.7-bad-bbbbbbbbbbbb',
      fromTag: 'v2.1.7-bad',
      fromDigest: `sha256:${'b'.repeat(64)}`,
      reason: 'staging is Degraded at abc:\nDeployment "backend" exceeded its progress deadline',
    },
  });

  it('names the versions, the run and the one-line reason, and the digest it restores only when pinned', () => {
    const message = commitMessage([{ change: rollback(true), execution: 'backend-v2.1.7-bad-bbbbbbbbbbbb' }]);

    expect(message).toBe(
      [
        'Roll back backend v2.1.7-bad → v2.1.5 in staging',
        '',
        'Shiplane-Execution: backend-v2.1.7-bad-bbbbbbbbbbbb',
        'Shiplane-Rollback-Of: backend-v2.1.7-bad-bbbbbbbbbbbb',
        'Shiplane-Rollback-Reason: staging is Degraded at abc: Deployment "backend" exceeded its progress deadline',
        `Rolled-Back-Digest: sha256:${'b'.repeat(64)}`,
        `Image-Digest: sha256:${'5'.repeat(64)}`,
        '',
      ].join('\n'),
    );
    expect(commitMessage([{ change: rollback(false) }])).not.toContain('Image-Digest');
  });

  it('summarises a rollback next to promotions', () => {
    const message = commitMessage([
      { change: rollback(false) },
      { change: image('frontend', 'v1.8.3', 'f', 'production') },
    ]);

    expect(message.split('\n').slice(0, 4)).toEqual([
      'Roll back 1 image in staging, promote 1 image to production',
      '',
      '- Roll back backend v2.1.7-bad → v2.1.5 in staging',
      '- Promote frontend v1.8.3 to production',
    ]);
  });
});

describe('commitMessage for a manual rollback (shiplane rollback)', () => {
  const manual = (from: { tag: string; digest?: string } | null, pinDigest = true): CommitChange => ({
    kind: 'image',
    stage: 'production',
    file: 'environments/production/kustomization.yaml',
    release: release('backend', 'v2.1.5', '5'),
    pinDigest,
    createIfMissing: false,
    manualRollback: {
      stage: 'production',
      from,
      reason: 'checkout errors\nsince the last release',
      by: 'arn:aws:iam::123456789012:user/aiko',
    },
  });

  it('names both tags, marks it manual, and says why, who asked and which digest it took out', () => {
    const message = commitMessage([
      {
        change: manual({ tag: 'v2.1.6', digest: `sha256:${'6'.repeat(64)}` }),
        execution: 'backend-production-rollback-v2.1.5-1',
      },
    ]);

    expect(message).toBe(
      [
        'Roll back backend v2.1.6 → v2.1.5 in production',
        '',
        'Shiplane-Execution: backend-production-rollback-v2.1.5-1',
        'Shiplane-Rollback: manual',
        'Shiplane-Rollback-Reason: checkout errors since the last release',
        'Shiplane-Rollback-By: arn:aws:iam::123456789012:user/aiko',
        `Rolled-Back-Digest: sha256:${'6'.repeat(64)}`,
        `Image-Digest: sha256:${'5'.repeat(64)}`,
        '',
      ].join('\n'),
    );
  });

  it('says "to" when Shiplane had no record of what the stage ran, and counts it as a rollback among others', () => {
    expect(describeChange(manual(null))).toBe('Roll back backend to v2.1.5 in production');
    const message = commitMessage([
      { change: manual(null, false) },
      { change: image('frontend', 'v1.8.3', 'f', 'staging') },
    ]);
    expect(message.split('\n')[0]).toBe('Roll back 1 image in production, promote 1 image to staging');
    expect(message).not.toContain('Image-Digest: sha256:5');
  });
});
