import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../../local/http/index.js';
import { toHttpApiEvent, writeHttpApiResult } from '../../../local/sandbox/http-api.js';

/** Serves one request through toHttpApiEvent → `result` → writeHttpApiResult. */
async function roundTrip(
  init: RequestInit & { path?: string },
  result: APIGatewayProxyResultV2 | ((event: APIGatewayProxyEventV2) => APIGatewayProxyResultV2),
) {
  let event: APIGatewayProxyEventV2 | undefined;
  const server = createServer(async (request: IncomingMessage, response) => {
    event = toHttpApiEvent(request, await readBody(request), {
      routeKey: 'POST /slack/interactions',
      now: new Date('2026-11-26T13:52:14Z'),
    });
    writeHttpApiResult(response, typeof result === 'function' ? result(event) : result);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}${init.path ?? '/slack/interactions'}`, init);
  const text = await response.text();
  server.close();
  return { event: event as APIGatewayProxyEventV2, response, text };
}

describe('toHttpApiEvent', () => {
  it('delivers a form post base64-encoded, as API Gateway HTTP APIs do', async () => {
    // Act
    const { event } = await roundTrip(
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Slack-Signature': 'v0=abc' },
        body: 'payload=%7B%7D',
      },
      { statusCode: 200 },
    );

    // Assess
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /slack/interactions',
      rawPath: '/slack/interactions',
      rawQueryString: '',
      isBase64Encoded: true,
      requestContext: {
        http: { method: 'POST', path: '/slack/interactions', sourceIp: '127.0.0.1' },
        stage: '$default',
        time: '26/Nov/2026:13:52:14 +0000',
        timeEpoch: Date.parse('2026-11-26T13:52:14Z'),
      },
    });
    expect(event.headers['x-slack-signature']).toBe('v0=abc');
    expect(Buffer.from(event.body ?? '', 'base64').toString('utf8')).toBe('payload=%7B%7D');
  });

  it('passes a JSON body as text, with the query string parsed', async () => {
    const { event } = await roundTrip(
      {
        method: 'POST',
        path: '/slack/interactions?retry=1&retry=2',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      },
      { statusCode: 200 },
    );

    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"a":1}');
    expect(event.rawQueryString).toBe('retry=1&retry=2');
    expect(event.queryStringParameters).toEqual({ retry: '1,2' });
  });

  it('has no body when the request has none', async () => {
    const { event } = await roundTrip({ method: 'GET' }, { statusCode: 204 });
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
  });
});

describe('writeHttpApiResult', () => {
  it('writes status, headers and body of a structured result', async () => {
    const { response, text } = await roundTrip(
      { method: 'POST' },
      { statusCode: 401, headers: { 'content-type': 'text/plain', 'x-count': 2 }, body: 'invalid signature' },
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('x-count')).toBe('2');
    expect(text).toBe('invalid signature');
  });

  it('decodes a base64 body', async () => {
    const { text } = await roundTrip(
      { method: 'POST' },
      { statusCode: 200, body: Buffer.from('hello').toString('base64'), isBase64Encoded: true },
    );
    expect(text).toBe('hello');
  });

  it('takes a result without statusCode as the JSON body of a 200', async () => {
    const { response, text } = await roundTrip({ method: 'POST' }, { ok: true } as never);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(text)).toEqual({ ok: true });
  });
});
