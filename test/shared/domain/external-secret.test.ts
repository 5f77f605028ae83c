import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  type ExternalSecretSource,
  externalSecretName,
  FILE_HEADER,
  plainSecretKey,
  renderExternalSecret,
  renderExternalSecretsFile,
} from '../../../shared/domain/external-secret.js';

const store = { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' } as const;

const database: ExternalSecretSource = {
  secretName: 'itdo-erp/production/database',
  versionId: '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d',
  shape: { kind: 'json', keys: ['username', 'password', 'host', 'port'] },
  secretStore: store,
  refreshInterval: '1h',
};
const stripe: ExternalSecretSource = {
  secretName: 'itdo-erp/production/stripe-api-key',
  versionId: '0f1e2d3c-4b5a-4687-9a8b-7c6d5e4f3a2b',
  shape: { kind: 'plain' },
  secretStore: store,
  refreshInterval: '30m',
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('renderExternalSecret', () => {
  it('extracts a JSON secret whole by default, so no key name reaches the manifest', () => {
    // Act
    const manifest = renderExternalSecret(database);

    // Assess
    expect(manifest).toEqual({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: {
        name: 'itdo-erp-production-database',
        labels: { 'app.kubernetes.io/managed-by': 'shiplane' },
        annotations: {
          'force-sync': '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d',
          'shiplane.io/secret-name': 'itdo-erp/production/database',
        },
      },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
        target: { name: 'itdo-erp-production-database', creationPolicy: 'Owner' },
        dataFrom: [{ extract: { key: 'itdo-erp/production/database' } }],
      },
    });
    expect(JSON.stringify(manifest)).not.toMatch(/username|password|host|port/);
  });

  it('lists only the configured keys the secret has, sorted, with the secret name as remote key', () => {
    const manifest = renderExternalSecret({ ...database, keys: ['username', 'password', 'replica'] });

    expect(manifest.spec).not.toHaveProperty('dataFrom');
    expect(manifest.spec.data).toEqual([
      { secretKey: 'password', remoteRef: { key: 'itdo-erp/production/database', property: 'password' } },
      { secretKey: 'username', remoteRef: { key: 'itdo-erp/production/database', property: 'username' } },
    ]);
    expect(JSON.stringify(manifest)).not.toMatch(/host|port|replica/);
  });

  it('renders a plain secret as one entry without property, keyed by the last name segment', () => {
    const manifest = renderExternalSecret(stripe);

    expect(manifest.spec.data).toEqual([
      { secretKey: 'stripe-api-key', remoteRef: { key: 'itdo-erp/production/stripe-api-key' } },
    ]);
    expect(manifest.spec.refreshInterval).toBe('30m');
  });

  it('treats a JSON object without keys like a plain secret', () => {
    const manifest = renderExternalSecret({ ...database, shape: { kind: 'json', keys: [] } });

    expect(manifest.spec.data).toEqual([
      { secretKey: 'database', remoteRef: { key: 'itdo-erp/production/database' } },
    ]);
  });

  it('puts the ExternalSecret in the namespace the secret is tagged with', () => {
    expect(renderExternalSecret({ ...database, namespace: 'itdo-erp' }).metadata.namespace).toBe('itdo-erp');
    expect(renderExternalSecret(database).metadata).not.toHaveProperty('namespace');
  });

  it('keeps the JSON key as property but makes a valid Secret key of it', () => {
    const jsonKeys = ['db password', 'db.user', 'DB_HOST', 'db_password'];
    const manifest = renderExternalSecret({
      ...database,
      shape: { kind: 'json', keys: jsonKeys },
      keys: jsonKeys,
    });

    const data = manifest.spec.data ?? [];
    const keys = data.map((entry) => entry.secretKey);
    expect(data.map((entry) => entry.remoteRef.property)).toEqual([
      'DB_HOST',
      'db password',
      'db.user',
      'db_password',
    ]);
    for (const key of keys) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    // "db password" and "db_password" would meet as db_password: both get a distinct hash.
    expect(new Set(keys).size).toBe(4);
    expect(keys).toContain('DB_HOST');
    expect(keys).toContain('db.user');
  });

  it('renders the same data whatever order the JSON keys and the configured keys came in', () => {
    const listed = { ...database, keys: ['host', 'port', 'username'] };
    const reordered = {
      ...database,
      shape: { kind: 'json', keys: ['port', 'host', 'username', 'password'] },
      keys: ['username', 'port', 'host'],
    } as const;

    expect(renderExternalSecret(reordered)).toEqual(renderExternalSecret(listed));
  });
});

describe('externalSecretName', () => {
  it.each([
    ['itdo-erp/production/database', 'itdo-erp-production-database'],
    ['ITDO_ERP/Production/Stripe API Key', 'itdo-erp-production-stripe-api-key'],
    ['/leading/and/trailing/', 'leading-and-trailing'],
    ['a+b=c.d@e', 'a-b-c-d-e'],
  ])('turns %s into the DNS label %s', (secretName, expected) => {
    expect(externalSecretName(secretName)).toBe(expected);
  });

  it('cuts a long name to 63 characters with a hash of the full name, stable and distinct', () => {
    const long = `itdo-erp/production/${'very-long-segment/'.repeat(6)}database`;
    const other = `itdo-erp/production/${'very-long-segment/'.repeat(6)}databasf`;

    const name = externalSecretName(long);

    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_LABEL);
    expect(name).toMatch(/^itdo-erp-production-very-long-segment-.*-[0-9a-f]{8}$/);
    expect(externalSecretName(long)).toBe(name);
    expect(externalSecretName(other)).not.toBe(name);
  });

  it('names a secret made only of punctuation by its hash', () => {
    expect(externalSecretName('//__//')).toMatch(/^[0-9a-f]{8}$/);
  });

  it('always yields a DNS-1123 label', () => {
    for (const secretName of ['a', 'A-', '-x-', 'x'.repeat(300), 'prod/db@1', '1/2/3']) {
      const name = externalSecretName(secretName);
      expect(name).toMatch(DNS_LABEL);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });
});

describe('plainSecretKey', () => {
  it('uses the last segment of the name, made valid', () => {
    expect(plainSecretKey('itdo-erp/production/tls-cert')).toBe('tls-cert');
    expect(plainSecretKey('stripe key')).toBe('stripe_key');
    expect(plainSecretKey('itdo-erp/')).toBe('itdo-erp');
  });
});

describe('renderExternalSecretsFile', () => {
  it('writes a header and one document per secret, sorted by name', () => {
    const text = renderExternalSecretsFile([stripe, database]);

    expect(text.startsWith(`${FILE_HEADER}\n---\n`)).toBe(true);
    const documents = parseAllDocuments(text).map((document) => document.toJS());
    expect(documents.map((document) => document.metadata.name)).toEqual([
      'itdo-erp-production-database',
      'itdo-erp-production-stripe-api-key',
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('is byte-identical for the same secrets in any order', () => {
    const a = renderExternalSecretsFile([database, stripe]);
    const b = renderExternalSecretsFile([
      stripe,
      { ...database, shape: { kind: 'json', keys: ['port', 'username', 'host', 'password'] } },
    ]);

    expect(b).toBe(a);
  });

  it('changes only the force-sync annotation when a secret gets a new version', () => {
    const before = renderExternalSecretsFile([database, stripe]);
    const after = renderExternalSecretsFile([
      { ...database, versionId: 'b1c2d3e4-0000-4000-8000-000000000001' },
      stripe,
    ]);

    const changed = after.split('\n').filter((line, index) => line !== before.split('\n')[index]);
    expect(changed).toEqual(['    force-sync: b1c2d3e4-0000-4000-8000-000000000001']);
  });

  it('leaves out a JSON secret that has none of the configured keys', () => {
    const text = renderExternalSecretsFile([{ ...database, keys: ['api-token'] }, stripe]);

    const names = parseAllDocuments(text).map((document) => document.toJS().metadata.name);
    expect(names).toEqual(['itdo-erp-production-stripe-api-key']);
  });

  it('is the header alone when no secret is selected', () => {
    expect(renderExternalSecretsFile([])).toBe(`${FILE_HEADER}\n`);
    expect(
      parseAllDocuments(renderExternalSecretsFile([])).every((document) => document.contents === null),
    ).toBe(true);
  });

  it('gives two secrets that sanitise to the same name distinct hashed names', () => {
    const slash = { ...stripe, secretName: 'itdo-erp/api' };
    const dash = { ...stripe, secretName: 'itdo-erp-api' };

    const names = parseAllDocuments(renderExternalSecretsFile([slash, dash])).map(
      (document) => document.toJS().metadata.name as string,
    );

    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name).toMatch(/^itdo-erp-api-[0-9a-f]{8}$/);
  });

  it('keeps same-named secrets apart only within a namespace', () => {
    const text = renderExternalSecretsFile([
      { ...stripe, secretName: 'team-a/api', namespace: 'a' },
      { ...stripe, secretName: 'team-a-api', namespace: 'b' },
    ]);

    const names = parseAllDocuments(text).map((document) => document.toJS().metadata.name);
    expect(names).toEqual(['team-a-api', 'team-a-api']);
  });

  it('quotes key names YAML would otherwise read as other types', () => {
    const text = renderExternalSecretsFile([
      {
        ...database,
        shape: { kind: 'json', keys: ['true', '8080', 'null'] },
        keys: ['true', '8080', 'null'],
      },
    ]);

    const data = parseAllDocuments(text)[0]?.toJS().spec.data as Array<{ secretKey: unknown }>;
    expect(data.map((entry) => entry.secretKey)).toEqual(['8080', 'null', 'true']);
  });
});
