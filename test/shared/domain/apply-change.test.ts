import { describe, expect, it } from 'vitest';
import {
  applyChange,
  InvalidGitOpsPathError,
  normalisePath,
  OlderReleaseError,
  RollbackRefusedError,
  RollbackSupersededError,
} from '../../../shared/domain/apply-change.js';
import { imageRequest, manualRollbackRequest, rollbackRequest } from '../steps/commit/support.js';

describe('normalisePath', () => {
  it('normalises a relative path inside the repository', () => {
    expect(normalisePath('./environments//production/./kustomization.yaml')).toBe(
      'environments/production/kustomization.yaml',
    );
    expect(normalisePath('.github/workflows/ci.yaml')).toBe('.github/workflows/ci.yaml');
    expect(normalisePath('a/.gitignore')).toBe('a/.gitignore');
  });

  it.each([
    ['a parent segment', '../outside.yaml'],
    ['a parent segment that climbs out later', 'environments/../../outside.yaml'],
    ['an absolute path', '/etc/passwd'],
    ['nothing but dots and slashes', './/.'],
  ])('refuses %s', (_, path) => {
    expect(() => normalisePath(path)).toThrow(InvalidGitOpsPathError);
  });

  it.each([
    ['the .git directory', '.git/config'],
    ['a nested .git directory in another case', 'environments/.GIT/hooks/post-checkout'],
    ['a .git with the trailing dot and space Windows drops', 'environments/.git. /config'],
    ['a Windows separator that climbs out', 'environments\\..\\..\\outside.yaml'],
    ['a control character', 'environments/production\u0000.yaml'],
  ])('refuses %s, which git would refuse or a checkout could misread', (_, path) => {
    expect(() => normalisePath(path)).toThrow(
      new InvalidGitOpsPathError(
        path,
        `${path} is not a path inside the repository; use a relative path like environments/staging/kustomization.yaml`,
      ),
    );
  });
});

describe('applyChange', () => {
  const kustomization = `images:
  - name: itdo-erp/backend
    newTag: v2.1.7
`;

  it('refuses to move a stage back to an older release, naming both tags', () => {
    const { change } = imageRequest('backend', 'v2.1.6', { stage: 'production' });

    expect(() => applyChange(kustomization, change)).toThrow(
      new OlderReleaseError(
        change.file,
        'environments/production/kustomization.yaml already pins itdo-erp/backend v2.1.7, newer than v2.1.6; Shiplane does not move production back to an older release (to roll back, revert the commit in the GitOps repository)',
        'v2.1.7',
      ),
    );
    expect(() => applyChange(kustomization, change)).toThrow(expect.objectContaining({ newerTag: 'v2.1.7' }));
  });

  it('moves a stage forward, to a suffix of the same version, and to a tag it cannot order', () => {
    for (const tag of ['v2.1.8', 'v2.1.7', 'v2.1.7-hotfix1', 'hotfix-1']) {
      const { change } = imageRequest('backend', tag, { stage: 'production' });
      expect(applyChange(kustomization, change).content).toContain(`newTag: ${tag}`);
    }
  });
});

describe('applyChange with a rollback', () => {
  const PREVIOUS = `sha256:${'5'.repeat(64)}`;
  /** A staging file as a person keeps it: comments, quoting and a digest the stage pins. */
  const before = `images:
  # API server (Go)
  - name: itdo-erp/backend
    newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend
    newTag: v2.1.5 # promoted 2025-01-14
    digest: ${PREVIOUS}
  - name: itdo-erp/frontend
    newTag: "v1.8.2"
`;
  const bad = imageRequest('backend', 'v2.1.7-bad', { hex: 'b', pinDigest: true });
  const promoted = applyChange(before, bad.change).content ?? '';

  it('puts back the tag and digest the stage pinned before the run, byte for byte', () => {
    const rollback = rollbackRequest(bad, { tag: 'v2.1.5', digest: PREVIOUS });

    const result = applyChange(promoted, rollback.change);

    expect(result).toEqual({
      status: 'changed',
      content: before,
      previousTag: 'v2.1.7-bad',
      previousDigest: bad.change.kind === 'image' ? bad.change.release.digest : null,
    });
  });

  it('restores a tag-only entry without the digest the run added', () => {
    const tagOnly = before.replace(`    digest: ${PREVIOUS}\n`, '');
    const rollback = rollbackRequest(bad, { tag: 'v2.1.5' });

    const result = applyChange(applyChange(tagOnly, bad.change).content, rollback.change);

    expect(result.content).toBe(tagOnly);
  });

  it('is unchanged when the stage is already back on the earlier entry (a redelivered rollback)', () => {
    const rollback = rollbackRequest(bad, { tag: 'v2.1.5', digest: PREVIOUS });

    expect(applyChange(before, rollback.change)).toMatchObject({ status: 'unchanged', content: before });
  });

  it('refuses to roll back over a newer release, naming it, as a superseded change', () => {
    const newer = applyChange(
      promoted,
      imageRequest('backend', 'v2.1.8', { hex: 'c', pinDigest: true }).change,
    );
    const rollback = rollbackRequest(bad, { tag: 'v2.1.5', digest: PREVIOUS });

    const refuse = () => applyChange(newer.content, rollback.change);

    expect(refuse).toThrow(RollbackSupersededError);
    expect(refuse).toThrow(OlderReleaseError);
    expect(refuse).toThrow(expect.objectContaining({ newerTag: 'v2.1.8' }));
    expect(refuse).toThrow(
      `environments/staging/kustomization.yaml pins itdo-erp/backend v2.1.8@sha256:${'c'.repeat(64)}, not v2.1.7-bad@sha256:${'b'.repeat(64)} of run backend-v2.1.7-bad-bbbbbbbbbbbb; a newer release replaced it, so staging is not rolled back to v2.1.5`,
    );
  });

  it('refuses a forged rollback of an entry the run did not write: another tag, or its tag with another digest', () => {
    const revert = before.replace('v2.1.5 #', 'v2.1.4 #');
    const sameTagOtherImage = promoted.replace('b'.repeat(64), 'e'.repeat(64));
    const rollback = rollbackRequest(bad, { tag: 'v2.1.5', digest: PREVIOUS });

    for (const content of [revert, sameTagOtherImage]) {
      expect(() => applyChange(content, rollback.change)).toThrow(RollbackRefusedError);
    }
    expect(() => applyChange(revert, rollback.change)).toThrow(
      /pins itdo-erp\/backend v2\.1\.4@sha256:5{64}, not v2\.1\.7-bad@sha256:b{64} of run backend-v2\.1\.7-bad-bbbbbbbbbbbb; Shiplane rolls back only the entry a run wrote/,
    );
  });

  it('still refuses a promotion to an older version: only a rollback may move back', () => {
    const { change } = imageRequest('backend', 'v2.1.5', { hex: '5', pinDigest: true });

    expect(() => applyChange(promoted, change)).toThrow(OlderReleaseError);
  });
});

describe('applyChange with a manual rollback (shiplane rollback)', () => {
  const bad = `images:
  # API server (Go)
  - name: itdo-erp/backend
    newTag: v2.1.7-bad # promoted 2025-01-15
    digest: sha256:${'b'.repeat(64)}
  - name: itdo-erp/frontend
    newTag: "v1.8.2"
`;

  it('moves the stage back to the tag and digest its run was started with, keeping every other byte', () => {
    const { request } = manualRollbackRequest('backend', 'v2.1.5', { hex: '5', pinDigest: true });

    const result = applyChange(bad, request.change);

    expect(result).toEqual({
      status: 'changed',
      content: bad.replace('v2.1.7-bad #', 'v2.1.5 #').replace('b'.repeat(64), '5'.repeat(64)),
      previousTag: 'v2.1.7-bad',
      previousDigest: `sha256:${'b'.repeat(64)}`,
    });
  });

  it('moves back from a stage whose entry Shiplane had no record of, and from an older one a person put there', () => {
    const { request: unknownFrom } = manualRollbackRequest('backend', 'v2.1.5', { from: null });
    const reverted = bad.replace('v2.1.7-bad #', 'v2.1.4 #');
    const { request } = manualRollbackRequest('backend', 'v2.1.5');

    expect(applyChange(bad, unknownFrom.change).content).toContain('newTag: v2.1.5 #');
    expect(applyChange(reverted, request.change).content).toContain('newTag: v2.1.5 #');
  });

  it('is superseded when a newer release reached the stage after the rollback was asked', () => {
    const newer = bad.replace('v2.1.7-bad #', 'v2.1.8 #');
    const { request } = manualRollbackRequest('backend', 'v2.1.5');

    const refuse = () => applyChange(newer, request.change);

    expect(refuse).toThrow(RollbackSupersededError);
    expect(refuse).toThrow(expect.objectContaining({ newerTag: 'v2.1.8' }));
    expect(refuse).toThrow(
      `environments/staging/kustomization.yaml pins itdo-erp/backend v2.1.8@sha256:${'b'.repeat(64)}, newer than v2.1.7-bad the rollback was asked to replace; a newer release reached staging since, so it is not rolled back to v2.1.5`,
    );
  });

  it('is unchanged when the stage already runs the tag (a redelivered message)', () => {
    const { request } = manualRollbackRequest('backend', 'v2.1.5');
    const back = bad
      .replace('v2.1.7-bad #', 'v2.1.5 #')
      .replace(`    digest: sha256:${'b'.repeat(64)}\n`, '');

    expect(applyChange(back, request.change)).toMatchObject({ status: 'unchanged', content: back });
  });

  it('refuses a manual rollback of another stage than the change writes, and one also marked as an automatic rollback', () => {
    const { request } = manualRollbackRequest('backend', 'v2.1.5');
    if (request.change.kind !== 'image') throw new Error('image change');
    const otherStage = {
      ...request.change,
      manualRollback: { ...request.change.manualRollback!, stage: 'production' },
    };
    const both = {
      ...request.change,
      rollback: {
        of: request.execution ?? '',
        fromTag: 'v2.1.7-bad',
        fromDigest: `sha256:${'b'.repeat(64)}`,
        reason: 'x',
      },
    };

    expect(() => applyChange(bad, otherStage)).toThrow(
      'a manual rollback of production cannot change staging',
    );
    expect(() => applyChange(bad, both)).toThrow(RollbackRefusedError);
  });
});
