/**
 * An Argo CD stand-in: a local HTTP server (127.0.0.1, a free port) that speaks the part of the
 * Argo CD API Shiplane uses — `GET /api/v1/applications/{name}` and `POST …/{name}/sync` — with
 * Application JSON shaped like the real one, so the production client runs unchanged against it.
 *
 * It behaves the way Argo CD does where Shiplane's verdict cares:
 * - it follows the GitOps branch head (`resolveHead`) but notices a new commit only when asked to
 *   refresh (`refresh=normal|hard`) or after its reconciliation interval;
 * - sync status and health are computed when it reconciles, while the sync operation runs in its
 *   own loop (Running for `syncTicks` controller steps, then Succeeded), so an app can be Healthy
 *   with a finished operation it has not reconciled yet — the race the verdict guards against;
 * - after a sync, health is Progressing for `rolloutTicks` steps, then Healthy — or Degraded when the
 *   image tag deployed at that revision (`readTag`) matches `degradedTags` (default `-bad$`);
 * - the API needs `Authorization: Bearer <token>` (401), unknown apps are 404, a project mismatch is
 *   403, and `fail(n)` makes the next n calls answer 503;
 * - `setCondition` makes an app report an application condition (a SyncError, say) until cleared.
 * One controller step runs per API read of an app (or per `step()`), which keeps tests deterministic.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FaultPlan,
  HttpError,
  parseJson,
  pathOf,
  Router,
  readBody,
  sendJson,
  startHttpServer,
  urlOf,
} from '../../http/index.js';
import { renderApplication } from './application.js';
import {
  type AppState,
  ArgoCdController,
  type ControllerOptions,
  DEFAULT_NAMESPACE,
  type StandInCondition,
} from './controller.js';

export type { StandInApp, StandInCondition } from './controller.js';

export interface ArgoCdServerOptions extends ControllerOptions {
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  readonly token: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface ArgoCdServer {
  readonly url: string;
  /** Every request received, in order (the body of POSTs included). */
  readonly requests: readonly RecordedRequest[];
  /** The next `count` requests answer `status` (default 503) like an unhealthy Argo CD behind a proxy. */
  fail(count: number, status?: number): void;
  /** Runs controller steps on an app without an API call. */
  step(name: string, count?: number): Promise<void>;
  /** Reconciles an app as the interval would, re-reading Git. */
  reconcile(name: string): Promise<void>;
  /** Reports `condition` in the app's `status.conditions` from now on; undefined clears it. */
  setCondition(name: string, condition: StandInCondition | undefined): void;
  close(): Promise<void>;
}

/** What a route answers: a status and a body (an Application, or a grpc-gateway error). */
type Answer = readonly [status: number, body: unknown];
type RouteHandler = (state: AppState, request: ApiRequest) => Promise<Answer>;

interface ApiRequest {
  readonly url: URL;
  readonly body: unknown;
}

const APPLICATION = '/api/v1/applications/{name}';

export async function startArgoCdServer(options: ArgoCdServerOptions): Promise<ArgoCdServer> {
  const controller = await ArgoCdController.start(options);
  const requests: RecordedRequest[] = [];
  const failures = new FaultPlan<number>();
  const router = applicationRoutes(controller);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = urlOf(req);
    const method = req.method ?? 'GET';
    // Argo CD reads a body on POST only.
    const body = method === 'POST' ? parseJson(await readBody(req), 'request body is not JSON') : undefined;
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(body === undefined ? {} : { body }),
    });
    const failure = failures.take(method, url.pathname);
    if (failure !== undefined) {
      return send(res, failure, grpcError(14, 'upstream connect error or disconnect/reset before headers'));
    }
    if (url.pathname === '/api/version') return send(res, 200, { Version: 'v2.13.3+shiplane-stand-in' });

    const auth = req.headers.authorization;
    if (!auth) return send(res, 401, grpcError(16, 'no session information'));
    if (auth !== `Bearer ${options.token}`) {
      return send(res, 401, grpcError(16, 'invalid session: token signature is invalid'));
    }

    const match = router.match(method, pathOf(url));
    if (match.kind === 'not-found') return send(res, 404, grpcError(5, `Not Found: ${url.pathname}`));
    if (match.kind === 'method-not-allowed') return send(res, 405, grpcError(12, 'Method Not Allowed'));
    const name = match.params.name!;
    // The sync request carries project and namespace in its body; a read, in its query.
    const sync = body as { project?: string; appNamespace?: string } | undefined;
    const project = method === 'POST' ? sync?.project : url.searchParams.get('project');
    const appNamespace = method === 'POST' ? sync?.appNamespace : url.searchParams.get('appNamespace');
    const state = controller.find(appNamespace || DEFAULT_NAMESPACE, name);
    if (!state) return send(res, 404, grpcError(5, `applications.argoproj.io "${name}" not found`));
    if (project && project !== state.config.project) return send(res, 403, grpcError(7, 'permission denied'));
    const [status, answer] = await match.route.handler(state, { url, body });
    return send(res, status, answer);
  };

  const http = await startHttpServer({
    handle,
    onError: (error, _req, res) => {
      // A body that is not JSON is InvalidArgument (3), one too large ResourceExhausted (8); anything
      // else is the stand-in's own failure (Internal, 13).
      if (error instanceof HttpError)
        send(res, error.status, grpcError(error.status === 413 ? 8 : 3, error.message));
      else send(res, 500, grpcError(13, `stand-in failure: ${(error as Error).message}`));
    },
  });

  return {
    url: http.url,
    requests,
    fail(count, status = 503) {
      failures.clear();
      failures.inject(status, { times: count });
    },
    async step(name, count = 1) {
      const state = controller.byName(name);
      for (let i = 0; i < count; i++) controller.step(state);
    },
    async reconcile(name) {
      const state = controller.byName(name);
      await controller.refreshGit(state);
      controller.reconcileLive(state);
    },
    setCondition: (name, condition) => controller.setCondition(name, condition),
    close: () => http.close(),
  };
}

/** Reading an application moves its controller on one step; a sync starts an operation. */
function applicationRoutes(controller: ArgoCdController): Router<RouteHandler> {
  return new Router<RouteHandler>()
    .add('GET', APPLICATION, async (state, { url }) => {
      await controller.readApp(state, url.searchParams.get('refresh') ?? undefined);
      return [200, renderApplication(state)];
    })
    .add('POST', `${APPLICATION}/sync`, async (state, { body }) => {
      if (state.operation?.phase === 'Running') {
        return [400, grpcError(9, 'another operation is already in progress')];
      }
      const request = (body ?? {}) as { revision?: string; prune?: boolean };
      let revision = request.revision;
      // No sha: sync to what the branch says now.
      if (!revision || !/^[0-9a-f]{40}$/.test(revision)) {
        await controller.refreshGit(state);
        revision = state.comparedRevision;
      }
      if (!revision) return [400, grpcError(9, 'cannot resolve the target revision')];
      const tag = await controller.tagAt(state, revision);
      controller.startOperation(state, revision, tag, { username: 'admin' }, request.prune ?? false);
      return [200, renderApplication(state)];
    });
}

/** The grpc-gateway error body Argo CD's API server answers with. */
function grpcError(code: number, message: string): { error: string; code: number; message: string } {
  return { error: message, code, message };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, { 'content-type': 'application/json' });
}
