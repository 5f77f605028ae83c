/**
 * The commit queue with several GitOps repositories (issue 13): 50 apps run in four regional
 * clusters, each cluster's GitOps repository lists all 50 in its production kustomization.yaml, and
 * a release of every app reaches every region at once — 200 promotions, 50 per repository.
 *
 * The state machine sends each change to the FIFO commit queue in its repository#branch message
 * group; the simulated queue (fifo-queue.ts) hands them to several concurrent invocations of the
 * real committer handler, which write through the real GitHub client into four GitHub stand-ins
 * behind one API address (as api.github.com is one address). Every request is counted per repository.
 *
 * Goals: 0 lost updates, ≤ 6 commits per repository, ≤ 1.5 API calls per promoted change.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import {
  GitHubApp,
  type GitHubServer,
  startGitHubFront,
  startGitHubServer,
} from '../../local/stand-ins/github/index.js';
import { createGitHubOctokit, type GitHubClientOptions } from '../../shared/adapters/github/client.js';
import type { CommitRequest, Release } from '../../shared/contracts/tasks.js';
import type { TaskTokens } from '../../shared/ports/task-tokens.js';
import type { Cell } from '../report.js';
import { SimulatedFifoQueue } from './fifo-queue.js';

const APPS = 50;
const OWNER = 'itdo-erp';
/** With a GitHub App: the Asian regions' repositories belong to another organization. */
const APAC_OWNER = 'itdo-erp-apac';
const APP_ID = 4242;
const REGIONS = ['eu', 'us', 'ap', 'sa'] as const;
const FILE = 'environments/production/kustomization.yaml';
const TOKEN = 'ghp_bench';
const FROM = 'v1.0.0';
const TO = 'v1.1.0';
/** Lambda's SQS pollers: concurrent committer invocations (FIFO scales up to the groups in flight). */
const CONCURRENCY = 5;
/** infra/constructs/commit-queue.ts: batches of 10, three receives before the dead-letter queue. */
const BATCH_SIZE = 10;
const MAX_RECEIVE_COUNT = 3;

export const SEVERAL_GOALS = { lostUpdates: 0, commitsPerRepository: 6, callsPerChange: 1.5 };

const apps = Array.from({ length: APPS }, (_, index) => `app-${String(index + 1).padStart(2, '0')}`);
/** The credential: a token reaching every repository, or one GitHub App installed on two owners. */
export type SeveralAuth = 'token' | 'app';
const ownerOf = (region: string, auth: SeveralAuth) =>
  auth === 'app' && (region === 'ap' || region === 'sa') ? APAC_OWNER : OWNER;
const repositoryOf = (region: string, auth: SeveralAuth) => `${ownerOf(region, auth)}/gitops-${region}`;

function kustomization(region: string): string {
  const entries = apps
    .map(
      (app) =>
        `  - name: itdo-erp/${app}\n    newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/${app}\n    newTag: ${FROM}\n`,
    )
    .join('');
  return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: itdo-erp-${region}\nresources:\n  - ../../base\nimages:\n${entries}`;
}

function release(app: string, index: number): Release {
  return {
    app,
    ecrRepository: `itdo-erp/${app}`,
    image: `itdo-erp/${app}`,
    tag: TO,
    digest: `sha256:${index.toString(16).padStart(64, '0')}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2025-01-15T09:30:00Z',
  };
}

/** A fixed shuffle (mulberry32), so runs arrive in the same mixed order every time. */
function shuffled<T>(items: readonly T[], seed = 13): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface RepositoryFigures {
  readonly repository: string;
  readonly promotions: number;
  readonly commits: number;
  readonly apiCalls: number;
  readonly contentCreating: number;
  readonly conflicts: number;
  readonly lostUpdates: number;
  readonly notAnswered: number;
}

export interface SeveralFigures {
  readonly promotions: number;
  readonly repositories: readonly RepositoryFigures[];
  readonly commits: number;
  readonly maxCommitsPerRepository: number;
  readonly apiCalls: number;
  readonly callsPerChange: number;
  readonly lostUpdates: number;
  readonly notAnswered: number;
  readonly invocations: number;
  readonly mixedBatches: number;
  readonly deadLettered: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly auth: SeveralAuth;
  /** Installation lookups and installation token requests among the API calls (a GitHub App). */
  readonly installationLookups: number;
  readonly tokenRequests: number;
}

const clientOptions: GitHubClientOptions = {
  resolveSecret: async () => TOKEN,
  // GitHub asks for a second between writes; the stand-in has no secondary limit to protect.
  minWriteIntervalMs: 0,
  retryBaseMs: 10,
  rateLimitSecondMs: 10,
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

export async function severalRepositories(auth: SeveralAuth = 'token'): Promise<SeveralFigures> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  const { createCommitterHandler } = await import('../../functions/committer/handler.js');
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
  const app = new GitHubApp({
    appId: APP_ID,
    privateKey,
    installations: [
      { id: 11, owner: OWNER },
      { id: 22, owner: APAC_OWNER },
    ],
  });
  const servers = new Map<string, GitHubServer>();
  for (const region of REGIONS) {
    servers.set(
      region,
      await startGitHubServer({
        owner: ownerOf(region, auth),
        repo: `gitops-${region}`,
        ...(auth === 'app' ? { app } : { token: TOKEN }),
        seed: { [FILE]: kustomization(region), 'README.md': `# ${region}\n` },
      }),
    );
  }
  const front = await startGitHubFront([...servers.values()]);
  try {
    const bases = new Map<string, string>();
    for (const [region, server] of servers) bases.set(region, await server.head());

    const requests = new Map<string, CommitRequest>();
    const done = new Set<string>();
    const tokens: TaskTokens = {
      async succeed(token) {
        done.add(token.split('|')[0]!);
      },
      async fail(token, error, cause) {
        throw new Error(`${token.split('|')[0]}: ${error}: ${cause}`);
      },
    };
    const queue = new SimulatedFifoQueue({
      queueArn: 'arn:aws:sqs:eu-west-1:123456789012:shiplane-commits.fifo',
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    const promotions = REGIONS.flatMap((region) => apps.map((app, index) => ({ region, app, index })));
    for (const { region, app, index } of shuffled(promotions)) {
      const request: CommitRequest = {
        taskToken: `${region}/${app}|${randomUUID()}`,
        execution: `${app}-${TO}-${region}-${index.toString(16).padStart(8, '0')}`,
        repository: repositoryOf(region, auth),
        branch: 'main',
        change: {
          kind: 'image',
          edit: 'promotion',
          stage: 'production',
          file: FILE,
          release: release(app, index),
          pinDigest: false,
          createIfMissing: false,
        },
      };
      requests.set(request.execution ?? '', request);
      queue.send(JSON.stringify(request), `${request.repository}#${request.branch}`);
    }

    // Each concurrent invocation is its own Lambda environment: its own handler and GitHub client.
    const handlers = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const octokit =
          auth === 'app'
            ? await createGitHubOctokit(
                {
                  apiUrl: front.url,
                  app: { appId: String(APP_ID), privateKey: { source: 'env', name: 'BENCH_KEY' } },
                },
                {
                  ...clientOptions,
                  resolveSecret: async () => privateKey,
                  homeRepository: repositoryOf('eu', auth),
                },
              )
            : await createGitHubOctokit(
                { apiUrl: front.url, token: { source: 'env', name: 'BENCH' } },
                clientOptions,
              );
        const committer = createCommitterHandler({
          github: octokit,
          taskTokens: tokens,
          runs: {
            describe: async (execution) => {
              const change = requests.get(execution)?.change;
              return {
                status: 'RUNNING',
                input: change?.kind === 'image' ? { release: change.release } : {},
              };
            },
            pendingCommit: async (execution) => {
              const request = requests.get(execution);
              return request ? { kind: 'rendered', request } : undefined;
            },
          },
        });
        const context = { functionName: 'shiplane-committer', awsRequestId: randomUUID() } as never;
        return (event: Parameters<typeof committer>[0]) => committer(event, context);
      }),
    );

    for (const server of servers.values()) server.resetStats();
    const started = performance.now();
    const drained = await queue.drain(handlers, BATCH_SIZE);
    const wallMs = Math.round(performance.now() - started);

    const repositories: RepositoryFigures[] = [];
    for (const [region, server] of servers) {
      const commits = Number((await server.git('rev-list', '--count', `${bases.get(region)}..main`)).trim());
      const images = (
        parse((await server.readFile(FILE)) ?? '') as { images: { name: string; newTag: string }[] }
      ).images;
      const tagOf = new Map(images.map((image) => [image.name, String(image.newTag)]));
      const answered = apps.filter((app) => done.has(`${region}/${app}`));
      repositories.push({
        repository: repositoryOf(region, auth),
        promotions: APPS,
        commits,
        apiCalls: server.stats.total,
        contentCreating: server.stats.contentCreating,
        conflicts: server.stats.conflicts,
        lostUpdates: answered.filter((app) => tagOf.get(`itdo-erp/${app}`) !== TO).length,
        notAnswered: APPS - answered.length,
      });
    }
    const sum = (pick: (figures: RepositoryFigures) => number) =>
      repositories.reduce((total, figures) => total + pick(figures), 0);
    const apiCalls = sum((figures) => figures.apiCalls);
    const routed = (route: string) =>
      [...servers.values()].reduce(
        (total, server) => total + server.stats.requests.filter((request) => request.route === route).length,
        0,
      );
    return {
      auth,
      installationLookups: routed('GET /repos/{owner}/{repo}/installation'),
      tokenRequests: routed('POST /app/installations/{installation_id}/access_tokens'),
      promotions: promotions.length,
      repositories,
      commits: sum((figures) => figures.commits),
      maxCommitsPerRepository: Math.max(...repositories.map((figures) => figures.commits)),
      apiCalls,
      callsPerChange: Math.round((apiCalls / promotions.length) * 100) / 100,
      lostUpdates: sum((figures) => figures.lostUpdates),
      notAnswered: sum((figures) => figures.notAnswered),
      ...drained,
      concurrency: CONCURRENCY,
      wallMs,
    };
  } finally {
    await front.close();
    await Promise.all([...servers.values()].map((server) => server.close()));
  }
}

/** The goals, each met or not. */
export function severalChecks(figures: SeveralFigures): Array<{ goal: string; met: boolean }> {
  return [
    {
      goal: `lost updates = ${SEVERAL_GOALS.lostUpdates} (${figures.promotions} promotions, ${figures.notAnswered} unanswered)`,
      met: figures.lostUpdates === 0 && figures.notAnswered === 0,
    },
    {
      goal: `commits per repository ≤ ${SEVERAL_GOALS.commitsPerRepository} (at most ${figures.maxCommitsPerRepository})`,
      met: figures.maxCommitsPerRepository <= SEVERAL_GOALS.commitsPerRepository,
    },
    {
      goal: `API calls per change ≤ ${SEVERAL_GOALS.callsPerChange} (${figures.callsPerChange})`,
      met: figures.callsPerChange <= SEVERAL_GOALS.callsPerChange,
    },
  ];
}

/** One table row per repository, and the total. */
export function severalRows(figures: SeveralFigures): Array<Record<string, Cell>> {
  const row = (figuresOf: Omit<RepositoryFigures, 'repository'>, repository: string) => ({
    repository,
    promotions: figuresOf.promotions,
    commits: figuresOf.commits,
    'API calls': figuresOf.apiCalls,
    'calls/change': Math.round((figuresOf.apiCalls / figuresOf.promotions) * 100) / 100,
    'content-creating': figuresOf.contentCreating,
    conflicts: figuresOf.conflicts,
    'lost updates': figuresOf.lostUpdates,
  });
  const total = {
    promotions: figures.promotions,
    commits: figures.commits,
    apiCalls: figures.apiCalls,
    contentCreating: figures.repositories.reduce((sum, figuresOf) => sum + figuresOf.contentCreating, 0),
    conflicts: figures.repositories.reduce((sum, figuresOf) => sum + figuresOf.conflicts, 0),
    lostUpdates: figures.lostUpdates,
    notAnswered: figures.notAnswered,
  };
  return [
    ...figures.repositories.map((figuresOf) => row(figuresOf, figuresOf.repository)),
    row(total, 'all four'),
  ];
}
