/**
 * The sandbox's HTTP server on 127.0.0.1: the Slack interaction endpoint (what Slack calls, served
 * by the real slack-interaction handler behind an API Gateway translation), the console page, and
 * the JSON API the console and `shiplane runs|show --sandbox` read.
 *
 * JSON API:
 * - `GET  /api/state`                  everything the console shows, in one document (with the alerts
 *                                      sent to the SNS topic)
 * - `GET  /api/executions`             runs, newest first (`?status=RUNNING`, `?prefix=backend-`)
 * - `GET  /api/executions/{name}`      one run: description, history events, timeline, summary
 *                                      (`?history=false` leaves the raw events out)
 * - `POST /api/executions/{name}/retry`  `shiplane retry`: starts the run again as `{name}-r2`, …
 *                                      (200 started, 409 refused, 404 no such run)
 * - `POST /api/executions/{name}/decision` `{decision, stage?, reason?}`  `shiplane approve|reject`:
 *                                      decides the run's pending approval (200 decided, 409 not
 *                                      decided: already decided, expired…, 404 no approval, 400 a
 *                                      rejection without a reason or one over 500 characters)
 * - `POST /api/rollback` `{app, stage, to?, reason?}`  `shiplane rollback`: starts a manual
 *                                      rollback run (200 started, 409 refused, 400 unknown app or stage)
 * - `GET  /api/commits/{sha}`          a GitOps repository commit with each file's patch
 * - `GET  /commits/{sha}`              the same as a page: where every commit hash in the console leads
 * - `POST /api/push`    `{app, tag}`   simulates an ECR push through the intake handler
 * - `GET  /api/metrics?since=30d&app=A&stage=S`  `shiplane metrics --sandbox`: the delivery report
 *                                      from the sandbox's run records (400 for an unknown app,
 *                                      stage or duration)
 * - `POST /api/slack/click` `{ts, actionId, value?, user}`  clicks a message button: the server
 *                                      plays Slack, signs a `block_actions` request and posts it
 *                                      to `/slack/interactions`
 * - `POST /api/slack/view` `{viewId, user, inputs}`  submits a modal the app opened (Reject's reason):
 *                                      a signed `view_submission` to `/slack/interactions`
 * - `POST /slack/interactions`         the interaction endpoint itself
 * - `POST /slack/response/{user}/{ts}` a click's `response_url`, as Slack would take it
 *
 * A `{name}`, `{sha}`, `{user}` or `{ts}` with a malformed `%` escape is answered 400.
 *
 * The console can push tags and approve, so a page from anywhere else open in the same browser
 * must not reach it: every console route answers only requests addressed to this machine by name
 * (`Host`, against DNS rebinding), and every POST but the Slack-signed interaction endpoint needs
 * `Content-Type: application/json` (which a cross-site page cannot send without a CORS preflight
 * this server never grants) and, when the browser says where it comes from (`Origin`,
 * `Sec-Fetch-Site`), this very origin. Clients outside a browser (the CLI, tests) send neither.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { parseDuration } from '../../shared/config/duration.js';
import { checkedDecisionReason } from '../../shared/domain/approval.js';
import type { DeliveryReport } from '../../shared/domain/delivery-metrics.js';
import { buildTimeline, summarizeRun } from '../../shared/domain/execution-timeline.js';
import { nextStep, runEndingOf } from '../../shared/domain/next-step.js';
import type { ApprovalRecord } from '../../shared/ports/approvals-store.js';
import type { ExecutionDetail, ExecutionListItem } from '../../shared/ports/executions.js';
import type { DecisionOutcome } from '../../shared/steps/approval/decide.js';
import { type MetricsQuery, MetricsQueryError } from '../../shared/steps/metrics/report.js';
import type { RetryResult } from '../../shared/steps/recovery/retry-run.js';
import type { RollbackRequest, RollbackResult } from '../../shared/steps/recovery/rollback-run.js';
import {
  decodedSegment,
  HttpError,
  readBody,
  sendJson as sendJsonReply,
  startHttpServer,
} from '../http/index.js';
import type { OpenedView, SlackServer } from '../stand-ins/slack/server.js';
import { COMMIT_SHA, type CommitView, commitPageHtml, missingCommitPageHtml } from './commit-page.js';
import { imageTagProblem } from './ecr-push.js';
import { lambdaContext, toHttpApiEvent, writeHttpApiResult } from './http-api.js';
import {
  type ClickResult,
  type SlackMessageLike,
  type SlackUser,
  sendClick,
  sendViewSubmission,
} from './slack-click.js';

export const INTERACTION_PATH = '/slack/interactions';
/** Where a click's `response_url` points: the sandbox plays Slack's side of it too. */
export const RESPONSE_PATH = '/slack/response';
const RESPONSE_URL = /^\/slack\/response\/([^/]+)\/([^/]+)$/;

/** The interaction endpoint's Lambda handler (the real one, built by its factory). */
export type InteractionHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** A Slack message as the console shows it: thread replies nested under their parent. */
export interface ConsoleMessage extends SlackMessageLike {
  readonly username?: string | undefined;
  readonly edited?: boolean | undefined;
  /** Set when only this user sees it (an ephemeral answer). */
  readonly ephemeral?: { readonly user: string } | undefined;
  readonly replies?: readonly ConsoleMessage[];
}

export interface SandboxInfo {
  readonly repository: string;
  readonly branch: string;
  readonly channel: string;
  readonly channelName: string;
  readonly configFile: string;
  readonly apps: readonly string[];
  readonly stages: readonly string[];
  readonly users: ReadonlyArray<SlackUser & { readonly approver: boolean }>;
  readonly startedAt: string;
  /**
   * How commit links in Slack messages begin (the GitHub stand-in's web URL of a commit, without
   * the sha): the console opens them in its own commit view instead.
   */
  readonly commitUrlPrefix?: string | undefined;
  /**
   * Per app and stage, how the web URL of a commit there begins (config/tag-location.ts): a stage
   * whose commits go to a repository other than the one behind `commitUrlPrefix` links there.
   */
  readonly stageCommitUrlPrefixes?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
}

export interface RepoView {
  readonly branch: string;
  readonly head: string;
  readonly tags: Record<string, Record<string, string | null>>;
  readonly log: readonly unknown[];
}

export interface ArgoAppView {
  readonly name: string;
  readonly syncStatus: string;
  readonly healthStatus: string;
  readonly revision: string | undefined;
  readonly operationPhase: string | undefined;
  readonly message: string | undefined;
  readonly images: readonly string[];
}

/** What `shiplane approve|reject --sandbox` asks the sandbox to decide. */
export interface SandboxDecisionRequest {
  readonly decision: 'approved' | 'rejected';
  readonly stage?: string;
  readonly reason?: string;
  /** Approve during a change freeze (with a reason): the freeze rule of steps/approval/freeze-rule.ts. */
  readonly breakGlass?: boolean;
}

/** The sandbox's answer: what the decision came to, and who it was recorded as. */
export interface SandboxDecisionAnswer {
  readonly result: 'decided' | 'not-decided';
  readonly by: string;
  readonly outcome: SandboxDecisionOutcome;
}

/** A DecisionOutcome as JSON carries it (an `unavailable` error keeps its message). */
export type SandboxDecisionOutcome =
  | Exclude<DecisionOutcome, { kind: 'unavailable' }>
  | { readonly kind: 'unavailable'; readonly record: ApprovalRecord; readonly error: { message: string } };

export interface PushAnswer {
  readonly result: 'started' | 'duplicate' | 'ignored' | 'failed';
  readonly execution?: string;
  readonly message: string;
}

/** What the console and the JSON API read and do; the sandbox wires it to the engine and stand-ins. */
export interface ConsoleBackend {
  info(): SandboxInfo;
  listExecutions(): Promise<ExecutionListItem[]>;
  getExecution(name: string): Promise<ExecutionDetail | undefined>;
  slackMessages(): Promise<ConsoleMessage[]>;
  /** Records what an app posts to a click's `response_url` (Slack shows it to the user who clicked). */
  respond?(user: string, message: SlackMessageLike | undefined, body: Record<string, unknown>): void;
  repo(): Promise<RepoView>;
  argocd(): Promise<ArgoAppView[]>;
  push(app: string, tag: string): Promise<PushAnswer>;
  /** `shiplane retry --sandbox`: starts a failed, rejected or expired run again. */
  retry?(name: string): Promise<RetryResult>;
  /** The Slack stand-in's modals: a click's trigger_id, and the views apps open with it. */
  readonly modals?: Pick<SlackServer, 'issueTrigger' | 'viewOpenedBy' | 'views'>;
  /** `shiplane rollback --sandbox`: starts a manual rollback of one app's stage. */
  rollback?(request: RollbackRequest): Promise<RollbackResult>;
  /** A commit of the GitOps repository with its diff (full or abbreviated sha); undefined when none. */
  commit?(sha: string): Promise<CommitView | undefined>;
  /** What was published to the SNS alert topic, oldest first. */
  alerts?(): readonly SandboxAlert[];
  /** `shiplane metrics --sandbox`: the delivery report of the sandbox's run records. */
  metrics?(query: MetricsQuery): Promise<DeliveryReport>;
  /** `shiplane approve|reject --sandbox`: decides a run's pending approval. Undefined: no such approval. */
  decide?(execution: string, request: SandboxDecisionRequest): Promise<SandboxDecisionAnswer | undefined>;
}

/** An alert as the SNS topic got it, with when. */
export interface SandboxAlert {
  readonly at: string;
  readonly subject: string;
  readonly message: string;
}

export interface SandboxServerOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly host?: string;
  readonly interaction: InteractionHandler;
  /** The signing secret of the Slack app; only the server holds it. */
  readonly signingSecret: string;
  /** Without a backend the server is only the interaction endpoint (`shiplane run`). */
  readonly backend?: ConsoleBackend;
  /** Called with each interaction request's outcome (the terminal timeline prints it). */
  readonly onInteraction?: (status: number) => void;
}

export interface SandboxServer {
  readonly url: string;
  readonly interactionUrl: string;
  readonly server: Server;
  close(): Promise<void>;
}

const CONSOLE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/time.js': { file: 'time.js', type: 'text/javascript; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const CONSOLE_DIR = new URL('../console/', import.meta.url);

const EXECUTION_PATH = /^\/api\/executions\/([^/]+)$/;
const COMMIT_API_PATH = /^\/api\/commits\/([^/]+)$/;
const COMMIT_PAGE_PATH = /^\/commits\/([^/]+)$/;
const RETRY_PATH = /^\/api\/executions\/([^/]+)\/retry$/;
const DECISION_PATH = /^\/api\/executions\/([^/]+)\/decision$/;
const RETRY_STATUS: Record<RetryResult['result'], number> = { started: 200, refused: 409, 'not-found': 404 };
const ROLLBACK_STATUS: Record<RollbackResult['result'], number> = {
  started: 200,
  refused: 409,
  invalid: 400,
};

/** The `Host` values that name this machine on `port`. */
export function consoleHosts(port: number, host = '127.0.0.1'): Set<string> {
  const named = host.includes(':') ? `[${host}]` : host;
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${named}:${port}`]);
}

/**
 * Why a console request is refused, or undefined when it may go on. `hosts` are this server's own
 * `Host` values (`consoleHosts`); a POST must also be JSON from this origin.
 */
export function refusalOf(
  request: Pick<IncomingMessage, 'method' | 'headers'>,
  hosts: ReadonlySet<string>,
): string | undefined {
  const host = (request.headers.host ?? '').toLowerCase();
  if (!hosts.has(host)) return `Host ${JSON.stringify(host)} is not this sandbox; open it at 127.0.0.1`;
  if (request.method !== 'POST') return undefined;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return `cross-origin request from ${origin} refused: only the sandbox console may change anything`;
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `cross-site request (Sec-Fetch-Site: ${site}) refused: only the sandbox console may change anything`;
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return 'expected Content-Type: application/json';
  return undefined;
}

/** The console polls; nothing it reads may come from a cache. */
function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendJsonReply(response, status, body, { 'cache-control': 'no-store' });
}

async function jsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(request, 64 * 1024)).toString('utf8');
  try {
    const parsed = JSON.parse(raw || '{}') as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'expected a JSON object body');
}

const field = (body: Record<string, unknown>, name: string): string => {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `${name} is required`);
  return value;
};

/** A run as the JSON API returns it: description, timeline and summary (and the events unless asked not to). */
export function executionJson(detail: ExecutionDetail, withHistory: boolean): Record<string, unknown> {
  const timeline = buildTimeline(detail.events);
  const { events, ...description } = detail;
  return {
    ...description,
    ...(withHistory ? { events } : {}),
    timeline: { error: timeline.error, steps: timeline.steps },
    summary: summarizeRun(timeline),
    nextStep: nextStepOf(detail.name, timeline) ?? null,
  };
}

/** What to do after the run (the advice `shiplane show` and the Slack thread give). */
function nextStepOf(name: string, timeline: ReturnType<typeof buildTimeline>) {
  const ending = runEndingOf(name, timeline);
  return ending ? nextStep(ending) : undefined;
}

/** A modal as the console draws it: its title, buttons, text and input fields. */
function modalJson(opened: OpenedView): Record<string, unknown> {
  const view = opened.view as {
    title?: { text?: string };
    submit?: { text?: string };
    close?: { text?: string };
    blocks?: Array<{
      type?: string;
      block_id?: string;
      text?: { text?: string };
      label?: { text?: string };
      element?: {
        action_id?: string;
        multiline?: boolean;
        max_length?: number;
        placeholder?: { text?: string };
      };
    }>;
  };
  const blocks = view.blocks ?? [];
  return {
    id: opened.id,
    title: view.title?.text ?? '',
    submit: view.submit?.text ?? 'Submit',
    close: view.close?.text ?? 'Cancel',
    text: blocks.flatMap((b) => (b.type === 'section' && b.text?.text ? [b.text.text] : [])).join('\n'),
    inputs: blocks.flatMap((b) =>
      b.type === 'input' && b.element?.action_id
        ? [
            {
              blockId: b.block_id ?? '',
              actionId: b.element.action_id,
              label: b.label?.text ?? '',
              multiline: b.element.multiline ?? false,
              maxLength: b.element.max_length ?? null,
              placeholder: b.element.placeholder?.text ?? '',
            },
          ]
        : [],
    ),
  };
}

/** Flattens a message tree into the list a `ts` lookup searches. */
function findMessage(messages: readonly ConsoleMessage[], ts: string): ConsoleMessage | undefined {
  for (const message of messages) {
    if (message.ts === ts) return message;
    const reply = findMessage(message.replies ?? [], ts);
    if (reply) return reply;
  }
  return undefined;
}

/** Starts the server; `close()` stops it and drops open connections. */
export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const { backend } = options;
  let url = '';
  let hosts: ReadonlySet<string> = new Set();

  async function interaction(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const event = toHttpApiEvent(request, body, { routeKey: `POST ${INTERACTION_PATH}` });
    const result = await options.interaction(event, lambdaContext('slack-interaction'));
    writeHttpApiResult(response, result);
    options.onInteraction?.(
      typeof result === 'object' && result !== null && 'statusCode' in result
        ? (result.statusCode ?? 200)
        : 200,
    );
  }

  async function click(
    request: IncomingMessage,
    response: ServerResponse,
    api: ConsoleBackend,
  ): Promise<void> {
    const body = await jsonBody(request);
    const ts = field(body, 'ts');
    const actionId = field(body, 'actionId');
    const userId = field(body, 'user');
    const value = typeof body.value === 'string' ? body.value : undefined;
    const user = api.info().users.find((u) => u.id === userId);
    if (!user) throw new HttpError(400, `unknown sandbox user ${userId}`);
    const message = findMessage(await api.slackMessages(), ts);
    if (!message) throw new HttpError(404, `no message ${ts} in the channel`);
    let result: ClickResult;
    // Slack gives every click a trigger_id; the app may exchange it for a modal within 3 s.
    const triggerId = api.modals?.issueTrigger(user.id);
    try {
      result = await sendClick(`${url}${INTERACTION_PATH}`, options.signingSecret, {
        channel: api.info().channel,
        message,
        actionId,
        value,
        user,
        responseUrl: `${url}${RESPONSE_PATH}/${encodeURIComponent(user.id)}/${encodeURIComponent(message.ts)}`,
        ...(triggerId ? { triggerId } : {}),
      });
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
    const opened = triggerId ? api.modals?.viewOpenedBy(triggerId) : undefined;
    sendJson(response, 200, {
      status: result.status,
      text: result.body.slice(0, 500),
      ...(opened ? { view: modalJson(opened) } : {}),
    });
  }

  /** Submits a modal as its user: the console's dialog plays Slack's modal. */
  async function submitView(request: IncomingMessage, response: ServerResponse, api: ConsoleBackend) {
    const body = await jsonBody(request);
    const viewId = field(body, 'viewId');
    const userId = field(body, 'user');
    const inputs = body.inputs;
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new HttpError(400, 'inputs must be an object of action_id → text');
    }
    const entries = Object.entries(inputs);
    if (entries.some(([, v]) => typeof v !== 'string')) throw new HttpError(400, 'inputs must be text');
    const opened = api.modals?.views().find((view) => view.id === viewId);
    if (!opened) throw new HttpError(404, `no modal ${viewId}`);
    if (opened.closed) throw new HttpError(409, `modal ${viewId} is closed`);
    const user = api.info().users.find((u) => u.id === userId);
    if (!user || opened.user !== user.id)
      throw new HttpError(403, `modal ${viewId} is not open for ${userId}`);
    const result = await sendViewSubmission(`${url}${INTERACTION_PATH}`, options.signingSecret, {
      opened,
      user,
      inputs: Object.fromEntries(entries) as Record<string, string>,
    });
    sendJson(response, 200, { ...result, closed: opened.closed });
  }

  /** A commit as JSON (`/api/commits/{sha}`) or as the page the console links to (`/commits/{sha}`). */
  async function commit(
    sha: string,
    asJson: boolean,
    response: ServerResponse,
    api: ConsoleBackend,
    find: (sha: string) => Promise<CommitView | undefined>,
  ): Promise<void> {
    const refusal = COMMIT_SHA.test(sha) ? undefined : `${JSON.stringify(sha)} is not a commit sha`;
    const view = refusal ? undefined : await find(sha);
    const status = refusal ? 400 : view ? 200 : 404;
    const reason = refusal ?? `the GitOps repository has no commit ${sha}`;
    if (asJson) {
      if (!view) throw new HttpError(status, reason);
      sendJson(response, 200, view);
      return;
    }
    const html = view ? commitPageHtml(view, api.info().repository) : missingCommitPageHtml(sha, reason);
    response
      .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(html);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = new URL(request.url ?? '/', 'http://127.0.0.1');
    const { pathname } = target;
    const method = request.method ?? 'GET';
    if (pathname === INTERACTION_PATH) {
      if (method !== 'POST') throw new HttpError(405, 'POST only');
      return interaction(request, response);
    }
    if (!backend)
      throw new HttpError(404, `no route ${pathname}; this server only serves ${INTERACTION_PATH}`);
    const refusal = refusalOf(request, hosts);
    if (refusal) throw new HttpError(403, refusal);
    const responseUrl = RESPONSE_URL.exec(pathname);
    if (responseUrl && method === 'POST') {
      // Slack answers a response_url post with a plain "ok".
      const body = await jsonBody(request);
      const ts = decodedSegment(responseUrl[2] ?? '');
      const message = findMessage(await backend.slackMessages(), ts);
      backend.respond?.(decodedSegment(responseUrl[1] ?? ''), message, body);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const staticFile = CONSOLE_FILES[pathname];
    if (staticFile && method === 'GET') {
      const content = await readFile(new URL(staticFile.file, CONSOLE_DIR));
      response.writeHead(200, { 'content-type': staticFile.type, 'cache-control': 'no-store' }).end(content);
      return;
    }
    const commitPage = COMMIT_PAGE_PATH.exec(pathname) ?? COMMIT_API_PATH.exec(pathname);
    if (commitPage && method === 'GET' && backend.commit) {
      const sha = decodedSegment(commitPage[1] ?? '');
      return commit(sha, pathname.startsWith('/api/'), response, backend, backend.commit);
    }
    if (pathname === '/api/state' && method === 'GET') {
      const [runs, messages, repo, apps] = await Promise.all([
        backend.listExecutions(),
        backend.slackMessages(),
        backend.repo(),
        backend.argocd(),
      ]);
      const described = await Promise.all(runs.map((run) => backend.getExecution(run.name)));
      sendJson(response, 200, {
        sandbox: backend.info(),
        runs: runs.map((run, index) => {
          const detail = described[index];
          const summary = detail ? summarizeRun(buildTimeline(detail.events)) : undefined;
          return {
            ...run,
            app: summary?.app,
            tag: summary?.tag,
            outcome: summary?.outcome,
            currentState: summary?.currentState,
          };
        }),
        slack: { messages },
        repo,
        argocd: { apps },
        alerts: backend.alerts?.() ?? [],
      });
      return;
    }
    if (pathname === '/api/executions' && method === 'GET') {
      const status = target.searchParams.get('status')?.toUpperCase();
      const prefix = target.searchParams.get('prefix');
      const runs = (await backend.listExecutions()).filter(
        (run) => (!status || run.status === status) && (!prefix || run.name.startsWith(prefix)),
      );
      sendJson(response, 200, { executions: runs });
      return;
    }
    const match = EXECUTION_PATH.exec(pathname);
    if (match && method === 'GET') {
      const name = decodedSegment(match[1] ?? '');
      const detail = await backend.getExecution(name);
      if (!detail) throw new HttpError(404, `no execution ${name}`);
      sendJson(response, 200, executionJson(detail, target.searchParams.get('history') !== 'false'));
      return;
    }
    const retry = RETRY_PATH.exec(pathname);
    if (retry && method === 'POST' && backend.retry) {
      // The body carries nothing, but must be JSON like every POST here.
      await jsonBody(request);
      const answer = await backend.retry(decodedSegment(retry[1] ?? ''));
      sendJson(response, RETRY_STATUS[answer.result], answer);
      return;
    }
    const decision = DECISION_PATH.exec(pathname);
    if (decision && method === 'POST' && backend.decide) {
      const execution = decodedSegment(decision[1] ?? '');
      const body = await jsonBody(request);
      const kind = body.decision;
      if (kind !== 'approved' && kind !== 'rejected') {
        throw new HttpError(400, 'decision must be "approved" or "rejected"');
      }
      const optional = (name: string) => {
        const value = body[name];
        if (value === undefined) return undefined;
        if (typeof value !== 'string' || value === '') throw new HttpError(400, `${name} must be a string`);
        return value;
      };
      const stage = optional('stage');
      if (body.reason !== undefined && typeof body.reason !== 'string') {
        throw new HttpError(400, 'reason must be a string');
      }
      // The rule Slack's dialog and the CLI keep: a rejection says why (not in spaces), ≤ 500 characters.
      const checked = checkedDecisionReason(kind, body.reason);
      if ('problem' in checked) throw new HttpError(400, `reason: ${checked.problem.message}`);
      const { reason } = checked;
      if (body.breakGlass !== undefined && typeof body.breakGlass !== 'boolean') {
        throw new HttpError(400, 'breakGlass must be true or false');
      }
      const answer = await backend.decide(execution, {
        decision: kind,
        ...(stage ? { stage } : {}),
        ...(reason ? { reason } : {}),
        ...(body.breakGlass === true ? { breakGlass: true } : {}),
      });
      if (!answer) throw new HttpError(404, `no approval for ${execution}${stage ? ` in ${stage}` : ''}`);
      sendJson(response, answer.result === 'decided' ? 200 : 409, answer);
      return;
    }
    if (pathname === '/api/rollback' && method === 'POST' && backend.rollback) {
      const body = await jsonBody(request);
      const optional = (name: string) => {
        const value = body[name];
        if (value === undefined) return undefined;
        if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
        return value;
      };
      const answer = await backend.rollback({
        app: field(body, 'app'),
        stage: field(body, 'stage'),
        to: optional('to'),
        reason: optional('reason'),
      });
      sendJson(response, ROLLBACK_STATUS[answer.result], answer);
      return;
    }
    if (pathname === '/api/metrics' && method === 'GET' && backend.metrics) {
      const param = (name: string) => target.searchParams.get(name) ?? undefined;
      const since = param('since') ?? '30d';
      const sinceSeconds = parseDuration(since);
      if (sinceSeconds === undefined || sinceSeconds <= 0) {
        throw new HttpError(
          400,
          `since ${JSON.stringify(since)} is not a duration; write it like 30d, 12h or 90m`,
        );
      }
      const app = param('app');
      const stage = param('stage');
      try {
        const report = await backend.metrics({
          sinceSeconds,
          ...(app !== undefined ? { app } : {}),
          ...(stage !== undefined ? { stage } : {}),
        });
        sendJson(response, 200, report);
      } catch (error) {
        if (error instanceof MetricsQueryError) throw new HttpError(400, error.message);
        throw error;
      }
      return;
    }
    if (pathname === '/api/push' && method === 'POST') {
      const body = await jsonBody(request);
      const tag = field(body, 'tag');
      // What ECR would refuse never reaches the intake (the console's form checks the same rule).
      const problem = imageTagProblem(tag);
      if (problem) throw new HttpError(400, problem);
      const answer = await backend.push(field(body, 'app'), tag);
      sendJson(response, answer.result === 'failed' ? 500 : 200, answer);
      return;
    }
    if (pathname === '/api/slack/click' && method === 'POST') return click(request, response, backend);
    if (pathname === '/api/slack/view' && method === 'POST') return submitView(request, response, backend);
    throw new HttpError(404, `no route ${method} ${pathname}`);
  }

  const http = await startHttpServer({
    handle: route,
    onError: (error, _request, response) => {
      sendJson(response, error instanceof HttpError ? error.status : 500, {
        message: (error as Error).message,
      });
    },
    host: options.host,
    port: options.port,
  });
  url = `http://127.0.0.1:${http.port}`;
  hosts = consoleHosts(http.port, options.host);
  return {
    url,
    interactionUrl: `${url}${INTERACTION_PATH}`,
    server: http.server,
    close: () => http.close(),
  };
}
