/** Writing answers: JSON with its length, or text; a reply after the headers went out only ends the response. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(response, status, JSON.stringify(body), {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
  });
}

export function sendText(
  response: ServerResponse,
  status: number,
  text: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  send(response, status, text, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

/** Writes status, headers and body; `body` undefined sends none (a 204, say). */
export function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer | undefined,
  headers: OutgoingHttpHeaders,
): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, headers);
  response.end(body);
}
