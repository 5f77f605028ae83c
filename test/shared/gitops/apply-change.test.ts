import { describe, expect, it } from 'vitest';
import { InvalidGitOpsPathError, normalisePath } from '../../../shared/gitops/apply-change.js';

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
