import { describe, expect, it } from 'vitest';
import { isRepositoryUrl, repositoryOfUrl } from '../../../shared/domain/repo-url.js';

const REPOSITORY = 'itdo-erp/itdo-erp-infrastructure';

describe('isRepositoryUrl', () => {
  it.each([
    'https://github.com/itdo-erp/itdo-erp-infrastructure',
    'https://github.com/itdo-erp/itdo-erp-infrastructure.git',
    'https://github.com/itdo-erp/itdo-erp-infrastructure/',
    'https://github.com/itdo-erp/itdo-erp-infrastructure.git/',
    'https://GitHub.com/ITDO-ERP/ITDO-ERP-Infrastructure.git',
    'https://deploy-bot@github.com/itdo-erp/itdo-erp-infrastructure.git',
    'git@github.com:itdo-erp/itdo-erp-infrastructure.git',
    'git@github.com:itdo-erp/itdo-erp-infrastructure',
    'ssh://git@github.com/itdo-erp/itdo-erp-infrastructure.git',
    'ssh://git@github.example.com:2222/itdo-erp/itdo-erp-infrastructure.git',
    'https://github.example.com/itdo-erp/itdo-erp-infrastructure.git',
    'git@github.example.com:itdo-erp/itdo-erp-infrastructure.git',
  ])('matches %s', (url) => {
    expect(isRepositoryUrl(url, REPOSITORY)).toBe(true);
  });

  it.each([
    'https://github.com/itdo-erp/itdo-erp-infrastructure-old.git',
    'https://github.com/other-org/itdo-erp-infrastructure.git',
    'https://gitlab.com/group/itdo-erp/itdo-erp-infrastructure.git',
    'https://charts.bitnami.com/bitnami',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com/charts',
    'itdo-erp/itdo-erp-infrastructure',
    '',
  ])('does not match %s', (url) => {
    expect(isRepositoryUrl(url, REPOSITORY)).toBe(false);
  });

  it('accepts the repository spelled with .git or in another case', () => {
    expect(
      isRepositoryUrl(
        'git@github.com:itdo-erp/itdo-erp-infrastructure.git',
        'ITDO-ERP/itdo-erp-infrastructure.git',
      ),
    ).toBe(true);
  });
});

describe('repositoryOfUrl', () => {
  it('gives owner/name in lower case, or undefined for something that is not a repository path', () => {
    expect(repositoryOfUrl('git@github.com:ITDO-ERP/Backend.git')).toBe('itdo-erp/backend');
    expect(repositoryOfUrl('https://charts.bitnami.com/bitnami')).toBeUndefined();
    expect(repositoryOfUrl('not a url')).toBeUndefined();
  });
});
