/**
 * Reading request bodies: whole, as bytes (a Slack signature is over the raw body), and never more
 * than a limit, so a runaway client cannot fill the memory of a server that tests share.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, InvalidJsonError } from './errors.js';

/** 1 MiB: more than any request the stand-ins' real services accept on the routes served here. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads a request body completely. Over `limit` bytes it rejects with BodyTooLargeError (413) — after
 * the request has ended, so the client, still sending, reads the 413 instead of a reset connection.
 */
export function readBody(request: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    request.on('data', (chunk: Buffer | string) => {
      if (tooLarge) return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buffer.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(buffer);
    });
    request.on('end', () =>
      tooLarge ? reject(new BodyTooLargeError(limit)) : resolve(Buffer.concat(chunks)),
    );
    request.on('error', reject);
  });
}

/**
 * Parses a JSON body; an empty body is `undefined`. Text that is not JSON is an InvalidJsonError (400)
 * with `message`, so each server answers in its own service's words.
 */
export function parseJson(body: Buffer | string, message?: string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidJsonError(message);
  }
}
