/**
 * The sandbox's `shiplane.config.yaml`: the ITDO ERP example pointed at the stand-ins on 127.0.0.1,
 * with `env:` secret references (the sandbox generates the values at start and hands them to the
 * handlers, never to the file). It is written into the work folder and validated with the real
 * schema, so the sandbox runs exactly what a user's config would.
 */
import { writeFile } from 'node:fs/promises';
import { parseConfigText } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';

/** The environment variables the sandbox config refers to. */
export const SANDBOX_SECRET_ENV = {
  githubToken: 'SHIPLANE_SANDBOX_GITHUB_TOKEN',
  argocdToken: 'SHIPLANE_SANDBOX_ARGOCD_TOKEN',
  slackBotToken: 'SHIPLANE_SANDBOX_SLACK_BOT_TOKEN',
  slackSigningSecret: 'SHIPLANE_SANDBOX_SLACK_SIGNING_SECRET',
} as const;

/** Slack users of the sandbox workspace: one approver, one who may not approve. */
export const SANDBOX_USERS = {
  approver: { id: 'U0PLATFORM1', name: 'aiko.tanaka' },
  outsider: { id: 'U0OUTSIDER1', name: 'kenji.sato' },
} as const;

export const SANDBOX_CHANNEL = 'C0DEPLOYS1';
export const SANDBOX_REPOSITORY = 'itdo-erp/itdo-erp-infrastructure';

export interface SandboxEndpoints {
  readonly githubApiUrl: string;
  readonly argocdUrl: string;
  readonly slackApiUrl: string;
  /**
   * The ECR stand-in's address, when the run has one: backend then gets its scan gate (`HIGH`). A
   * local runtime without ECR (some engine tests, `shiplane run`) has nothing for the gate to read.
   */
  readonly ecrUrl?: string;
}

export interface SandboxTimingOptions {
  /** Seconds between Argo CD checks. @default 1 */
  readonly pollInterval?: number;
  /** How long a stage may take to become healthy. @default 120 */
  readonly healthTimeout?: number;
  /** How long the production approval waits. @default 3600 */
  readonly approvalTimeout?: number;
  /** Production's own GitOps repository (`owner/name`; issue 13). @default the GitOps repository */
  readonly productionRepository?: string;
}

/** backend's scan gate in the sandbox: the ECR stand-in gives a `-vuln` tag a CRITICAL finding. */
const SCAN_GATE = `    scan:
      maxSeverity: HIGH
`;

/** What is wrong with a name for production's own repository, or undefined when it will do. */
export function productionRepositoryProblem(repository: string): string | undefined {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) {
    return `expected a GitHub repository as owner/name, got "${repository}"`;
  }
  if (repository.toLowerCase() === SANDBOX_REPOSITORY.toLowerCase()) {
    return `${repository} is the sandbox's GitOps repository already; name another one`;
  }
  return undefined;
}

/** Renders the sandbox config file's text. */
export function sandboxConfigText(endpoints: SandboxEndpoints, timing: SandboxTimingOptions = {}): string {
  const poll = timing.pollInterval ?? 1;
  const health = timing.healthTimeout ?? 120;
  const approval = timing.approvalTimeout ?? 3600;
  return `# Written by \`shiplane sandbox\` at every start: the ITDO ERP example pointed at the local
# stand-ins. Secrets are env: references; the sandbox generates their values at start.
gitops:
  repository: ${SANDBOX_REPOSITORY}
  branch: main
  github:
    apiUrl: ${endpoints.githubApiUrl}
    token: env:${SANDBOX_SECRET_ENV.githubToken}
argocd:
  url: ${endpoints.argocdUrl}
  token: env:${SANDBOX_SECRET_ENV.argocdToken}
slack:
  apiUrl: ${endpoints.slackApiUrl}
  channel: ${SANDBOX_CHANNEL}
  botToken: env:${SANDBOX_SECRET_ENV.slackBotToken}
  signingSecret: env:${SANDBOX_SECRET_ENV.slackSigningSecret}
apps:
  backend:
    ecrRepository: itdo-erp/backend
    tags: '^v\\d+\\.\\d+\\.\\d+(-[a-z0-9.]+)?$'
    image: itdo-erp/backend
${endpoints.ecrUrl ? SCAN_GATE : ''}  frontend:
    ecrRepository: itdo-erp/frontend
    tags: '^v\\d+\\.\\d+\\.\\d+(-[a-z0-9.]+)?$'
    image: itdo-erp/frontend
stages:
  - name: staging
    file: environments/staging/kustomization.yaml
    argocdApp: itdo-erp-staging
    healthTimeout: ${health}s
    pollInterval: ${poll}s
  - name: production
${timing.productionRepository ? `    repository: ${timing.productionRepository}\n` : ''}    file: environments/production/kustomization.yaml
    argocdApp: itdo-erp-production
    healthTimeout: ${health}s
    pollInterval: ${poll}s
    approval:
      approvers: [${SANDBOX_USERS.approver.id}]
      timeout: ${approval}s
secrets:
  - match: itdo-erp/production/*
    file: environments/production/external-secrets.yaml
    secretStore: { kind: ClusterSecretStore, name: aws-secrets-manager }
    namespaces: [itdo-erp] # the shiplane:namespace tags honoured; others are ignored
`;
}

/** Writes the config file and returns it validated by the same schema as `shiplane validate`. */
export async function writeSandboxConfig(
  file: string,
  endpoints: SandboxEndpoints,
  timing: SandboxTimingOptions = {},
): Promise<Config> {
  const text = sandboxConfigText(endpoints, timing);
  const config = parseConfigText(text, file);
  await writeFile(file, text);
  return config;
}
