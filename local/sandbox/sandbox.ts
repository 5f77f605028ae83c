/**
 * `shiplane sandbox`: the whole pipeline on one machine. In a work folder it seeds a real GitOps
 * repository with the ITDO ERP layout, starts the GitHub, Argo CD, Slack, Secrets Manager and ECR
 * stand-ins on 127.0.0.1, writes and validates a config that points at them, runs the real secret
 * sync, builds the local engine with the real handlers, serves the console and the Slack
 * interaction endpoint, and (unless told not to) simulates an ECR push of `itdo-erp/backend:v2.1.6`
 * (or the tag given).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RUN_STATE_NAMES } from '../../infra/constructs/promotion-state-machine.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import type { Config } from '../../shared/config/schema.js';
import { TerminalError } from '../../shared/errors.js';
import type { ExecutionDescription } from '../engine/index.js';
import { type ArgoCdServer, type StandInApp, startArgoCdServer } from '../stand-ins/argocd/server.js';
import { type EcrServer, ecrClientConfig, startEcrServer } from '../stand-ins/ecr/server.js';
import { startGitHubFront } from '../stand-ins/github/front.js';
import { type GitHubServer, startGitHubServer } from '../stand-ins/github/server.js';
import { ITDO_ERP_EXAMPLE_SECRETS } from '../stand-ins/secrets-manager/examples.js';
import { localClientConfig, startSecretsManagerServer } from '../stand-ins/secrets-manager/server.js';
import { type SlackServer, startSlackServer } from '../stand-ins/slack/server.js';
import { watchArgoCd } from './argo-view.js';
import { approveWhenAsked } from './auto-approve.js';
import { createConsoleBackend } from './console-backend.js';
import { DEGRADED, deployedAt } from './deployed-images.js';
import { imageTagProblem, SANDBOX_ACCOUNT, SANDBOX_REGION } from './ecr-push.js';
import { everyInterval } from './every-interval.js';
import { commitLog, ENVIRONMENTS, environmentSeed, headOf, seedGitopsRepository } from './gitops-repo.js';
import { DEFAULT_PORT, DEFAULT_WORKDIR, SANDBOX_STATE_FILE } from './paths.js';
import { pushImage, SANDBOX_APPS } from './push.js';
import { type SandboxRunSummary, summarizeSandboxRun } from './run-summary.js';
import { callbackReporter, createLocalRuntime, type LocalRuntime, scheduledEvent } from './runtime.js';
import {
  productionRepositoryProblem,
  SANDBOX_CHANNEL,
  SANDBOX_REPOSITORY,
  SANDBOX_SECRET_ENV,
  SANDBOX_USERS,
  writeSandboxConfig,
} from './sandbox-config.js';
import { type PushAnswer, type SandboxAlert, type SandboxServer, startSandboxServer } from './server.js';
import { settled } from './settled.js';
import { createTimelinePrinter } from './terminal.js';
import { followBranch } from './working-copy.js';

export type { SandboxRunSummary, StageResult } from './run-summary.js';

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
  /**
   * Production's overlay in its own GitOps repository (`owner/name`, issue 13): a second GitHub
   * stand-in behind the same API address serves it, production's Argo CD app follows it, and the
   * config's production stage names it. @default production in the GitOps repository
   */
  readonly productionRepository?: string;
  /** Lines of the live timeline and status messages. */
  readonly write?: (line: string) => void;
  readonly color?: boolean;
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
  /** The stand-in serving `productionRepository`, when given. */
  readonly productionGitHub: GitHubServer | undefined;
  /** The ECR stand-in: every image pushed, its scan and its config. */
  readonly ecr: EcrServer;
  /** What the ECR push of the scenario started, when it ran. */
  readonly scenarioExecution: string | undefined;
  push(app: string, tag: string): Promise<PushAnswer>;
  /** Resolves when the run ends. */
  waitForRun(execution: string): Promise<ExecutionDescription>;
  summary(execution: string): Promise<SandboxRunSummary>;
  stop(): Promise<void>;
}

/** Starts everything; `stop()` closes it all. A second start in the same folder starts over. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const write = options.write ?? (() => undefined);
  const workdir = resolve(options.workdir ?? DEFAULT_WORKDIR);
  const repoDir = join(workdir, 'repo');
  const configFile = join(workdir, 'shiplane.config.yaml');
  const stateFile = join(workdir, SANDBOX_STATE_FILE);
  const closers: Array<() => Promise<unknown>> = [];

  const stopAll = async () => {
    await rm(stateFile, { force: true });
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };

  const scenarioTag = options.tag ?? SCENARIO.tag;
  const tagProblem = imageTagProblem(scenarioTag);
  if (tagProblem) throw new InvalidScenarioTagError(`--tag: ${tagProblem}`);
  const repositoryProblem =
    options.productionRepository === undefined
      ? undefined
      : productionRepositoryProblem(options.productionRepository);
  if (repositoryProblem) throw new InvalidSandboxOptionError(`production repository: ${repositoryProblem}`);

  // Starting over under a running sandbox would re-seed the repository it is serving.
  const running = await runningSandbox(stateFile);
  if (running?.alive === false) {
    // Killed without stopping (kill -9, a crash): its lock says nothing any more.
    await rm(stateFile, { force: true });
    write(`cleared a stale lock: the sandbox that ran here (pid ${running.pid}) is gone`);
  } else if (running) {
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
    const production = options.productionRepository
      ? await startProductionGitHub(options.productionRepository, seeded.branch, {
          token: secret(SANDBOX_SECRET_ENV.githubToken),
          identity: { name: 'Shiplane', email: 'shiplane@itdo-erp.com' },
        })
      : undefined;
    if (production) closers.push(() => production.close());
    // One API address for both repositories, as api.github.com is.
    const front = production ? await startGitHubFront([github, production]) : undefined;
    if (front) closers.push(() => front.close());
    /** The repository an Argo CD app's path (an environment's overlay) lives in. */
    const repoDirOf = (path: string) =>
      production && path === 'environments/production' ? production.repoDir : repoDir;

    const argoApps = sandboxArgoApps(options.productionRepository);
    const argocd = await startArgoCdServer({
      token: secret(SANDBOX_SECRET_ENV.argocdToken),
      apps: argoApps,
      resolveHead: (app) => headOf(repoDirOf(app.path), seeded.branch),
      readTag: (revision, app) => deployedAt(repoDirOf(app.path), revision, app.path),
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

    // The sandbox's registry: pushes are recorded here, and the handlers read it with the real ECRClient.
    const ecr = await startEcrServer({
      repositories: Object.values(SANDBOX_APPS),
      accountId: SANDBOX_ACCOUNT,
      region: SANDBOX_REGION,
    });
    closers.push(() => ecr.close());

    const config = await writeSandboxConfig(
      configFile,
      {
        githubApiUrl: front?.url ?? github.url,
        argocdUrl: argocd.url,
        slackApiUrl: slack.apiUrl,
        ecrUrl: ecr.endpoint,
      },
      {
        ...(options.approvalTimeoutSeconds === undefined
          ? {}
          : { approvalTimeout: options.approvalTimeoutSeconds }),
        ...(options.productionRepository ? { productionRepository: options.productionRepository } : {}),
      },
    );

    const alerts: SandboxAlert[] = [];
    const resolveSecret = createSecretResolver({ env });
    const secretsClient = new SecretsManagerClient(localClientConfig(secretsManager));
    closers.push(async () => secretsClient.destroy());
    const runtime = await createLocalRuntime({
      config,
      resolveSecret,
      secretsManager: secretsClient,
      ecr: ecrClientConfig(ecr),
      timing: {
        waitSeconds: options.pollSeconds ?? 1,
        retryIntervalMs: 200,
        // A pending scan waits for the stand-in's `ECR Image Scan` event (its scans take 3 s), or
        // 5 s at most before it asks again, as AWS's 30 s poll would.
        taskTimeoutsMs: { [RUN_STATE_NAMES.waitForScan]: Math.max(1, options.pollSeconds ?? 1) * 5_000 },
      },
      // The stand-in has no secondary rate limit to respect.
      githubWriteIntervalMs: 0,
      reporter: callbackReporter((message) => write(`  ! ${message}`)),
      onAlert: (alert) => {
        alerts.push({ at: new Date().toISOString(), subject: alert.subject, message: alert.message });
        write(`  ✉ alert (SNS): ${alert.subject}`);
      },
    });
    closers.push(() => runtime.stop());
    // The stand-in's `ECR Image Scan` events reach scan-events as the EventBridge rule's would.
    const stopScanEvents = ecr.onScanEvent((event) => {
      runtime
        .scanEvent(event)
        .catch((error: unknown) => write(`  ! scan event: ${(error as Error).message}`));
    });
    closers.push(async () => stopScanEvents());
    const printTimeline = createTimelinePrinter(write, { color: options.color ?? false });
    const unsubscribe = runtime.engine.on('event', printTimeline);
    closers.push(async () => unsubscribe());

    // The Argo CD controller's clock: one step per app per tick, and what the console shows of it.
    const argoWatch = await watchArgoCd({
      argocd,
      apps: argoApps,
      token: secret(SANDBOX_SECRET_ENV.argocdToken),
      repoDir,
      repoDirOf,
      intervalMs: options.argoTickMs ?? 700,
    });
    closers.push(async () => argoWatch.stop());
    const workingCopy = followBranch(repoDir, seeded.branch, seeded.head);
    closers.push(async () => workingCopy.stop());

    const backend = createConsoleBackend({
      runtime,
      config,
      configFile,
      slack,
      repoDir,
      repoDirOf: (environment) => repoDirOf(`environments/${environment}`),
      branch: seeded.branch,
      argocd: argoWatch.apps,
      github,
      alerts: () => alerts,
      ecr,
      write,
    });
    const server = await listen(options.port ?? DEFAULT_PORT, {
      signingSecret: secret(SANDBOX_SECRET_ENV.slackSigningSecret),
      interaction: runtime.interaction as never,
      backend,
    });
    closers.push(() => server.close());

    const approve = options.approve ?? 'manual';
    if (approve !== 'manual') {
      const decision = approve === 'reject' ? 'reject' : 'approve';
      const stopClicking = approveWhenAsked({
        decision,
        runtime,
        config,
        slack,
        serverUrl: server.url,
        write,
      });
      closers.push(async () => stopClicking());
    }

    write('Shiplane sandbox');
    write(`  work folder   ${workdir}`);
    write(`  config        ${configFile}`);
    write(`  GitOps repo   ${repoDir}  (${SANDBOX_REPOSITORY}, ${seeded.branch})`);
    if (production) {
      write(`  production    ${production.repoDir}  (${options.productionRepository}, ${seeded.branch})`);
    }
    write(`  GitHub API    ${github.url}`);
    write(`  Argo CD       ${argocd.url}  (${argoApps.map((app) => app.name).join(', ')})`);
    write(`  Slack API     ${slack.apiUrl}  (#deploys ${SANDBOX_CHANNEL})`);
    write(`  Secrets Mgr   ${secretsManager.endpoint}  (${ITDO_ERP_EXAMPLE_SECRETS.length} example secrets)`);
    write(`  ECR           ${ecr.endpoint}  (${Object.values(SANDBOX_APPS).join(', ')})`);
    write(`  interactions  ${server.interactionUrl}`);
    write('');
    write(`  Console  →  ${server.url}/`);

    await syncSecretsAtStart(runtime);
    await workingCopy.follow();
    const synced = (await commitLog(repoDir, seeded.branch, 1))[0];
    if (synced && synced.sha !== seeded.head) {
      write('');
      write(`secret sync    ${synced.subject} → ${synced.sha.slice(0, 7)} (${synced.files.join(', ')})`);
    }

    const push = (app: string, tag: string) => pushImage(runtime, app, tag, ecr);
    // The sweep on its schedule (intake.sweep), as EventBridge runs it: it finds pushes the intake missed.
    const sweepPeriod = config.intake.sweep;
    if (sweepPeriod !== 'off') {
      const stopSweeping = everyInterval(() => sweepOnce(runtime, write), sweepPeriod * 1000);
      closers.push(async () => stopSweeping());
    }
    let scenarioExecution: string | undefined;
    if (options.scenario ?? true) {
      const answer = await push(SCENARIO.app, scenarioTag);
      write(answer.message);
      scenarioExecution = answer.execution;
    }

    await writeFile(stateFile, JSON.stringify({ url: server.url, pid: process.pid, workdir }, null, 2));

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
      productionGitHub: production,
      ecr,
      scenarioExecution,
      push,
      waitForRun: (execution) => settled(runtime, execution),
      summary: (execution) =>
        summarizeSandboxRun(execution, {
          runtime,
          config,
          repoDir,
          repoDirOf: (environment) => repoDirOf(`environments/${environment}`),
          branch: seeded.branch,
          consoleUrl: `${server.url}/`,
          workdir,
        }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The second repository's stand-in: production's overlay as the seed has it. */
async function startProductionGitHub(
  repository: string,
  branch: string,
  access: { token: string; identity: { name: string; email: string } },
): Promise<GitHubServer> {
  const [owner = '', repo = ''] = repository.split('/');
  return startGitHubServer({ owner, repo, branch, seed: environmentSeed('production'), ...access });
}

/** One Argo CD Application per environment, as the ITDO ERP ApplicationSet generates them. */
function sandboxArgoApps(productionRepository?: string): StandInApp[] {
  return ENVIRONMENTS.map((environment) => ({
    name: `itdo-erp-${environment}`,
    path: `environments/${environment}`,
    repoURL: `https://github.com/${
      environment === 'production' && productionRepository ? productionRepository : SANDBOX_REPOSITORY
    }.git`,
    destinationNamespace: `itdo-erp-${environment}`,
    automated: true,
    workload: 'backend',
    image: `itdo-erp/backend`,
    replicas: environment === 'production' ? 3 : 1,
  }));
}

/**
 * Secret sync first, as its schedule would: the ExternalSecret files come from Shiplane, not by hand.
 * Resolves once its commits are in.
 */
async function syncSecretsAtStart(runtime: LocalRuntime): Promise<void> {
  await runtime.syncSecrets(scheduledEvent());
  await runtime.commitsSettled();
}

/** One scheduled sweep; says so when it started a run the intake missed, or failed. */
async function sweepOnce(runtime: LocalRuntime, write: (line: string) => void): Promise<void> {
  try {
    const result = await runtime.sweep();
    if (result.started > 0)
      write(`sweep          started ${result.started} run(s) for pushes the intake missed`);
  } catch (error) {
    write(`  ! sweep failed: ${(error as Error).message}`);
  }
}

export class SandboxAlreadyRunningError extends TerminalError {
  override name = 'SandboxAlreadyRunningError';
}

/** A sandbox option names something the sandbox cannot set up. */
export class InvalidSandboxOptionError extends TerminalError {
  override name = 'InvalidSandboxOptionError';
}

/** The scenario's tag is not one ECR would accept. */
export class InvalidScenarioTagError extends TerminalError {
  override name = 'InvalidScenarioTagError';
}

/**
 * The sandbox whose state file this is, and whether its process is still alive; undefined when
 * there is no state file (or it is this process's own).
 */
async function runningSandbox(
  stateFile: string,
): Promise<{ pid: number; url: string; alive: boolean } | undefined> {
  let state: { pid?: unknown; url?: unknown };
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as typeof state;
  } catch {
    return undefined;
  }
  if (typeof state.pid !== 'number' || state.pid === process.pid) return undefined;
  return { pid: state.pid, url: String(state.url), alive: isAlive(state.pid) };
}

function isAlive(pid: number): boolean {
  try {
    // Signal 0 only asks whether the process exists.
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
