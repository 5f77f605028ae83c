import { describe, expect, it } from 'vitest';
import type { SecretSelection } from '../../../shared/config/schema.js';
import {
  globToRegExp,
  iamSecretNamePattern,
  listQuery,
  mayContain,
  nameFromSecretId,
  selectionFor,
  selects,
  stageForFile,
  syncTargets,
} from '../../../shared/domain/secret-selection.js';

const store = { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' } as const;
const entry = (overrides: Partial<SecretSelection>): SecretSelection => ({
  file: 'environments/production/external-secrets.yaml',
  secretStore: store,
  refreshInterval: '1h',
  ...overrides,
});
const stages = [
  { name: 'staging', file: 'environments/staging/kustomization.yaml' },
  { name: 'production', file: 'environments/production/kustomization.yaml' },
];

describe('globToRegExp', () => {
  it('lets * match any run of characters, slashes included, and nothing else be special', () => {
    const re = globToRegExp('itdo-erp/production/*');

    expect(re.test('itdo-erp/production/database')).toBe(true);
    expect(re.test('itdo-erp/production/nested/key')).toBe(true);
    expect(re.test('itdo-erp/production/')).toBe(true);
    expect(re.test('itdo-erp/staging/database')).toBe(false);
    expect(globToRegExp('a.b+c').test('a.b+c')).toBe(true);
    expect(globToRegExp('a.b+c').test('aXb+c')).toBe(false);
    expect(globToRegExp('*/db').test('prod/db')).toBe(true);
  });
});

describe('selects', () => {
  const secret = (name: string, tags: Record<string, string> = {}) => ({ name, tags });

  it('takes a secret whose name matches the glob', () => {
    expect(selects(entry({ match: 'itdo-erp/production/*' }), secret('itdo-erp/production/db'))).toBe(true);
    expect(selects(entry({ match: 'itdo-erp/production/*' }), secret('itdo-erp/staging/db'))).toBe(false);
  });

  it('takes a secret carrying every configured tag', () => {
    const byTags = entry({ tags: { environment: 'production', namespace: 'itdo-erp' } });

    expect(
      selects(
        byTags,
        secret('any', { 'shiplane:environment': 'production', 'shiplane:namespace': 'itdo-erp' }),
      ),
    ).toBe(true);
    expect(selects(byTags, secret('any', { 'shiplane:environment': 'production' }))).toBe(false);
    expect(
      selects(
        byTags,
        secret('any', { 'shiplane:environment': 'Production', 'shiplane:namespace': 'itdo-erp' }),
      ),
    ).toBe(false);
  });

  it('needs both the name and the tags when both are set', () => {
    const both = entry({ match: 'itdo-erp/*', tags: { environment: 'production' } });

    expect(selects(both, secret('itdo-erp/db', { 'shiplane:environment': 'production' }))).toBe(true);
    expect(selects(both, secret('itdo-erp/db', { 'shiplane:environment': 'staging' }))).toBe(false);
    expect(selects(both, secret('other/db', { 'shiplane:environment': 'production' }))).toBe(false);
  });
});

describe('mayContain', () => {
  it('rules a secret out by name only when the entry has a glob', () => {
    expect(mayContain(entry({ match: 'itdo-erp/production/*' }), 'itdo-erp/production/db')).toBe(true);
    expect(mayContain(entry({ match: 'itdo-erp/production/*' }), 'billing/db')).toBe(false);
    expect(mayContain(entry({ tags: { environment: 'production' } }), 'billing/db')).toBe(true);
  });
});

describe('listQuery', () => {
  it('filters by the glob prefix and the required tags', () => {
    expect(listQuery(entry({ match: 'itdo-erp/production/*', tags: { namespace: 'itdo-erp' } }))).toEqual({
      namePrefix: 'itdo-erp/production/',
      tags: [{ key: 'shiplane:namespace', value: 'itdo-erp' }],
    });
  });

  it('has no name prefix for a glob that starts with *', () => {
    expect(listQuery(entry({ match: '*/production/db' }))).toEqual({ tags: [] });
  });
});

describe('stageForFile', () => {
  it('names the stage whose file lives in the same directory', () => {
    expect(stageForFile('environments/production/external-secrets.yaml', stages)).toBe('production');
  });

  it('falls back to the directory name, then the file name', () => {
    expect(stageForFile('environments/dev/external-secrets.yaml', stages)).toBe('dev');
    expect(stageForFile('external-secrets.yaml', stages)).toBe('external-secrets');
  });
});

describe('syncTargets', () => {
  const gitops = { repository: 'itdo-erp/itdo-erp-infrastructure', branch: 'main' };

  it('groups entries by file, keeping config order', () => {
    const secrets = [
      entry({ match: 'itdo-erp/production/*' }),
      entry({ match: 'itdo-erp/staging/*', file: 'environments/staging/external-secrets.yaml' }),
      entry({ tags: { environment: 'production' } }),
    ];

    const targets = syncTargets({ gitops, stages, secrets });

    expect(targets).toEqual([
      {
        ...gitops,
        file: 'environments/production/external-secrets.yaml',
        stage: 'production',
        selections: [secrets[0], secrets[2]],
      },
      {
        ...gitops,
        file: 'environments/staging/external-secrets.yaml',
        stage: 'staging',
        selections: [secrets[1]],
      },
    ]);
  });

  it('writes a file to the repository and branch its entries name, apart from the same path elsewhere', () => {
    const production = { repository: 'itdo-erp/itdo-erp-production', branch: 'release' };
    const secrets = [
      entry({ match: 'itdo-erp/production/*', ...production }),
      entry({ match: 'itdo-erp/shared/*' }),
    ];

    const targets = syncTargets({ gitops, stages, secrets });

    expect(
      targets.map(({ repository, branch, file, selections }) => [repository, branch, file, selections]),
    ).toEqual([
      [
        'itdo-erp/itdo-erp-production',
        'release',
        'environments/production/external-secrets.yaml',
        [secrets[0]],
      ],
      [
        'itdo-erp/itdo-erp-infrastructure',
        'main',
        'environments/production/external-secrets.yaml',
        [secrets[1]],
      ],
    ]);
  });

  it('lets the first matching entry of a file own a secret', () => {
    const first = entry({ match: 'itdo-erp/*', refreshInterval: '5m' });
    const second = entry({ tags: { environment: 'production' }, refreshInterval: '1h' });
    const [target] = syncTargets({ gitops, stages, secrets: [first, second] });

    expect(
      selectionFor(target!, { name: 'itdo-erp/db', tags: { 'shiplane:environment': 'production' } }),
    ).toBe(first);
    expect(selectionFor(target!, { name: 'other', tags: { 'shiplane:environment': 'production' } })).toBe(
      second,
    );
    expect(selectionFor(target!, { name: 'other', tags: {} })).toBeUndefined();
  });
});

describe('nameFromSecretId', () => {
  it.each([
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp/production/database-Xk3pQ9',
      'itdo-erp/production/database',
    ],
    ['arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-a1b2c3', 'db'],
    ['itdo-erp/production/database', 'itdo-erp/production/database'],
    ['itdo-erp/production/db-Xk3pQ9', 'itdo-erp/production/db-Xk3pQ9'],
  ])('reads %s as %s', (secretId, name) => {
    expect(nameFromSecretId(secretId)).toBe(name);
  });
});

describe('iamSecretNamePattern', () => {
  it('adds the random ARN suffix unless the glob ends in *', () => {
    expect(iamSecretNamePattern(entry({ match: 'itdo-erp/production/*' }))).toBe('itdo-erp/production/*');
    expect(iamSecretNamePattern(entry({ match: 'itdo-erp/production/db' }))).toBe(
      'itdo-erp/production/db-??????',
    );
    expect(iamSecretNamePattern(entry({ tags: { environment: 'production' } }))).toBeUndefined();
  });
});
