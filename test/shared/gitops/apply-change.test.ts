import { describe, expect, it } from 'vitest';
import {
  applyChange,
  InvalidGitOpsPathError,
  normalisePath,
  OlderReleaseError,
} from '../../../shared/gitops/apply-change.js';
import { imageRequest } from './support.js';

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
