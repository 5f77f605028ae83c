/**
 * Pull-request mode (issue 13): GitHub API calls per promoted change with `merge: auto`, against the
 * naive way. 20 releases of backend reach staging one after another, each merged before the next:
 *
 * - shiplane: the real pull-request step (shared/steps/pull-request) through the real GitHub adapters,
 *   composed as shared/wiring/pull-request.ts does: `open`, then `check` until it answers merged (the
 *   step merges and deletes the branch itself);
 * - naive: what a clone-edit-push tool does through the REST API per change: read the base branch's
 *   head and the file, create a branch, PUT the edited file on it, open the pull request, merge it,
 *   delete the branch.
 *
 * Both run against the local GitHub stand-in (a real git repository), which counts every request by
 * route. Goal: ≤ 10 API calls per promoted change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { seedGitopsRepository } from '../../local/sandbox/gitops-repo.js';
import { SANDBOX_REPOSITORY, sandboxConfigText } from '../../local/sandbox/sandbox-config.js';
import { type GitHubServer, startGitHubServer } from '../../local/stand-ins/github/index.js';
import {
  createGitHubOctokit,
  describeCredentials,
  type GitHubClientOptions,
} from '../../shared/adapters/github/client.js';
import { githubPullRequests } from '../../shared/adapters/github/pull-requests.js';
import { githubRepository } from '../../shared/adapters/github/repository.js';
import { parseConfig } from '../../shared/config/load.js';
import type { ConfigInput } from '../../shared/config/schema.js';
import type { PullRequestAnswer, PullRequestInput, Release } from '../../shared/contracts/tasks.js';
import { readKustomizeImage, setKustomizeImage } from '../../shared/domain/kustomize-image.js';
import type { Reporter } from '../../shared/ports/reporter.js';
import { type PullRequestDeps, pullRequestTask } from '../../shared/steps/pull-request/pull-request.js';
import { PULL_REQUEST_GITHUB } from '../../shared/wiring/pull-request.js';
import type { Cell } from '../report.js';

const CHANGES = Number(process.env.BENCH_PULL_REQUESTS ?? 20);
const [OWNER = '', REPO = ''] = SANDBOX_REPOSITORY.split('/');
const FILE = 'environments/staging/kustomization.yaml';
const IMAGE = 'itdo-erp/backend';
const TOKEN = 'ghp_bench';
/** `check` calls before a change counts as not merged (the stand-in merges at the first one). */
const MAX_CHECKS = 20;

export const PULL_REQUEST_GOALS = { callsPerChange: 10 };

export interface PullRequestFigures {
  readonly way: string;
  readonly changes: number;
  readonly merged: number;
  readonly apiCalls: number;
  readonly callsPerChange: number;
  readonly contentCreating: number;
  /** Calls per change by route template, e.g. `PUT /repos/{owner}/{repo}/pulls/{number}/merge`. */
  readonly byRoute: Record<string, number>;
  /** `check` calls per change (shiplane only). */
  readonly checksPerChange?: number;
  readonly wallMs: number;
}

/** Releases newer than the seeded staging tag (v2.1.5), in order. */
const tagOf = (index: number) => `v2.2.${index + 1}`;

function release(index: number): Release {
  return {
    app: 'backend',
    ecrRepository: IMAGE,
    image: IMAGE,
    tag: tagOf(index),
    digest: `sha256:${(index + 1).toString(16).padStart(64, '0')}`,
    registryId: '123456789012',
    region: 'ap-northeast-1',
    pushedAt: '2026-12-02T09:00:00Z',
  };
}

/** Both ways' client: GitHub's spacing of writes (1 s) and of notifying requests (3 s) is off. */
const clientOptions: GitHubClientOptions = {
  resolveSecret: async () => TOKEN,
  ...PULL_REQUEST_GITHUB,
  minWriteIntervalMs: 0,
  minNotificationIntervalMs: 0,
  retryBaseMs: 10,
  rateLimitSecondMs: 10,
  log: { debug() {}, info() {}, warn() {}, error() {} },
};

const quietReporter: Reporter = { info() {}, warn() {}, error() {}, count() {} };

/** The sandbox config with staging alone, proposed through a pull request merged automatically. */
function pullRequestConfig(server: GitHubServer) {
  const raw = parseDocument(
    sandboxConfigText({
      githubApiUrl: server.url,
      argocdUrl: 'http://127.0.0.1:9/argocd',
      slackApiUrl: 'http://127.0.0.1:9/slack',
    }),
  ).toJS() as ConfigInput;
  const staging = raw.stages.find((stage) => stage.name === 'staging');
  if (!staging) throw new Error('the sandbox config has no staging stage');
  return parseConfig(
    { ...raw, secrets: [], stages: [{ ...staging, rollback: 'off', pullRequest: { merge: 'auto' } }] },
    'bench config',
  );
}

/** The real step, composed as shared/wiring/pull-request.ts does, with the bench's client options. */
async function viaPullRequestStep(server: GitHubServer): Promise<{ merged: number; checks: number }> {
  const config = pullRequestConfig(server);
  const settings = config.gitops.github;
  const octokit = await createGitHubOctokit(settings, clientOptions);
  const options = { credentials: describeCredentials(settings), apiUrl: settings.apiUrl };
  const deps: PullRequestDeps = {
    config,
    github: async (fullName) => ({
      repository: githubRepository(octokit, fullName, options),
      pullRequests: githubPullRequests(octokit, fullName, options),
    }),
    reporter: quietReporter,
    now: () => new Date(),
  };
  let merged = 0;
  let checks = 0;
  for (let index = 0; index < CHANGES; index++) {
    const fields = {
      execution: `backend-${tagOf(index)}-bench`,
      stage: 'staging',
      release: release(index),
      edit: 'promotion' as const,
    };
    let answer: PullRequestAnswer = await pullRequestTask({ action: 'open', ...fields }, deps);
    for (let attempt = 0; answer.state === 'open' && attempt < MAX_CHECKS; attempt++) {
      const input: PullRequestInput = { action: 'check', ...fields, pullRequest: answer };
      answer = await pullRequestTask(input, deps);
      checks++;
    }
    if (answer.state === 'merged') merged++;
    else throw new Error(`${tagOf(index)}: the pull request ended ${answer.state}: ${answer.message}`);
  }
  return { merged, checks };
}

/** The naive way through the REST API, one change after another, each on its own branch. */
async function naive(server: GitHubServer): Promise<{ merged: number }> {
  const octokit = await createGitHubOctokit(
    { apiUrl: server.url, token: { source: 'env', name: 'BENCH' } },
    clientOptions,
  );
  const repo = { owner: OWNER, repo: REPO };
  let merged = 0;
  for (let index = 0; index < CHANGES; index++) {
    const { tag, digest } = release(index);
    const branch = `naive/backend/${tag}`;
    const { data: base } = await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', {
      ...repo,
      ref: 'heads/main',
    });
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
      ...repo,
      path: FILE,
      ref: 'main',
    });
    const file = data as { content: string; sha: string };
    const edit = setKustomizeImage(FILE, Buffer.from(file.content, 'base64').toString('utf8'), {
      image: IMAGE,
      tag,
      digest,
    });
    await octokit.request('POST /repos/{owner}/{repo}/git/refs', {
      ...repo,
      ref: `refs/heads/${branch}`,
      sha: base.object.sha,
    });
    await octokit.request('PUT /repos/{owner}/{repo}/contents/{path}', {
      ...repo,
      path: FILE,
      branch,
      sha: file.sha,
      message: `Promote backend ${tag} to staging\n`,
      content: Buffer.from(edit.content).toString('base64'),
    });
    const { data: pull } = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
      ...repo,
      head: branch,
      base: 'main',
      title: `Promote backend ${tag} to staging`,
    });
    const { data: merge } = await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', {
      ...repo,
      pull_number: pull.number,
    });
    await octokit.request('DELETE /repos/{owner}/{repo}/git/refs/{ref}', { ...repo, ref: `heads/${branch}` });
    if (merge.merged) merged++;
  }
  return { merged };
}

async function measure(
  way: string,
  work: (server: GitHubServer) => Promise<{ merged: number; checks?: number }>,
): Promise<PullRequestFigures> {
  const workdir = await mkdtemp(join(tmpdir(), 'shiplane-bench-pulls-'));
  const seeded = await seedGitopsRepository(join(workdir, 'repo'));
  const server = await startGitHubServer({
    owner: OWNER,
    repo: REPO,
    repoDir: seeded.dir,
    branch: seeded.branch,
    token: TOKEN,
  });
  try {
    server.resetStats();
    const started = performance.now();
    const { merged, checks } = await work(server);
    const wallMs = Math.round(performance.now() - started);
    const text = (await server.readFile(FILE)) ?? '';
    const last = readKustomizeImage(FILE, text, IMAGE)?.newTag;
    if (last !== tagOf(CHANGES - 1))
      throw new Error(`${way}: staging ends at ${last}, not ${tagOf(CHANGES - 1)}`);
    const { total, contentCreating, byRoute } = server.stats;
    const perChange = (count: number) => Math.round((count / CHANGES) * 100) / 100;
    return {
      way,
      changes: CHANGES,
      merged,
      apiCalls: total,
      callsPerChange: perChange(total),
      contentCreating,
      byRoute: Object.fromEntries(
        Object.entries(byRoute)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([route, count]) => [route, perChange(count)]),
      ),
      ...(checks === undefined ? {} : { checksPerChange: perChange(checks) }),
      wallMs,
    };
  } finally {
    await server.close();
    await rm(workdir, { recursive: true, force: true });
  }
}

export async function pullRequestCalls(): Promise<readonly [PullRequestFigures, PullRequestFigures]> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const shiplane = await measure('shiplane pull-request step (merge: auto)', viaPullRequestStep);
  const baseline = await measure('naive (branch + contents PUT + PR + merge + delete)', naive);
  return [shiplane, baseline];
}

export function pullRequestChecks(shiplane: PullRequestFigures) {
  return [
    {
      goal: `pull-request mode: API calls per promoted change ≤ ${PULL_REQUEST_GOALS.callsPerChange}`,
      met:
        shiplane.merged === shiplane.changes && shiplane.callsPerChange <= PULL_REQUEST_GOALS.callsPerChange,
    },
  ];
}

/** One row per endpoint, calls per change for both ways side by side. */
export function pullRequestRows(figures: readonly PullRequestFigures[]): Record<string, Cell>[] {
  const routes = [...new Set(figures.flatMap((entry) => Object.keys(entry.byRoute)))].sort();
  const column = (entry: PullRequestFigures) => entry.way.split(' ')[0]!;
  return [
    ...routes.map((route) => ({
      endpoint: route.replace('/repos/{owner}/{repo}', ''),
      ...Object.fromEntries(figures.map((entry) => [column(entry), entry.byRoute[route] ?? 0])),
    })),
    {
      endpoint: 'total per change',
      ...Object.fromEntries(figures.map((entry) => [column(entry), entry.callsPerChange])),
    },
  ];
}
