/**
 * The commit queue against the naive way. 50 promotions of 50 different apps, all listed in the same
 * staging kustomization.yaml (one overlay per environment, as ITDO ERP has), arrive at once:
 *
 * - committer: the real committer handler fed by a simulated SQS FIFO queue (one message group for
 *   the repository#branch, batches of up to ten, one batch in flight per group, failed items
 *   redelivered first), through the real GitHub client;
 * - naive: one commit per promotion, each promotion on its own (as 50 Lambdas would), reading the
 *   file and writing it back with the contents API and its sha, retrying on 409 conflicts.
 *
 * Both run against the local GitHub stand-in (a real git repository), which counts every request.
 * A lost update is a promotion reported done whose tag is not in the final file.
 * Goals: 0 lost updates, ≤ 7 commits, ≤ 1.5 API calls per promoted change, ≥ 5× fewer
 * content-creating calls than the naive way.
 *
 * Then several repositories (several-repositories.ts): 200 promotions of 50 apps across four GitOps
 * repositories at once, through a simulated FIFO queue and concurrent committers; once with a token, once
 * with a GitHub App installed on the two owners the repositories then belong to.
 *
 * Then pull-request mode (pull-requests.ts): API calls per promoted change with `merge: auto`, through
 * the real pull-request step, against the naive branch-and-pull-request way.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { parse } from 'yaml';
import { type GitHubServer, startGitHubServer } from '../../local/stand-ins/github/index.js';
import { createGitHubOctokit, type GitHubClientOptions } from '../../shared/adapters/github/client.js';
import type { CommitRequest, Release } from '../../shared/contracts/tasks.js';
import { setKustomizeImage } from '../../shared/domain/kustomize-image.js';
import type { TaskTokens } from '../../shared/ports/task-tokens.js';
import { type BenchReport, formatTable, writeResults } from '../report.js';
import { PULL_REQUEST_GOALS, pullRequestCalls, pullRequestChecks, pullRequestRows } from './pull-requests.js';
import { SEVERAL_GOALS, severalChecks, severalRepositories, severalRows } from './several-repositories.js';

const APPS = Number(process.env.BENCH_APPS ?? 50);
const OWNER = 'itdo-erp';
const REPO = 'itdo-erp-infrastructure';
const FILE = 'environments/staging/kustomization.yaml';
const TOKEN = 'ghp_bench';
const FROM = 'v1.0.0';
const TO = 'v1.1.0';
/** GitHub's documented secondary limit for content-creating requests. */
const WRITES_PER_MINUTE = 80;
const NAIVE_MAX_ATTEMPTS = 200;

const GOALS = { lostUpdates: 0, commits: 7, callsPerChange: 1.5, contentCreatingFactor: 5 };

const apps = Array.from({ length: APPS }, (_, index) => `app-${String(index + 1).padStart(2, '0')}`);

function overlay(environment: string): string {
  const entries = apps
    .map(
      (app) =>
        `  - name: itdo-erp/${app}\n    newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/${app}\n    newTag: ${FROM}\n`,
    )
    .join('');
  return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: itdo-erp-${environment}\nresources:\n  - ../../base\nimages:\n${entries}`;
}

const seed = Object.fromEntries(
  ['dev', 'staging', 'production'].map((environment) => [
    `environments/${environment}/kustomization.yaml`,
    overlay(environment),
  ]),
);

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

/** The GitHub client both variants use; GitHub's one-second spacing of writes is off in both. */
const clientOptions: GitHubClientOptions = {
  resolveSecret: async () => TOKEN,
  minWriteIntervalMs: 0,
  retryBaseMs: 10,
  rateLimitSecondMs: 10,
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

interface Figures {
  readonly way: string;
  readonly promotions: number;
  readonly commits: number;
  readonly apiCalls: number;
  readonly callsPerChange: number;
  readonly contentCreating: number;
  readonly conflicts: number;
  readonly lostUpdates: number;
  readonly gaveUp: number;
  readonly wallMs: number;
  /** Minutes the content-creating calls take at GitHub's 80 per minute. */
  readonly minutesAtWriteLimit: number;
}

async function measure(
  way: string,
  server: GitHubServer,
  work: () => Promise<Set<string>>,
): Promise<Figures> {
  const base = await server.head();
  server.resetStats();
  const started = performance.now();
  const done = await work();
  const wallMs = Math.round(performance.now() - started);
  const commits = Number((await server.git('rev-list', '--count', `${base}..main`)).trim());
  const images = (
    parse((await server.readFile(FILE)) ?? '') as { images: { name: string; newTag: string }[] }
  ).images;
  const tagOf = new Map(images.map((image) => [image.name, String(image.newTag)]));
  const lostUpdates = [...done].filter((app) => tagOf.get(`itdo-erp/${app}`) !== TO).length;
  const { total, contentCreating, conflicts } = server.stats;
  return {
    way,
    promotions: APPS,
    commits,
    apiCalls: total,
    callsPerChange: Math.round((total / APPS) * 100) / 100,
    contentCreating,
    conflicts,
    lostUpdates,
    gaveUp: APPS - done.size,
    wallMs,
    minutesAtWriteLimit: Math.round((contentCreating / WRITES_PER_MINUTE) * 10) / 10,
  };
}

/** The committer, fed like Lambda's SQS FIFO event source: ≤ 10 per batch, one batch in flight per group. */
async function viaCommitter(server: GitHubServer): Promise<Set<string>> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  const { createCommitterHandler } = await import('../../functions/committer/handler.js');
  const octokit = await createGitHubOctokit(
    { apiUrl: server.url, token: { source: 'env', name: 'BENCH' } },
    clientOptions,
  );
  const done = new Set<string>();
  const tokens: TaskTokens = {
    async succeed(token, output) {
      if ((output as { status?: string }).status) done.add(token.split('|')[0]!);
    },
    async fail(token, error, cause) {
      throw new Error(`${token}: ${error}: ${cause}`);
    },
  };
  // Every run is RUNNING, promotes what its message writes and waits for exactly that message (the
  // committer's run check passes).
  const runs = new Map<string, CommitRequest>();
  const committer = createCommitterHandler({
    github: octokit,
    taskTokens: tokens,
    runs: {
      describe: async (execution) => {
        const change = runs.get(execution)?.change;
        return { status: 'RUNNING', input: change?.kind === 'image' ? { release: change.release } : {} };
      },
      pendingCommit: async (execution) => {
        const request = runs.get(execution);
        return request ? { kind: 'rendered', request } : undefined;
      },
    },
  });

  const queue = apps.map((app, index) => {
    const request: CommitRequest = {
      taskToken: `${app}|${randomUUID()}`,
      execution: `${app}-${TO}-${index.toString(16).padStart(12, '0')}`,
      repository: `${OWNER}/${REPO}`,
      branch: 'main',
      change: {
        kind: 'image',
        stage: 'staging',
        file: FILE,
        release: release(app, index),
        pinDigest: false,
        createIfMissing: false,
      },
    };
    runs.set(request.execution ?? '', request);
    return { messageId: randomUUID(), body: JSON.stringify(request) };
  });
  const context = { functionName: 'shiplane-committer', awsRequestId: randomUUID() } as never;
  let invocations = 0;
  while (queue.length > 0) {
    const batch = queue.splice(0, 10);
    const event = {
      Records: batch.map((message) => ({
        ...message,
        receiptHandle: message.messageId,
        attributes: { MessageGroupId: `${OWNER}/${REPO}#main` },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:shiplane-commits.fifo',
        awsRegion: 'eu-west-1',
      })),
    } as unknown as SQSEvent;
    const response = await committer(event, context);
    invocations++;
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    queue.unshift(...batch.filter((message) => failed.has(message.messageId)));
    if (invocations > APPS * 2) throw new Error('the committer keeps handing messages back');
  }
  return done;
}

/** One commit per promotion through the contents API with the file's sha; retry on 409. */
async function naive(server: GitHubServer): Promise<Set<string>> {
  const done = new Set<string>();
  await Promise.all(
    apps.map(async (app, index) => {
      // Every promotion runs alone, as its own Lambda would, with its own client.
      const octokit = await createGitHubOctokit(
        { apiUrl: server.url, token: { source: 'env', name: 'BENCH' } },
        clientOptions,
      );
      for (let attempt = 1; attempt <= NAIVE_MAX_ATTEMPTS; attempt++) {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
          owner: OWNER,
          repo: REPO,
          path: FILE,
          ref: 'main',
        });
        const file = data as { content: string; sha: string };
        const edit = setKustomizeImage(FILE, Buffer.from(file.content, 'base64').toString('utf8'), {
          image: `itdo-erp/${app}`,
          tag: release(app, index).tag,
        });
        try {
          await octokit.request('PUT /repos/{owner}/{repo}/contents/{path}', {
            owner: OWNER,
            repo: REPO,
            path: FILE,
            branch: 'main',
            sha: file.sha,
            message: `Promote ${app} ${TO} to staging\n`,
            content: Buffer.from(edit.content).toString('base64'),
          });
          done.add(app);
          return;
        } catch (error) {
          if ((error as { status?: number }).status !== 409) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
        }
      }
    }),
  );
  return done;
}

export async function run(): Promise<BenchReport> {
  const results: Figures[] = [];
  for (const [way, work] of [
    ['committer (FIFO batches)', viaCommitter],
    ['naive (one commit each)', naive],
  ] as const) {
    const server = await startGitHubServer({ owner: OWNER, repo: REPO, token: TOKEN, seed });
    try {
      results.push(await measure(way, server, () => work(server)));
    } finally {
      await server.close();
    }
  }
  const [committer, baseline] = results as [Figures, Figures];
  const factor = Math.round((baseline.contentCreating / Math.max(committer.contentCreating, 1)) * 10) / 10;
  const checks = [
    {
      goal: `lost updates = ${GOALS.lostUpdates}`,
      met: committer.lostUpdates === 0 && committer.gaveUp === 0,
    },
    { goal: `commits ≤ ${GOALS.commits}`, met: committer.commits <= GOALS.commits },
    {
      goal: `API calls per change ≤ ${GOALS.callsPerChange}`,
      met: committer.callsPerChange <= GOALS.callsPerChange,
    },
    {
      goal: `content-creating calls ≥ ${GOALS.contentCreatingFactor}× fewer than naive (${factor}×)`,
      met: factor >= GOALS.contentCreatingFactor,
    },
  ];
  const several = await severalRepositories('token');
  const withApp = await severalRepositories('app');
  const severalMet = [
    ...severalChecks(several),
    ...severalChecks(withApp).map((check) => ({ ...check, goal: `with a GitHub App: ${check.goal}` })),
  ];
  const pullRequests = await pullRequestCalls();
  const [viaStep, naivePulls] = pullRequests;
  const pullRequestMet = pullRequestChecks(viaStep);
  const allChecks = [...checks, ...severalMet, ...pullRequestMet];
  await writeResults('commit-queue', {
    measuredAt: new Date().toISOString(),
    node: process.version,
    apps: APPS,
    goals: GOALS,
    results,
    contentCreatingFactor: factor,
    severalRepositories: { goals: SEVERAL_GOALS, ...several },
    severalRepositoriesWithApp: { goals: SEVERAL_GOALS, ...withApp },
    pullRequests: { goals: PULL_REQUEST_GOALS, results: pullRequests },
    goalsMet: allChecks.every((check) => check.met),
  });
  const rows = results.map((figures) => ({
    way: figures.way,
    commits: figures.commits,
    'API calls': figures.apiCalls,
    'calls/change': figures.callsPerChange,
    'content-creating': figures.contentCreating,
    conflicts: figures.conflicts,
    'lost updates': figures.lostUpdates,
    'wall ms': figures.wallMs,
    [`min at ${WRITES_PER_MINUTE} writes/min`]: figures.minutesAtWriteLimit,
  }));
  return {
    title: `commit-queue: ${APPS} promotions of ${APPS} apps into one staging kustomization.yaml, arriving at once (local GitHub stand-in)`,
    rows,
    notes: [
      '',
      ...checks.map((check) => `${check.met ? 'met   ' : 'MISSED'} ${check.goal}`),
      `conflicts = 409/422 answers (stale sha, not a fast-forward); the naive way gave up on ${baseline.gaveUp} promotion(s) after ${NAIVE_MAX_ATTEMPTS} attempts.`,
      `GitHub's one-second spacing of writes is off in both runs; the last column is how long the content-creating calls alone take at GitHub's ${WRITES_PER_MINUTE}/min secondary limit.`,
      '',
      `commit-queue, several repositories: ${several.promotions} promotions of 50 apps across ${several.repositories.length} GitOps repositories (one message group each), arriving at once; ${several.concurrency} concurrent committers (local GitHub stand-ins behind one API address)`,
      '',
      formatTable(severalRows(several)),
      '',
      ...severalMet.map((check) => `${check.met ? 'met   ' : 'MISSED'} ${check.goal}`),
      `${several.invocations} committer invocations, ${several.mixedBatches} with more than one message group, ${several.deadLettered} message(s) dead-lettered; ${several.wallMs} ms.`,
      `With a GitHub App installed on two owners (eu, us under itdo-erp; ap, sa under itdo-erp-apac): ${withApp.commits} commits (at most ${withApp.maxCommitsPerRepository} per repository), ${withApp.apiCalls} API calls = ${withApp.callsPerChange} per change, of which ${withApp.installationLookups} installation lookups and ${withApp.tokenRequests} token requests (${several.concurrency} committers, each with its own client and cache); ${withApp.lostUpdates} lost updates.`,
      '',
      `commit-queue, pull-request mode (merge: auto): ${viaStep.changes} releases of backend to staging, one after another, each opened, checked until merged (local GitHub stand-in); API calls per change by endpoint`,
      '',
      formatTable(pullRequestRows(pullRequests)),
      '',
      ...pullRequestMet.map((check) => `${check.met ? 'met   ' : 'MISSED'} ${check.goal}`),
      `shiplane: the real pull-request step (open, then check ${viaStep.checksPerChange} time(s) per change; the step merges and deletes the branch), ${viaStep.merged}/${viaStep.changes} merged, ${viaStep.contentCreating} content-creating calls, ${viaStep.wallMs} ms. naive: measured, not computed — the same REST calls a clone-edit-push tool makes, run with Octokit: ${naivePulls.merged}/${naivePulls.changes} merged, ${naivePulls.contentCreating} content-creating calls, ${naivePulls.wallMs} ms.`,
    ],
    failed: !allChecks.every((check) => check.met),
  };
}
