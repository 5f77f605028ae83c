/**
 * `shiplane sandbox`: the whole pipeline on one machine. In a work folder it seeds a real GitOps
 * repository with the ITDO ERP layout, starts the GitHub, Argo CD, Slack and Secrets Manager
 * stand-ins on 127.0.0.1, writes and validates a config that points at them, runs the real secret
 * sync, builds the local engine with the real handlers, serves the console and the Slack
 * interaction endpoint, and (unless told not to) simulates an ECR push of `itdo-erp/backend:v2.1.6`
 * (or the tag given).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse } from 'yaml';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import type { Config } from '../../shared/config/schema.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../shared/domain/approval-message.js';
import {
  buildTimeline,
  type Recovery,
  type RunOutcomeName,
  recoveryOf,
  summarizeRun,
} from '../../shared/domain/execution-timeline.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import { TerminalError } from '../../shared/errors.js';
import { retryRun } from '../../shared/recovery/retry-run.js';
import { ExecutionAlreadyExistsError, type ExecutionDescription } from '../engine/index.js';
import { type ArgoCdServer, type StandInApp, startArgoCdServer } from '../stand-ins/argocd/server.js';
import { type GitHubServer, startGitHubServer } from '../stand-ins/github/server.js';
import { ITDO_ERP_EXAMPLE_SECRETS } from '../stand-ins/secrets-manager/examples.js';
import { localClientConfig, startSecretsManagerServer } from '../stand-ins/secrets-manager/server.js';
import { type SlackServer, startSlackServer } from '../stand-ins/slack/server.js';
import { ecrPushEvent, imageTagProblem, sqsEventOf } from './ecr-push.js';
import { commitLog, currentTags, ENVIRONMENTS, git, headOf, seedGitopsRepository } from './gitops-repo.js';
import { DEFAULT_PORT, DEFAULT_WORKDIR, SANDBOX_STATE_FILE } from './paths.js';
import { callbackReporter, createLocalRuntime, type LocalRuntime } from './runtime.js';
import {
  SANDBOX_CHANNEL,
  SANDBOX_REPOSITORY,
  SANDBOX_SECRET_ENV,
  SANDBOX_USERS,
  writeSandboxConfig,
} from './sandbox-config.js';
import {
  type ArgoAppView,
  type ConsoleBackend,
  type ConsoleMessage,
  type PushAnswer,
  type SandboxServer,
  startSandboxServer,
} from './server.js';
import { createTimelinePrinter } from './terminal.js';

export const SCENARIO = { app: 'backend', tag: 'v2.1.6' } as const;

export type ApproveMode = 'manual' | 'auto' | 'reject';

export interface SandboxOptions {
  /** @default .shiplane/sandbox */
  readonly workdir?: string;
  /** Port of the console and interaction endpoint; 0 picks a free one. @default 4400 (a free one when taken) */
  readonly port?: number;
  /** `auto` approves (`reject` rejects) through the signed Slack path as soon as Slack asks. @default manual */
  readonly approve?: ApproveMode;
  /** Push `itdo-erp/backend:v2.1.6` (or `tag`) at start. @default true */
  readonly scenario?: boolean;
  /** The tag the scenario pushes. @default v2.1.6 */
  readonly tag?: string;
  /** Seconds every Wait state waits (the Argo CD poll). @default 1 */
  readonly pollSeconds?: number;
  /** How long the production approval waits before it expires. @default 3600 */
  readonly approvalTimeoutSeconds?: number;
  /** Argo CD stand-in: ms between controller steps (each step moves a sync or rollout on). @default 700 */
  readonly argoTickMs?: number;
  /** Lines of the live timeline and status messages. */
  readonly write?: (line: string) => void;
  readonly color?: boolean;
}

export interface StageResult {
  readonly name: string;
  readonly commit: string | null;
}

/** What `--json` prints. */
export interface SandboxRunSummary {
  readonly execution: string;
  readonly status: string;
  readonly outcome: RunOutcomeName | null;
  readonly stages: readonly StageResult[];
  readonly approval: { readonly decision: string; readonly by: string | undefined } | null;
  readonly tags: Record<string, Record<string, string | null>>;
  readonly commits: ReadonlyArray<{ readonly sha: string; readonly subject: string }>;
  readonly consoleUrl: string;
  readonly workdir: string;
  /** For a rolled-back run: from Degraded seen to Healthy at the rollback commit. */
  readonly recovery?: Omit<Recovery, 'stage'>;
}

export interface Sandbox {
  readonly url: string;
  readonly workdir: string;
  readonly repoDir: string;
  readonly configFile: string;
  readonly config: Config;
  readonly runtime: LocalRuntime;
  readonly slack: SlackServer;
  readonly argocd: ArgoCdServer;
  readonly github: GitHubServer;
  /** What the ECR push of the scenario started, when it ran. */
  readonly scenarioExecution: string | undefined;
  push(app: string, tag: string): Promise<PushAnswer>;
  /** Resolves when the run ends. */
  waitForRun(execution: string): Promise<ExecutionDescription>;
  summary(execution: string): Promise<SandboxRunSummary>;
  stop(): Promise<void>;
}

const APPS: Record<string, string> = { backend: 'itdo-erp/backend', frontend: 'itdo-erp/frontend' };

/** The images an environment's overlay pins at a revision, `itdo-erp/backend:v2.1.6` each. */
async function imagesAt(repoDir: string, revision: string, path: string): Promise<string[]> {
  let text: string;
  try {
    text = await git(repoDir, ['show', `${revision}:${path}/kustomization.yaml`]);
  } catch {
    return [];
  }
  const images =
    (parse(text) as { images?: Array<{ name?: unknown; newTag?: unknown }> } | null)?.images ?? [];
  return images
    .filter((image) => typeof image.name === 'string' && image.newTag !== undefined)
    .map((image) => `${String(image.name)}:${String(image.newTag)}`);
}

/**
 * What the Argo CD stand-in deploys at a revision: every image of the overlay in one "tag", so a
 * change to any of them is a change to sync, and a `-bad` tag anywhere rolls out Degraded.
 */
const DEGRADED = /-bad(,|$)/;
async function deployedAt(repoDir: string, revision: string, path: string): Promise<string | undefined> {
  const images = await imagesAt(repoDir, revision, path);
  return images.length > 0 ? images.join(',') : undefined;
}

/** Starts everything; `stop()` closes it all. A second start in the same folder starts over. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const write = options.write ?? (() => undefined);
  const workdir = resolve(options.workdir ?? DEFAULT_WORKDIR);
  const repoDir = join(workdir, 'repo');
  const configFile = join(workdir, 'shiplane.config.yaml');
  const stateFile = join(workdir, SANDBOX_STATE_FILE);
  const closers: Array<() => Promise<unknown>> = [];
  const timers: NodeJS.Timeout[] = [];

  const stopAll = async () => {
    for (const timer of timers) clearInterval(timer);
    await rm(stateFile, { force: true });
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };

  const scenarioTag = options.tag ?? SCENARIO.tag;
  const tagProblem = imageTagProblem(scenarioTag);
  if (tagProblem) throw new InvalidScenarioTagError(`--tag: ${tagProblem}`);

  // Starting over under a running sandbox would re-seed the repository it is serving.
  const running = await runningSandbox(stateFile);
  if (running) {
    throw new SandboxAlreadyRunningError(
      `a sandbox is already running in ${workdir} (pid ${running.pid}, ${running.url}); stop it first, or pass --workdir`,
    );
  }

  try {
    await mkdir(workdir, { recursive: true });
    await rm(stateFile, { force: true });
    const seeded = await seedGitopsRepository(repoDir);

    // Secrets exist only in this process: the config refers to them as env: references.
    const env: NodeJS.ProcessEnv = {
      [SANDBOX_SECRET_ENV.githubToken]: `ghs_${randomBytes(18).toString('hex')}`,
      [SANDBOX_SECRET_ENV.argocdToken]: randomBytes(24).toString('base64url'),
      [SANDBOX_SECRET_ENV.slackBotToken]: `xoxb-${randomBytes(12).toString('hex')}`,
      [SANDBOX_SECRET_ENV.slackSigningSecret]: randomBytes(16).toString('hex'),
    };
    const secret = (name: string) => env[name] ?? '';

    const [owner = 'itdo-erp', repo = 'itdo-erp-infrastructure'] = SANDBOX_REPOSITORY.split('/');
    const github = await startGitHubServer({
      owner,
      repo,
      repoDir,
      branch: seeded.branch,
      token: secret(SANDBOX_SECRET_ENV.githubToken),
      identity: { name: 'Shiplane', email: 'shiplane@itdo-erp.com' },
    });
    closers.push(() => github.close());

    const argoApps: StandInApp[] = ENVIRONMENTS.map((environment) => ({
      name: `itdo-erp-${environment}`,
      path: `environments/${environment}`,
      repoURL: `https://github.com/${SANDBOX_REPOSITORY}.git`,
      destinationNamespace: `itdo-erp-${environment}`,
      automated: true,
      workload: 'backend',
      image: `itdo-erp/backend`,
      replicas: environment === 'production' ? 3 : 1,
    }));
    const argocd = await startArgoCdServer({
      token: secret(SANDBOX_SECRET_ENV.argocdToken),
      apps: argoApps,
      resolveHead: () => headOf(repoDir, seeded.branch),
      readTag: (revision, app) => deployedAt(repoDir, revision, app.path),
      degradedTags: DEGRADED,
      reconciliationSeconds: 30,
    });
    closers.push(() => argocd.close());

    const slack = await startSlackServer({
      botToken: secret(SANDBOX_SECRET_ENV.slackBotToken),
      channels: [SANDBOX_CHANNEL],
      users: Object.values(SANDBOX_USERS).map((user) => ({ id: user.id, name: user.name })),
      teamId: 'T0ITDOERP1',
    });
    closers.push(() => slack.close());

    const secretsManager = await startSecretsManagerServer({ secrets: ITDO_ERP_EXAMPLE_SECRETS });
    closers.push(() => secretsManager.close());

    const config = await writeSandboxConfig(
      configFile,
      { githubApiUrl: github.url, argocdUrl: argocd.url, slackApiUrl: slack.apiUrl },
      options.approvalTimeoutSeconds === undefined ? {} : { approvalTimeout: options.approvalTimeoutSeconds },
    );

    const alerts: Alert[] = [];
    const resolveSecret = createSecretResolver({ env });
    const secretsClient = new SecretsManagerClient(localClientConfig(secretsManager));
    closers.push(async () => secretsClient.destroy());
    const runtime = createLocalRuntime({
      config,
      resolveSecret,
      secretsManager: secretsClient,
      timing: { waitSeconds: options.pollSeconds ?? 1, retryIntervalMs: 200 },
      // The stand-in has no secondary rate limit to respect.
      githubWriteIntervalMs: 0,
      reporter: callbackReporter((message) => write(`  ! ${message}`)),
      onAlert: (alert) => {
        alerts.push(alert);
        write(`  ✉ alert (SNS): ${alert.subject}`);
      },
    });
    closers.push(() => runtime.stop());
    const printTimeline = createTimelinePrinter(write, { color: options.color ?? false });
    const unsubscribe = runtime.engine.on('event', printTimeline);
    closers.push(async () => unsubscribe());

    // The Argo CD controller's clock: one step per app per tick, and a cache the console reads.
    const argoView = new Map<string, ArgoAppView>();
    const imageCache = new Map<string, string[]>();
    const readArgo = async () => {
      for (const app of argoApps) {
        const response = await fetch(`${argocd.url}/api/v1/applications/${app.name}`, {
          headers: { authorization: `Bearer ${secret(SANDBOX_SECRET_ENV.argocdToken)}` },
        }).catch(() => undefined);
        if (!response?.ok) continue;
        const body = (await response.json()) as {
          status?: {
            sync?: { status?: string; revision?: string };
            health?: { status?: string; message?: string };
            operationState?: { phase?: string; message?: string };
          };
        };
        const status = body.status ?? {};
        const revision = status.sync?.revision;
        let images = revision ? imageCache.get(`${revision}:${app.path}`) : [];
        if (revision && !images) {
          images = await imagesAt(repoDir, revision, app.path);
          imageCache.set(`${revision}:${app.path}`, images);
        }
        argoView.set(app.name, {
          name: app.name,
          syncStatus: status.sync?.status ?? 'Unknown',
          healthStatus: status.health?.status ?? 'Unknown',
          revision: status.sync?.revision,
          operationPhase: status.operationState?.phase,
          message: status.health?.message,
          images: images ?? [],
        });
      }
    };
    // The working copy follows the branch the GitHub stand-in moves, so the files on disk are current.
    let checkedOut = seeded.head;
    const followHead = async () => {
      const head = await headOf(repoDir, seeded.branch).catch(() => checkedOut);
      if (head === checkedOut) return;
      await git(repoDir, ['read-tree', '-u', '--reset', head]).catch(() => undefined);
      checkedOut = head;
    };
    await readArgo();
    let ticking = false;
    timers.push(
      setInterval(() => {
        if (ticking) return;
        ticking = true;
        readArgo().finally(() => {
          ticking = false;
        });
      }, options.argoTickMs ?? 700),
    );
    let following = false;
    timers.push(
      setInterval(() => {
        if (following) return;
        following = true;
        followHead().finally(() => {
          following = false;
        });
      }, 300),
    );

    const users = [
      { ...SANDBOX_USERS.approver, approver: true },
      { ...SANDBOX_USERS.outsider, approver: false },
    ];
    const responses: ConsoleMessage[] = [];
    const byTs = (a: ConsoleMessage, b: ConsoleMessage) => Number(a.ts) - Number(b.ts);
    const slackMessages = (): ConsoleMessage[] => {
      const all = slack.messages(SANDBOX_CHANNEL);
      const ephemerals = slack.ephemerals();
      const view = (m: (typeof all)[number]): ConsoleMessage => ({
        ts: m.ts,
        text: m.text,
        blocks: m.blocks,
        bot_id: m.bot_id,
        user: m.user,
        username: 'Shiplane',
        edited: m.edited !== undefined,
        ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      });
      const replies = (ts: string): ConsoleMessage[] =>
        [
          ...all.filter((m) => m.thread_ts === ts && m.ts !== ts).map(view),
          ...ephemerals
            .filter((e) => e.thread_ts === ts)
            .map((e) => ({
              ts: e.message_ts,
              text: e.text,
              username: 'Shiplane',
              ephemeral: { user: e.user },
              thread_ts: ts,
            })),
          ...responses.filter((r) => r.thread_ts === ts),
        ].sort(byTs);
      return [
        ...all
          .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
          .map((m) => ({ ...view(m), replies: replies(m.ts) })),
        ...ephemerals
          .filter((e) => !e.thread_ts)
          .map((e) => ({
            ts: e.message_ts,
            text: e.text,
            username: 'Shiplane',
            ephemeral: { user: e.user },
          })),
        ...responses.filter((r) => !r.thread_ts),
      ].sort(byTs);
    };

    const push = async (app: string, tag: string): Promise<PushAnswer> => {
      const repository = APPS[app];
      if (!repository)
        return {
          result: 'ignored',
          message: `no app ${app}; the sandbox has ${Object.keys(APPS).join(', ')}`,
        };
      const outcome = await runtime.deliver(sqsEventOf(ecrPushEvent({ repository, tag })));
      const pushed = `ECR push ${repository}:${tag}`;
      switch (outcome.result) {
        case 'started':
          return {
            result: 'started',
            execution: outcome.execution ?? '',
            message: `${pushed}: started ${outcome.execution}`,
          };
        case 'duplicate':
          return {
            result: 'duplicate',
            execution: outcome.execution ?? '',
            message: `${pushed}: the same image again — execution ${outcome.execution} already exists, nothing new started`,
          };
        case 'ignored':
          return {
            result: 'ignored',
            message: `${pushed}: ignored by the intake (the tag is not a release of ${app})`,
          };
        case 'refused':
          return {
            result: 'failed',
            message: `${pushed}: refused by the intake — the tag was released before with another digest; see the log`,
          };
        default:
          return { result: 'failed', message: `${pushed}: the intake failed; see the log` };
      }
    };

    const backend: ConsoleBackend = {
      info: () => ({
        repository: SANDBOX_REPOSITORY,
        branch: seeded.branch,
        channel: SANDBOX_CHANNEL,
        channelName: 'deploys',
        configFile,
        apps: Object.keys(config.apps),
        stages: config.stages.map((stage) => stage.name),
        users,
        startedAt: new Date().toISOString(),
      }),
      listExecutions: async () =>
        runtime.engine.listExecutions().map((item) => ({
          name: item.name ?? '',
          arn: item.executionArn ?? '',
          status: item.status ?? 'RUNNING',
          startDate: item.startDate,
          stopDate: item.stopDate,
        })),
      getExecution: async (name) => {
        let description: ExecutionDescription;
        try {
          description = runtime.engine.describeExecution(name);
        } catch {
          return undefined;
        }
        return {
          name: description.name,
          arn: description.executionArn,
          status: description.status,
          startDate: description.startDate,
          stopDate: description.stopDate,
          input: description.input ? JSON.parse(description.input) : undefined,
          output: description.output ? JSON.parse(description.output) : undefined,
          error: description.error,
          cause: description.cause,
          events: runtime.engine.history(name),
        };
      },
      slackMessages: async () => slackMessages(),
      respond: (user, message, body) => {
        // What an app posts to response_url: shown only to the user who clicked, like an ephemeral.
        if (typeof body.text !== 'string' || body.response_type === 'in_channel') return;
        responses.push({
          ts: `${Date.now() / 1000}`,
          text: body.text,
          username: 'Shiplane',
          ephemeral: { user },
          ...(message?.thread_ts ? { thread_ts: message.thread_ts } : {}),
        });
      },
      repo: async () => ({
        branch: seeded.branch,
        head: await headOf(repoDir, seeded.branch),
        tags: await currentTags(repoDir, seeded.branch, APPS),
        log: await commitLog(repoDir, seeded.branch, 25),
      }),
      argocd: async () => [...argoView.values()],
      push,
      retry: async (name) => {
        const answer = await retryRun(name, {
          where: 'in the sandbox',
          find: async (execution) => {
            let description: ExecutionDescription;
            try {
              description = runtime.engine.describeExecution(execution);
            } catch {
              return undefined;
            }
            return {
              name: description.name,
              status: description.status,
              input: description.input ? JSON.parse(description.input) : undefined,
              output: description.output ? JSON.parse(description.output) : undefined,
            };
          },
          start: async (execution, input) => {
            try {
              return { status: 'started', executionArn: runtime.engine.start(input, execution).executionArn };
            } catch (error) {
              if (error instanceof ExecutionAlreadyExistsError) return { status: 'already-exists' };
              throw error;
            }
          },
        });
        write(
          answer.result === 'started'
            ? `retry of ${answer.retryOf}: started ${answer.execution}`
            : `retry of ${name} refused: ${answer.message}`,
        );
        return answer;
      },
    };

    const server = await listen(options.port ?? DEFAULT_PORT, {
      signingSecret: secret(SANDBOX_SECRET_ENV.slackSigningSecret),
      interaction: runtime.interaction as never,
      backend,
    });
    closers.push(() => server.close());

    // The approval clicks `--approve auto|reject` makes: through the console's endpoint, signed like Slack.
    const approve = options.approve ?? 'manual';
    if (approve !== 'manual') {
      const unsubscribeClicks = runtime.engine.on('event', ({ name, event }) => {
        const state = event.stateEnteredEventDetails?.name;
        if (!event.type?.endsWith('StateEntered') || !state?.endsWith(' · Await approval')) return;
        const stage = config.stages.find(
          (s) => `${s.name.charAt(0).toUpperCase()}${s.name.slice(1)} · Await approval` === state,
        );
        if (stage) void clickWhenAsked(name, stage.name);
      });
      closers.push(async () => unsubscribeClicks());
    }
    async function clickWhenAsked(execution: string, stage: string): Promise<void> {
      const actionId = approve === 'reject' ? REJECT_ACTION : APPROVE_ACTION;
      for (let i = 0; i < 600; i++) {
        const approvalId = await runtime.store.approvalIdFor(execution, stage);
        const message = approvalId
          ? slack
              .messages(SANDBOX_CHANNEL)
              .find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${approvalId}"`))
          : undefined;
        if (message) {
          const response = await fetch(`${server.url}/api/slack/click`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              ts: message.ts,
              actionId,
              value: approvalId,
              user: SANDBOX_USERS.approver.id,
            }),
          });
          const answer = (await response.json()) as { status?: number };
          write(
            `  ${approve === 'reject' ? 'rejected' : 'approved'} as ${SANDBOX_USERS.approver.name}: signed block_actions → HTTP ${answer.status ?? response.status}`,
          );
          return;
        }
        await new Promise((done) => setTimeout(done, 100));
      }
      write(`  ! no approval message for ${execution} appeared in Slack`);
    }

    write('Shiplane sandbox');
    write(`  work folder   ${workdir}`);
    write(`  config        ${configFile}`);
    write(`  GitOps repo   ${repoDir}  (${SANDBOX_REPOSITORY}, ${seeded.branch})`);
    write(`  GitHub API    ${github.url}`);
    write(`  Argo CD       ${argocd.url}  (${argoApps.map((app) => app.name).join(', ')})`);
    write(`  Slack API     ${slack.apiUrl}  (#deploys ${SANDBOX_CHANNEL})`);
    write(`  Secrets Mgr   ${secretsManager.endpoint}  (${ITDO_ERP_EXAMPLE_SECRETS.length} example secrets)`);
    write(`  interactions  ${server.interactionUrl}`);
    write('');
    write(`  Console  →  ${server.url}/`);

    // Secret sync first, as its schedule would: the ExternalSecret files come from Shiplane, not by hand.
    await runtime.syncSecrets({
      version: '0',
      id: randomBytes(8).toString('hex'),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'ap-northeast-1',
      resources: [],
      detail: {},
    });
    await runtime.commitsSettled();
    await followHead();
    const synced = (await commitLog(repoDir, seeded.branch, 1))[0];
    if (synced && synced.sha !== seeded.head) {
      write('');
      write(`secret sync    ${synced.subject} → ${synced.sha.slice(0, 7)} (${synced.files.join(', ')})`);
    }

    let scenarioExecution: string | undefined;
    if (options.scenario ?? true) {
      const answer = await push(SCENARIO.app, scenarioTag);
      write(answer.message);
      scenarioExecution = answer.execution;
    }

    await writeFile(stateFile, JSON.stringify({ url: server.url, pid: process.pid, workdir }, null, 2));

    const waitForRun = (execution: string) => settled(runtime, execution);

    return {
      url: server.url,
      workdir,
      repoDir,
      configFile,
      config,
      runtime,
      slack,
      argocd,
      github,
      scenarioExecution,
      push,
      waitForRun,
      async summary(execution) {
        const description = runtime.engine.describeExecution(execution);
        const timeline = buildTimeline(runtime.engine.history(execution));
        const summary = summarizeRun(timeline);
        const recovery = summary.outcome === 'rolled-back' ? recoveryOf(timeline) : undefined;
        const approval = summary.stages.find((stage) => stage.approval)?.approval;
        return {
          execution,
          status: description.status,
          outcome: summary.outcome ?? null,
          stages: config.stages.map((stage) => ({
            name: stage.name,
            commit: summary.stages.find((s) => s.name === stage.name)?.commit ?? null,
          })),
          approval: approval ? { decision: approval.decision, by: approval.byName ?? approval.by } : null,
          tags: await currentTags(repoDir, seeded.branch, APPS),
          commits: (await commitLog(repoDir, seeded.branch, 10)).map(({ sha, subject }) => ({
            sha,
            subject,
          })),
          consoleUrl: `${server.url}/`,
          workdir,
          ...(recovery
            ? {
                recovery: {
                  degradedAt: recovery.degradedAt,
                  restoredAt: recovery.restoredAt,
                  seconds: recovery.seconds,
                  commit: recovery.commit,
                },
              }
            : {}),
        };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export class SandboxAlreadyRunningError extends TerminalError {
  override name = 'SandboxAlreadyRunningError';
}

/** The scenario's tag is not one ECR would accept. */
export class InvalidScenarioTagError extends TerminalError {
  override name = 'InvalidScenarioTagError';
}

/** The sandbox whose state file this is, when its process is still alive. */
async function runningSandbox(stateFile: string): Promise<{ pid: number; url: string } | undefined> {
  let state: { pid?: unknown; url?: unknown };
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as typeof state;
  } catch {
    return undefined;
  }
  if (typeof state.pid !== 'number' || state.pid === process.pid) return undefined;
  try {
    // Signal 0 only asks whether the process exists.
    process.kill(state.pid, 0);
  } catch {
    return undefined;
  }
  return { pid: state.pid, url: String(state.url) };
}

const TERMINAL_EVENT = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/;

/**
 * Resolves with the run's description once it has ended. The engine emits the closing history event
 * just before it records the status, so the description is read once the status is no longer RUNNING.
 */
export function settled(runtime: LocalRuntime, execution: string): Promise<ExecutionDescription> {
  const ended = () => runtime.engine.describeExecution(execution).status !== 'RUNNING';
  return new Promise<ExecutionDescription>((done) => {
    const finish = () => {
      if (ended()) done(runtime.engine.describeExecution(execution));
      else setTimeout(finish, 10);
    };
    if (ended() || runtime.engine.history(execution).some((event) => TERMINAL_EVENT.test(event.type))) {
      finish();
      return;
    }
    const off = runtime.engine.on('event', ({ name, event }) => {
      if (name !== execution || !TERMINAL_EVENT.test(event.type ?? '')) return;
      off();
      finish();
    });
  });
}

/** Listens on the wanted port, or on a free one when it is taken (a second sandbox, another program). */
async function listen(
  port: number,
  options: Omit<Parameters<typeof startSandboxServer>[0], 'port'>,
): Promise<SandboxServer> {
  try {
    return await startSandboxServer({ ...options, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    return startSandboxServer({ ...options, port: 0 });
  }
}
