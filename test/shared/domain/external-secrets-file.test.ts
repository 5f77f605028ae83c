import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configuredChanges } from '../../../shared/domain/allowed-changes.js';
import {
  type ExternalSecretSource,
  FILE_HEADER,
  renderExternalSecret,
  renderExternalSecretsFile,
} from '../../../shared/domain/external-secret.js';
import { refuseSecretsFile } from '../../../shared/domain/external-secrets-file.js';

const FILE = 'environments/production/external-secrets.yaml';
const STORE = { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' } as const;

const source = (secretName: string, overrides: Partial<ExternalSecretSource> = {}): ExternalSecretSource => ({
  secretName,
  versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  shape: { kind: 'json', keys: ['username', 'password'] },
  secretStore: STORE,
  refreshInterval: '1h',
  ...overrides,
});

const rendered = renderExternalSecretsFile([
  source('itdo-erp/production/database', { namespace: 'itdo-erp' }),
  source('itdo-erp/production/stripe', { shape: { kind: 'plain' } }),
]);

/** The file with one manifest changed as `edit` says. */
// biome-ignore lint/suspicious/noExplicitAny: tests reshape the manifest freely, as an attacker would.
type Manifest = Record<string, any>;

function withManifest(edit: (manifest: Manifest) => void): string {
  const manifest = renderExternalSecret(source('itdo-erp/production/database')) as unknown as Manifest;
  edit(manifest);
  return `${FILE_HEADER}\n---\n${stringify(manifest)}`;
}

const CLUSTER_ROLE_BINDING = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: shiplane-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: default
    namespace: default
`;

describe('refuseSecretsFile', () => {
  it('accepts what secret sync renders: data entries, a namespace, the header alone', () => {
    expect(refuseSecretsFile(FILE, rendered, [STORE])).toBeUndefined();
    expect(refuseSecretsFile(FILE, renderExternalSecretsFile([]), [STORE])).toBeUndefined();
  });

  it('accepts dataFrom extract instead of (or besides) data', () => {
    const extract = withManifest((manifest) => {
      manifest.spec.dataFrom = [{ extract: { key: 'itdo-erp/production/database' } }];
      delete manifest.spec.data;
    });
    const both = withManifest((manifest) => {
      manifest.spec.dataFrom = [{ extract: { key: 'itdo-erp/production/database' } }];
    });

    expect(refuseSecretsFile(FILE, extract, [STORE])).toBeUndefined();
    expect(refuseSecretsFile(FILE, both, [STORE])).toBeUndefined();
  });

  it('refuses a ClusterRoleBinding after the ExternalSecrets, naming the document', () => {
    expect(refuseSecretsFile(FILE, `${rendered}${CLUSTER_ROLE_BINDING}`, [STORE])).toBe(
      `${FILE} document 3 (ClusterRoleBinding) is not an external-secrets.io/v1 ExternalSecret as secret sync writes it: apiVersion: Invalid input: expected "external-secrets.io/v1"`,
    );
  });

  it('refuses fields secret sync never writes', () => {
    const template = withManifest((manifest) => {
      manifest.spec.target.template = { type: 'kubernetes.io/dockerconfigjson' };
    });
    const otherApi = withManifest((manifest) => {
      manifest.apiVersion = 'external-secrets.io/v1beta1';
    });

    expect(refuseSecretsFile(FILE, template, [STORE])).toMatch(
      /document 1 \(ExternalSecret\) is not .*: spec\.target: Unrecognized key: "template"$/,
    );
    expect(refuseSecretsFile(FILE, otherApi, [STORE])).toMatch(/apiVersion: Invalid input/);
  });

  it('refuses an ExternalSecret that reads another secret than it names, or through another store', () => {
    const otherSecret = withManifest((manifest) => {
      manifest.spec.dataFrom = [{ extract: { key: 'itdo-erp/production/root-credentials' } }];
    });
    const otherStore = withManifest((manifest) => {
      manifest.spec.secretStoreRef = { kind: 'ClusterSecretStore', name: 'vault' };
    });
    const noData = withManifest((manifest) => {
      delete manifest.spec.data;
      delete manifest.spec.dataFrom;
    });

    expect(refuseSecretsFile(FILE, otherSecret, [STORE])).toBe(
      `${FILE} document 1 (ExternalSecret itdo-erp-production-database): spec reads itdo-erp/production/root-credentials, not the secret its shiplane.io/secret-name annotation names (itdo-erp/production/database)`,
    );
    expect(refuseSecretsFile(FILE, otherStore, [STORE])).toContain(
      'spec.secretStoreRef: ClusterSecretStore vault is not the store the config names for this file',
    );
    expect(refuseSecretsFile(FILE, noData, [STORE])).toContain('spec: needs data or dataFrom');
  });

  it('refuses YAML that is not plain data: aliases, broken syntax', () => {
    const alias = `${FILE_HEADER}\n---\n${stringify(renderExternalSecret(source('a/b')))}extra: &x [1]\nmore: *x\n`;

    expect(refuseSecretsFile(FILE, alias, [STORE])).toMatch(/document 1: .*alias/i);
    expect(refuseSecretsFile(FILE, 'kind: [ExternalSecret', [STORE])).toMatch(
      /is not valid YAML \(document 1\)/,
    );
  });
});

describe('configuredChanges for secrets files', () => {
  const accept = configuredChanges({
    gitops: { repository: 'itdo-erp/itdo-erp-infrastructure', branch: 'main' },
    apps: {},
    stages: [],
    secrets: [{ file: FILE, secretStore: STORE }],
  });
  const fileRequest = (content: string | null) => ({
    repository: 'itdo-erp/itdo-erp-infrastructure',
    branch: 'main',
    change: { kind: 'file' as const, stage: 'production', file: FILE, content, summary: 'Sync' },
  });

  it('accepts the rendered file and a deletion, refuses anything else in it', () => {
    expect(accept(fileRequest(rendered))).toBeUndefined();
    expect(accept(fileRequest(null))).toBeUndefined();
    expect(accept(fileRequest(`${rendered}${CLUSTER_ROLE_BINDING}`))).toContain('(ClusterRoleBinding)');
  });
});
