/**
 * Starts an HTTP server for a stand-in or the sandbox: on 127.0.0.1 (nothing here should be reachable
 * from another machine) and a free port unless told otherwise, with every request answered — an error
 * the handler throws becomes `onError`'s answer — and a `close()` that does not wait for idle
 * keep-alive connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from './errors.js';
import { sendJson } from './reply.js';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** Answers an error the handler threw. The response may already have started. */
export type ErrorHandler = (error: unknown, request: IncomingMessage, response: ServerResponse) => void;

export interface HttpServerOptions {
  readonly handle: RequestHandler;
  /** @default a JSON `{ message }` with the HttpError's status, or 500 */
  readonly onError?: ErrorHandler;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** @default 0 (a free port) */
  readonly port?: number | undefined;
}

export interface HttpServer {
  /** `http://<host>:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening and drops open connections; closing again does nothing. */
  close(): Promise<void>;
}

/** The kit's answer to an error: `{ message }` with the HttpError's status, or 500. */
export const answerJsonError: ErrorHandler = (error, _request, response) => {
  const status = error instanceof HttpError ? error.status : 500;
  sendJson(response, status, { message: (error as Error).message });
};

/**
 * Listens and resolves once the port is bound; rejects when it cannot bind (EADDRINUSE names the
 * port in `error.code`).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const onError = options.onError ?? answerJsonError;
  const server = createServer((request, response) => {
    Promise.resolve()
      .then(() => options.handle(request, response))
      .catch((error: unknown) => {
        try {
          onError(error, request, response);
        } catch {
          // An error handler that fails must not leave the client waiting.
          if (!response.headersSent) response.writeHead(500);
          response.end();
        }
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const named = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${named}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
