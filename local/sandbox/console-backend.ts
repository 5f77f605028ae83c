/**
 * What the sandbox's console and JSON API read and do, wired to the engine and the stand-ins: the
 * runs, the Slack channel as people would see it (threads, ephemerals, answers to a click's
 * `response_url`), the GitOps repository, Argo CD, pushes, retries and manual rollbacks.
 */

import { startAnswer } from '../../shared/adapters/aws/step-functions.js';
import type { Config } from '../../shared/config/schema.js';
import type { RunInput } from '../../shared/contracts/tasks.js';
import { gitopsCommitUrl } from '../../shared/domain/repo-url.js';
import type { StartExecutionResult } from '../../shared/ports/executions.js';
import { decideApproval } from '../../shared/steps/approval/decide.js';
import { freezeRuleFor } from '../../shared/steps/approval/freeze-rule.js';
import { ApprovalNotFoundError, pendingApproval } from '../../shared/steps/approval/pending.js';
import { metricsReport } from '../../shared/steps/metrics/report.js';
import { type RunRecord, retryRun } from '../../shared/steps/recovery/retry-run.js';
import { rollbackRun } from '../../shared/steps/recovery/rollback-run.js';
import { ExecutionAlreadyExistsError, type ExecutionDescription, type LocalEngine } from '../engine/index.js';
import { HttpError } from '../http/errors.js';
import type { EcrServer } from '../stand-ins/ecr/server.js';
import type { GitHubServer } from '../stand-ins/github/server.js';
import type { SlackServer } from '../stand-ins/slack/server.js';
import { stageCommitUrlPrefixes } from './commit-links.js';
import { type CommitView, commitView } from './commit-page.js';
import { commitLog, currentTags, headOf } from './gitops-repo.js';
import { pushImage, SANDBOX_APPS } from './push.js';
import type { LocalRuntime } from './runtime.js';
import { SANDBOX_CHANNEL, SANDBOX_REPOSITORY, SANDBOX_USERS } from './sandbox-config.js';
import type { ArgoAppView, ConsoleBackend, ConsoleMessage, SandboxAlert } from './server.js';

export interface ConsoleBackendOptions {
  readonly runtime: LocalRuntime;
  readonly config: Config;
  readonly configFile: string;
  readonly slack: SlackServer;
  readonly repoDir: string;
  /** The repository an environment's overlay lives in, when not `repoDir`. */
  readonly repoDirOf?: (environment: string) => string;
  readonly branch: string;
  readonly argocd: () => ArgoAppView[];
  /** The GitOps repository as the GitHub stand-in serves it: the commit view reads its git store. */
  readonly github: Pick<GitHubServer, 'commit' | 'url'>;
  /** What the SNS alert topic got so far. */
  readonly alerts: () => readonly SandboxAlert[];
  /** The ECR stand-in, which records what the push form pushes. */
  readonly ecr?: Pick<EcrServer, 'push'>;
  /** Status lines for the terminal. */
  readonly write: (line: string) => void;
}

export function createConsoleBackend(options: ConsoleBackendOptions): ConsoleBackend {
  const { runtime, config, repoDir, branch } = options;
  const users = [
    { ...SANDBOX_USERS.approver, approver: true },
    { ...SANDBOX_USERS.outsider, approver: false },
  ];
  const responses: ConsoleMessage[] = [];
  const startedAt = new Date().toISOString();
  // DescribeExecution and StartExecution against the engine, as `retry` and `rollback` ask them.
  const findRun = async (execution: string): Promise<RunRecord | undefined> => {
    const description = describe(runtime.engine, execution);
    if (!description) return undefined;
    return {
      name: description.name,
      status: description.status,
      input: parsed(description.input),
      output: parsed(description.output),
    };
  };
  const startRun = async (execution: string, input: RunInput): Promise<StartExecutionResult> => {
    const requestedAt = Date.now();
    try {
      const started = runtime.engine.start(input, execution);
      return startAnswer(started.executionArn, started.startDate, requestedAt);
    } catch (error) {
      if (error instanceof ExecutionAlreadyExistsError) return { status: 'already-exists' };
      throw error;
    }
  };
  return {
    modals: options.slack,
    info: () => ({
      repository: SANDBOX_REPOSITORY,
      branch,
      channel: SANDBOX_CHANNEL,
      channelName: 'deploys',
      configFile: options.configFile,
      apps: Object.keys(config.apps),
      stages: config.stages.map((stage) => stage.name),
      users,
      startedAt,
      commitUrlPrefix: gitopsCommitUrl(config.gitops.github.apiUrl, config.gitops.repository, ''),
      stageCommitUrlPrefixes: stageCommitUrlPrefixes(config),
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
      const description = describe(runtime.engine, name);
      if (!description) return undefined;
      return {
        name: description.name,
        arn: description.executionArn,
        status: description.status,
        startDate: description.startDate,
        stopDate: description.stopDate,
        input: parsed(description.input),
        output: parsed(description.output),
        error: description.error,
        cause: description.cause,
        events: runtime.engine.history(name),
      };
    },
    slackMessages: async () => channelView(options.slack, responses),
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
      branch,
      head: await headOf(repoDir, branch),
      tags: await currentTags(repoDir, branch, SANDBOX_APPS, options.repoDirOf),
      log: await commitLog(repoDir, branch, 25),
    }),
    argocd: async () => options.argocd(),
    alerts: () => options.alerts(),
    commit: async (sha): Promise<CommitView | undefined> => {
      const diff = await options.github.commit(sha);
      return diff ? commitView(diff) : undefined;
    },
    push: (app, tag) => pushImage(runtime, app, tag, options.ecr),
    retry: async (name) => {
      const answer = await retryRun(name, { where: 'in the sandbox', find: findRun, start: startRun });
      options.write(
        answer.result === 'started'
          ? `retry of ${answer.retryOf}: started ${answer.execution}`
          : `retry of ${name} refused: ${answer.message}`,
      );
      return answer;
    },
    metrics: (query) =>
      metricsReport(query, {
        runs: runtime.runRecords,
        apps: Object.keys(config.apps),
        stages: config.stages.map((stage) => stage.name),
        now: () => new Date(),
      }),
    decide: async (execution, request) => {
      const stages = request.stage
        ? [request.stage]
        : config.stages.filter((stage) => stage.approval).map((stage) => stage.name);
      let record: Awaited<ReturnType<typeof pendingApproval>>;
      try {
        record = await pendingApproval(runtime.store, execution, stages);
      } catch (error) {
        if (error instanceof ApprovalNotFoundError) return undefined;
        throw error;
      }
      // The change-freeze rule, with the config's windows for the stage (as the Slack path has them).
      const windows = config.stages.find((stage) => stage.name === record.stage)?.freeze;
      const rule = freezeRuleFor(request, record, windows, new Date());
      if ('problem' in rule) throw new HttpError(409, `${rule.problem}; nothing decided`);
      // The same exactly-once path as a click: claim in the table, then answer the run's task token.
      const by = 'the sandbox (shiplane approve --sandbox)';
      const outcome = await decideApproval(
        {
          approvalId: record.approvalId,
          decision: request.decision,
          by,
          ...(request.reason ? { reason: request.reason } : {}),
          ...(rule.breakGlass ? { breakGlass: rule.breakGlass } : {}),
          via: 'cli',
        },
        {
          store: runtime.store,
          taskTokens: runtime.engine.taskTokens,
          now: () => new Date(),
          reporter: {
            info: () => {},
            warn: (m) => options.write(m),
            error: (m) => options.write(m),
            count: () => {},
          },
        },
      );
      options.write(
        `${request.decision === 'approved' ? 'approval' : 'rejection'} of ${execution} from the CLI: ${outcome.kind}`,
      );
      return {
        result: outcome.kind === 'decided' ? 'decided' : 'not-decided',
        by,
        outcome:
          outcome.kind === 'unavailable'
            ? { ...outcome, error: { message: outcome.error.message } }
            : outcome,
      };
    },
    rollback: async (request) => {
      const answer = await rollbackRun(
        { ...request, by: 'the sandbox (shiplane rollback --sandbox)' },
        {
          apps: Object.keys(config.apps),
          stages: config.stages.map((stage) => ({
            name: stage.name,
            approval: stage.approval !== undefined,
          })),
        },
        {
          where: 'in the sandbox',
          stageTags: (app, stage) => runtime.store.stageTags(app, stage),
          find: findRun,
          start: startRun,
        },
      );
      options.write(
        answer.result === 'started'
          ? `rollback of ${answer.app} in ${answer.stage} to ${answer.to}: started ${answer.execution}`
          : `rollback of ${request.app} in ${request.stage} refused: ${answer.message}`,
      );
      return answer;
    },
  };
}

/** The run's description, or undefined when there is no such run. */
function describe(engine: LocalEngine, name: string): ExecutionDescription | undefined {
  try {
    return engine.describeExecution(name);
  } catch {
    return undefined;
  }
}

const parsed = (text: string | undefined): unknown => (text ? JSON.parse(text) : undefined);

const byTs = (a: ConsoleMessage, b: ConsoleMessage) => Number(a.ts) - Number(b.ts);

/**
 * The channel as people see it: top-level messages with their replies nested, ephemerals and
 * response_url answers where they belong, oldest first.
 */
function channelView(slack: SlackServer, responses: readonly ConsoleMessage[]): ConsoleMessage[] {
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
  const ephemeralView = (e: (typeof ephemerals)[number]): ConsoleMessage => ({
    ts: e.message_ts,
    text: e.text,
    username: 'Shiplane',
    ephemeral: { user: e.user },
  });
  const replies = (ts: string): ConsoleMessage[] =>
    [
      ...all.filter((m) => m.thread_ts === ts && m.ts !== ts).map(view),
      ...ephemerals.filter((e) => e.thread_ts === ts).map((e) => ({ ...ephemeralView(e), thread_ts: ts })),
      ...responses.filter((r) => r.thread_ts === ts),
    ].sort(byTs);
  return [
    ...all
      .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
      .map((m) => ({ ...view(m), replies: replies(m.ts) })),
    ...ephemerals.filter((e) => !e.thread_ts).map(ephemeralView),
    ...responses.filter((r) => !r.thread_ts),
  ].sort(byTs);
}
