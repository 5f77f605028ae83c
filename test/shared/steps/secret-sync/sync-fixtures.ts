/** Shared inputs of the secret-sync tests: the ITDO ERP config and a reader for rendered files. */
import { parseAllDocuments } from 'yaml';
import { type Config, type ConfigInput, configSchema } from '../../../../shared/config/schema.js';
import type { ExternalSecretManifest } from '../../../../shared/domain/external-secret.js';

/** The ExternalSecret documents of a file's content. */
export function documentsOf(content: string | null | undefined): ExternalSecretManifest[] {
  return parseAllDocuments(content ?? '')
    .map((document) => document.toJS())
    .filter(Boolean);
}

export const configInput: ConfigInput = {
  gitops: {
    repository: 'itdo-erp/itdo-erp-infrastructure',
    github: { token: 'secret:shiplane/github-token' },
  },
  argocd: { url: 'https://argocd.itdo-erp.com', token: 'secret:shiplane/argocd-token' },
  slack: {
    channel: 'C0DEPLOYS1',
    botToken: 'secret:shiplane/slack-bot-token',
    signingSecret: 'secret:shiplane/slack-signing-secret',
  },
  apps: { backend: { ecrRepository: 'itdo-erp/backend', image: 'itdo-erp/backend' } },
  stages: [
    { name: 'staging', file: 'environments/staging/kustomization.yaml', argocdApp: 'itdo-erp-staging' },
    {
      name: 'production',
      file: 'environments/production/kustomization.yaml',
      argocdApp: 'itdo-erp-production',
    },
  ],
  secrets: [
    {
      match: 'itdo-erp/production/*',
      file: 'environments/production/external-secrets.yaml',
      secretStore: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
      namespaces: ['itdo-erp', 'payments'],
    },
    {
      match: 'itdo-erp/staging/*',
      file: 'environments/staging/external-secrets.yaml',
      secretStore: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
      refreshInterval: '15m',
    },
  ],
};

export const config: Config = configSchema.parse(configInput);
