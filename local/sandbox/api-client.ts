/**
 * Reads runs from a running sandbox through its JSON API, answering the same questions as the
 * Step Functions reader, so `shiplane runs --sandbox URL` and `shiplane show --sandbox URL` print
 * exactly what they print for a deployed stack; `shiplane retry --sandbox URL` retries a run there
 * and `shiplane rollback --sandbox URL` starts a manual rollback there; `shiplane approve|reject
 * --sandbox URL` decides a run's approval there.
 */

import type { DeliveryReport } from '../../shared/domain/delivery-metrics.js';
import { TerminalError } from '../../shared/errors.js';
import {
  type ExecutionDetail,
  type ExecutionListItem,
  ExecutionNotFoundError,
  type ExecutionReader,
} from '../../shared/ports/executions.js';
import { type MetricsQuery, MetricsQueryError } from '../../shared/steps/metrics/report.js';
import type { RetryResult } from '../../shared/steps/recovery/retry-run.js';
import type { RollbackRequest, RollbackResult } from '../../shared/steps/recovery/rollback-run.js';
import type { PushAnswer, SandboxDecisionAnswer, SandboxDecisionRequest } from './server.js';

export class SandboxUnreachableError extends TerminalError {
  override name = 'SandboxUnreachableError';
}

interface ExecutionJson {
  name: string;
  arn: string;
  status: string;
  startDate?: string;
  stopDate?: string;
}

type DetailJson = ExecutionJson & Omit<ExecutionDetail, 'startDate' | 'stopDate' | 'name' | 'arn' | 'status'>;

const date = (text: string | undefined) => (text ? new Date(text) : undefined);

function listItem(json: ExecutionJson): ExecutionListItem {
  return {
    name: json.name,
    arn: json.arn,
    status: json.status,
    startDate: date(json.startDate),
    stopDate: date(json.stopDate),
  };
}

/** A reader of a sandbox's runs at `baseUrl` (what `shiplane sandbox` prints as the console URL). */
export function sandboxExecutions(baseUrl: string): ExecutionReader {
  const base = baseUrl.replace(/\/+$/, '');

  async function get<T>(path: string): Promise<{ status: number; body: T }> {
    const { response, body } = await sandboxJson(base, path, { headers: { accept: 'application/json' } });
    return { status: response.status, body: body as T };
  }

  async function detail(nameOrArn: string, history: boolean): Promise<ExecutionDetail> {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':').at(-1) ?? nameOrArn) : nameOrArn;
    const { status, body } = await get<DetailJson>(
      `/api/executions/${encodeURIComponent(name)}${history ? '' : '?history=false'}`,
    );
    if (status === 404) throw new ExecutionNotFoundError(`no execution ${name} in the sandbox at ${base}`);
    return {
      ...listItem(body),
      input: body.input,
      output: body.output,
      error: body.error,
      cause: body.cause,
      events: body.events ?? [],
    };
  }

  return {
    async list(filter = {}) {
      const query = new URLSearchParams();
      if (filter.status) query.set('status', filter.status.toUpperCase());
      if (filter.namePrefix) query.set('prefix', filter.namePrefix);
      const { body } = await get<{ executions: ExecutionJson[] }>(`/api/executions?${query}`);
      return body.executions.map(listItem).slice(0, filter.max ?? 50);
    },
    async describe(nameOrArn) {
      const { events: _, ...description } = await detail(nameOrArn, false);
      return description;
    },
    get: (nameOrArn) => detail(nameOrArn, true),
  };
}

/** Fetches a sandbox API path and reads its JSON answer; an unreachable sandbox or a non-JSON answer says so. */
async function sandboxJson(
  base: string,
  path: string,
  init: RequestInit,
): Promise<{
  response: Response;
  text: string;
  body: { result?: unknown; message?: unknown; [key: string]: unknown };
}> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, init);
  } catch (error) {
    throw new SandboxUnreachableError(
      `cannot reach the sandbox at ${base}: is \`shiplane sandbox\` running?`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  try {
    return { response, text, body: JSON.parse(text) as { result?: unknown; message?: unknown } };
  } catch {
    throw new SandboxUnreachableError(
      `${base}${path} did not answer JSON (HTTP ${response.status}); is it a sandbox?`,
    );
  }
}

/** POSTs JSON to the sandbox; answers the parsed body when its `result` is one of `results`. */
async function postToSandbox<T extends { result: string }>(
  baseUrl: string,
  path: string,
  payload: unknown,
  results: readonly T['result'][],
  what: string,
): Promise<T> {
  const base = baseUrl.replace(/\/+$/, '');
  // A JSON body and type: the sandbox's POST endpoints take nothing else.
  const { response, text, body } = await sandboxJson(base, path, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  if ((results as readonly unknown[]).includes(body.result)) return body as T;
  throw new SandboxUnreachableError(
    `the sandbox at ${base} could not ${what} (HTTP ${response.status}): ${typeof body.message === 'string' ? body.message : text.slice(0, 200)}`,
  );
}

/**
 * `shiplane retry --sandbox`: asks the sandbox at `baseUrl` to retry a run
 * (`POST /api/executions/{name}/retry`); the sandbox answers with the same result a deployed stack gives.
 */
export function sandboxRetry(baseUrl: string, name: string): Promise<RetryResult> {
  return postToSandbox<RetryResult>(
    baseUrl,
    `/api/executions/${encodeURIComponent(name)}/retry`,
    {},
    ['started', 'refused', 'not-found'],
    `retry ${name}`,
  );
}

/**
 * `shiplane rollback --sandbox`: asks the sandbox at `baseUrl` to start a manual rollback
 * (`POST /api/rollback`); it answers with the same result a deployed stack gives.
 */
export function sandboxRollback(baseUrl: string, request: RollbackRequest): Promise<RollbackResult> {
  return postToSandbox<RollbackResult>(
    baseUrl,
    '/api/rollback',
    {
      app: request.app,
      stage: request.stage,
      ...(request.to !== undefined ? { to: request.to } : {}),
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
    },
    ['started', 'refused', 'invalid'],
    `roll back ${request.app} in ${request.stage}`,
  );
}

/**
 * `shiplane metrics --sandbox`: the sandbox's delivery report (`GET /api/metrics`), computed there
 * from its run records as a deployed stack's are.
 */
export async function sandboxMetrics(baseUrl: string, query: MetricsQuery): Promise<DeliveryReport> {
  const base = baseUrl.replace(/\/+$/, '');
  const params = new URLSearchParams({ since: `${query.sinceSeconds}s` });
  if (query.app !== undefined) params.set('app', query.app);
  if (query.stage !== undefined) params.set('stage', query.stage);
  const path = `/api/metrics?${params}`;
  const { response, text, body } = await sandboxJson(base, path, {
    headers: { accept: 'application/json' },
  });
  if (response.status === 400) throw new MetricsQueryError(String(body.message));
  if (response.status !== 200 || !Array.isArray(body.figures)) {
    throw new SandboxUnreachableError(
      `the sandbox at ${base} could not report metrics (HTTP ${response.status}): ${typeof body.message === 'string' ? body.message : text.slice(0, 200)}`,
    );
  }
  return body as unknown as DeliveryReport;
}

/** `shiplane push --sandbox`: an ECR push of `app:tag` into the sandbox (`POST /api/push`), as the console's form does. */
export function sandboxPush(baseUrl: string, app: string, tag: string): Promise<PushAnswer> {
  return postToSandbox<PushAnswer>(
    baseUrl,
    '/api/push',
    { app, tag },
    ['started', 'duplicate', 'ignored', 'failed'],
    `push ${app}:${tag}`,
  );
}

/**
 * `shiplane approve|reject --sandbox`: asks the sandbox at `baseUrl` to decide the run's pending
 * approval (`POST /api/executions/{name}/decision`), on the same exactly-once path a Slack click takes.
 */
export function sandboxDecide(
  baseUrl: string,
  execution: string,
  request: SandboxDecisionRequest,
): Promise<SandboxDecisionAnswer> {
  return postToSandbox<SandboxDecisionAnswer>(
    baseUrl,
    `/api/executions/${encodeURIComponent(execution)}/decision`,
    request,
    ['decided', 'not-decided'],
    `${request.decision === 'approved' ? 'approve' : 'reject'} ${execution}`,
  );
}
