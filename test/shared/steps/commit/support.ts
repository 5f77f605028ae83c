/**
 * Shared set-up for the GitOps write-back tests: the GitHub stand-in seeded with the ITDO ERP
 * infrastructure repository, a real client with tiny waits, commit requests as the state machine
 * builds them, and task tokens that record their answers.
 */
import { fileURLToPath } from 'node:url';
import {
  type GitHubServer,
  type GitHubServerOptions,
  seedFromDirectory,
  startGitHubServer,
} from '../../../../local/stand-ins/github/index.js';
import {
  connectGitHub,
  type GitHubClientOptions,
  type GitHubConnection,
} from '../../../../shared/adapters/github/client.js';
import type { SecretRef } from '../../../../shared/config/schema.js';
import type {
  CommitRequest,
  ImageEdit,
  ManualRollback,
  Release,
  RunInput,
} from '../../../../shared/contracts/tasks.js';
import type { PendingCommit, RunFacts, RunStatusReader } from '../../../../shared/ports/run-status.js';
import type { TaskTokens } from '../../../../shared/ports/task-tokens.js';

export const OWNER = 'itdo-erp';
export const REPO = 'itdo-erp-infrastructure';
export const REPOSITORY = `${OWNER}/${REPO}`;
export const TOKEN = 'ghp_committer_test_token';
export const STAGING = 'environments/staging/kustomization.yaml';
export const PRODUCTION = 'environments/production/kustomization.yaml';

const seedDir = fileURLToPath(new URL('../../../fixtures/gitops/itdo-erp-infrastructure', import.meta.url));

/** The stand-in serving the ITDO ERP infrastructure repository (plus `extra` files). */
export async function startItdoGitHub(
  options: Partial<GitHubServerOptions> & { extra?: Record<string, string> } = {},
): Promise<GitHubServer> {
  const { extra, ...rest } = options;
  return startGitHubServer({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    seed: { ...(await seedFromDirectory(seedDir)), ...extra },
    ...rest,
  });
}

const tokenRef: SecretRef = { source: 'secret', name: 'shiplane/github-token' };

/** A real client (retry + throttling) against the stand-in, with waits shrunk to milliseconds. */
export function connect(
  server: GitHubServer,
  options: Partial<GitHubClientOptions> & { token?: string; apiUrl?: string } = {},
): Promise<GitHubConnection> {
  const { token = TOKEN, apiUrl = server.url, ...rest } = options;
  return connectGitHub(
    { apiUrl, token: tokenRef },
    {
      resolveSecret: async () => token,
      retryBaseMs: 1,
      rateLimitSecondMs: 1,
      minWriteIntervalMs: 0,
      minNotificationIntervalMs: 0,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      ...rest,
    },
  );
}

export function release(app: string, tag: string, hex = 'a'): Release {
  return {
    app,
    ecrRepository: `itdo-erp/${app}`,
    image: `itdo-erp/${app}`,
    tag,
    digest: `sha256:${hex.repeat(64)}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2025-01-15T09:30:00Z',
  };
}

/**
 * A commit request as the state machine's `Commit new tag` state sends it; with `edit: null`, as a
 * state machine deployed before `change.edit` existed sent it (a run in flight during an upgrade).
 */
export function imageRequest(
  app: string,
  tag: string,
  options: {
    stage?: string;
    file?: string;
    hex?: string;
    token?: string | null;
    pinDigest?: boolean;
    createIfMissing?: boolean;
    valuesPath?: string;
    digestPath?: string;
    /** @default 'promotion'; null leaves the field out (the shape before it existed) */
    edit?: ImageEdit | null;
  } = {},
): CommitRequest {
  const stage = options.stage ?? 'staging';
  const edit = options.edit === undefined ? 'promotion' : options.edit;
  const token = options.token === undefined ? `token-${app}-${tag}` : options.token;
  return {
    ...(token ? { taskToken: token } : {}),
    execution: `${app}-${tag}-${(options.hex ?? 'a').repeat(12)}`,
    repository: REPOSITORY,
    branch: 'main',
    change: {
      kind: 'image',
      ...(edit ? { edit } : {}),
      stage,
      file: options.file ?? `environments/${stage}/kustomization.yaml`,
      release: release(app, tag, options.hex),
      pinDigest: options.pinDigest ?? false,
      createIfMissing: options.createIfMissing ?? false,
      ...(options.valuesPath ? { valuesPath: options.valuesPath } : {}),
      ...(options.digestPath ? { digestPath: options.digestPath } : {}),
    },
  };
}

/**
 * The rollback request the state machine's `Commit rollback` state sends after `promotion` turned the
 * stage Degraded: the earlier entry (`to`), and the run's own entry it replaces.
 */
export function rollbackRequest(
  promotion: CommitRequest,
  to: { tag: string; digest?: string },
  reason = 'staging is Degraded at 1111111111111111111111111111111111111111: Deployment "backend" exceeded its progress deadline',
): CommitRequest {
  const { change } = promotion;
  if (change.kind !== 'image') throw new Error('a rollback follows an image change');
  return {
    ...promotion,
    taskToken: `rollback-${promotion.taskToken ?? 'none'}`,
    change: {
      ...change,
      release: { ...change.release, tag: to.tag, ...(to.digest ? { digest: to.digest } : {}) },
      // The rollback state writes its edit; a promotion of the shape before `edit` gets none either.
      ...(change.edit ? { edit: 'rollback' as const } : {}),
      pinDigest: to.digest !== undefined,
      createIfMissing: false,
      rollback: {
        of: promotion.execution ?? '',
        fromTag: change.release.tag,
        fromDigest: change.release.digest,
        reason,
      },
    },
  };
}

/**
 * A manual rollback's commit request (`shiplane rollback`) and the input its run was started with:
 * the stage goes back to `tag` (a release with `hex` digest) from `from`.
 */
export function manualRollbackRequest(
  app: string,
  tag: string,
  options: {
    stage?: string;
    hex?: string;
    from?: { tag: string; digest?: string } | null;
    pinDigest?: boolean;
    reason?: string;
  } = {},
): { request: CommitRequest; input: RunInput } {
  const stage = options.stage ?? 'staging';
  const rollback: ManualRollback = {
    stage,
    from:
      options.from === undefined ? { tag: 'v2.1.7-bad', digest: `sha256:${'b'.repeat(64)}` } : options.from,
    reason: options.reason ?? 'checkout errors since v2.1.7-bad',
    by: 'arn:aws:iam::123456789012:user/aiko',
  };
  const promotion = imageRequest(app, tag, {
    stage,
    ...(options.hex ? { hex: options.hex } : {}),
    ...(options.pinDigest !== undefined ? { pinDigest: options.pinDigest } : {}),
  });
  if (promotion.change.kind !== 'image') throw new Error('an image change');
  const execution = `${app}-${stage}-rollback-${tag}-1`;
  return {
    request: {
      ...promotion,
      taskToken: `token-${execution}`,
      execution,
      change: {
        ...promotion.change,
        edit: 'manual-rollback',
        createIfMissing: false,
        manualRollback: rollback,
      },
    },
    input: { release: promotion.change.release, rollback },
  };
}

export interface RecordedAnswer {
  readonly token: string;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** Task tokens that remember every answer; `refuse` makes an answer fail with an SDK-like error name. */
export function recordingTaskTokens(
  refuse: Record<string, string> = {},
): TaskTokens & { answers: RecordedAnswer[] } {
  const answers: RecordedAnswer[] = [];
  const check = (token: string) => {
    const name = refuse[token];
    if (name) throw Object.assign(new Error(`${name}: refused`), { name });
  };
  return {
    answers,
    async succeed(token, output) {
      check(token);
      answers.push({ token, output });
    },
    async fail(token, error, cause) {
      check(token);
      answers.push({ token, error, cause });
    },
  };
}

/**
 * Promotion runs by execution name, as DescribeExecution and GetExecutionHistory would answer:
 * status and input, and the commit each run's pending commit task was scheduled with. Remembers
 * every lookup.
 */
export interface RecordingRuns extends RunStatusReader {
  readonly runs: Map<string, RunFacts>;
  /** The pending commit of each run; a run missing here waits for no commit. */
  readonly pending: Map<string, PendingCommit>;
  readonly lookups: string[];
  readonly pendingLookups: string[];
  /**
   * Registers the runs of these requests as RUNNING with their release (unless already registered),
   * each waiting for the last of them that names it: a run waits for the commit it sent last.
   */
  running(...requests: readonly CommitRequest[]): void;
}

export function recordingRuns(): RecordingRuns {
  const runs = new Map<string, RunFacts>();
  const pending = new Map<string, PendingCommit>();
  const lookups: string[] = [];
  const pendingLookups: string[] = [];
  return {
    runs,
    pending,
    lookups,
    pendingLookups,
    async describe(execution) {
      lookups.push(execution);
      return runs.get(execution);
    },
    async pendingCommit(execution) {
      pendingLookups.push(execution);
      return pending.get(execution);
    },
    running(...requests) {
      for (const request of requests) {
        if (request.change.kind !== 'image' || !request.execution) continue;
        if (!runs.has(request.execution)) {
          runs.set(request.execution, { status: 'RUNNING', input: { release: request.change.release } });
        }
        pending.set(request.execution, { kind: 'rendered', request });
      }
    },
  };
}
