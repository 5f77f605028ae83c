/**
 * The HTTP kit the stand-ins and the sandbox share: body limits, JSON, routes, fault plans, and
 * servers on 127.0.0.1 that close cleanly. The server under test is composed from the kit the way a
 * stand-in is.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FaultPlan,
  HttpError,
  type HttpServer,
  parseJson,
  pathOf,
  Router,
  readBody,
  sendJson,
  startHttpServer,
  urlOf,
} from '../../../local/http/index.js';

type Handler = (params: Readonly<Record<string, string>>, body: unknown) => unknown;

const LIMIT = 64;

describe('a server composed from the kit', () => {
  let server: HttpServer;
  let faults: FaultPlan<{ status: number }>;
  const received: unknown[] = [];

  beforeEach(async () => {
    received.length = 0;
    faults = new FaultPlan();
    const router = new Router<Handler>()
      .add('GET', '/items/{id}', (params) => ({ id: params.id }))
      .add('PUT', '/items/{id}', (params, body) => {
        received.push(body);
        return { id: params.id, stored: body };
      })
      .add('GET', '/files/{path+}', (params) => ({ path: params.path }));
    server = await startHttpServer({
      handle: async (request, response) => {
        const path = pathOf(urlOf(request));
        const method = request.method ?? 'GET';
        const fault = faults.take(method, path);
        if (fault) return sendJson(response, fault.status, { message: 'injected' });
        const match = router.match(method, path);
        if (match.kind === 'not-found') throw new HttpError(404, `no route ${method} ${path}`);
        if (match.kind === 'method-not-allowed')
          throw new HttpError(405, `${path}: ${match.allowed.join(', ')}`);
        const body = parseJson(await readBody(request, LIMIT), 'expected JSON');
        sendJson(response, 200, match.route.handler(match.params, body));
      },
    });
  });

  afterEach(async () => {
    await server.close();
  });

  const put = (path: string, body: string) =>
    fetch(`${server.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });

  it('listens on 127.0.0.1 on a port of its own', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('routes with parameters: one segment, or several with {name+}', async () => {
    expect(await (await fetch(`${server.url}/items/42`)).json()).toEqual({ id: '42' });
    expect(await (await fetch(`${server.url}/files/environments/staging/kustomization.yaml`)).json()).toEqual(
      {
        path: 'environments/staging/kustomization.yaml',
      },
    );
    // Parameters are matched on the decoded path.
    expect(await (await fetch(`${server.url}/items/a%20b`)).json()).toEqual({ id: 'a b' });
  });

  it('answers an unknown route 404 and a known path with the wrong method 405, naming them', async () => {
    const missing = await fetch(`${server.url}/nothing/here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'no route GET /nothing/here' });
    const wrong = await fetch(`${server.url}/items/1`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toEqual({ message: '/items/1: GET, PUT' });
    // A single segment parameter does not take a slash.
    expect((await fetch(`${server.url}/items/1/2`)).status).toBe(404);
  });

  it('reads a JSON body, and answers 400 naming the problem when it is not JSON', async () => {
    const ok = await put('/items/7', '{"tag":"v1"}');
    expect(await ok.json()).toEqual({ id: '7', stored: { tag: 'v1' } });
    const bad = await put('/items/7', '{"tag":');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'expected JSON' });
    expect(received).toEqual([{ tag: 'v1' }]);
  });

  it('answers 413 to a body over the limit, and the handler never sees it', async () => {
    const atLimit = await put('/items/1', JSON.stringify({ v: 'x'.repeat(LIMIT - 10) }));
    expect(atLimit.status).toBe(200);
    const over = await put('/items/1', JSON.stringify({ v: 'x'.repeat(LIMIT) }));
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ message: `request body over ${LIMIT} bytes` });
    expect(received).toHaveLength(1);
  });

  it('answers 413 to a chunked body without a length once it passes the limit, and the client reads it', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/items/1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      });
      request.on('error', reject);
      for (let i = 0; i < 10; i++) request.write('x'.repeat(20));
      request.end();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ message: `request body over ${LIMIT} bytes` });
    expect(received).toEqual([]);
  });

  it('injects faults for the next n matching requests, then answers normally', async () => {
    faults.inject({ status: 503 }, { method: 'get', path: '/items/', times: 2 });
    expect((await fetch(`${server.url}/files/a`)).status).toBe(200);
    expect((await fetch(`${server.url}/items/1`)).status).toBe(503);
    expect((await put('/items/1', '{}')).status).toBe(200);
    expect((await fetch(`${server.url}/items/1`)).status).toBe(503);
    expect((await fetch(`${server.url}/items/1`)).status).toBe(200);
  });

  it('keeps a fault until cleared when injected for Infinity requests', async () => {
    faults.inject({ status: 502 }, { path: /^\/files\//, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/files/x`)).status).toBe(502);
    faults.clear();
    expect((await fetch(`${server.url}/files/x`)).status).toBe(200);
  });

  it('closes with keep-alive connections open, and closing again does nothing', async () => {
    const response = await fetch(`${server.url}/items/1`, { headers: { connection: 'keep-alive' } });
    await response.json();
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/items/1`)).rejects.toThrow();
  });
});

describe('FaultPlan', () => {
  it('gives the earliest matching fault, and every matching one with takeAll', () => {
    const plan = new FaultPlan<string>();
    plan.inject('first', { path: '/refs' });
    plan.inject('second', { method: 'PATCH', times: 2 });
    expect(plan.take('GET', '/contents')).toBeUndefined();
    expect(plan.take('PATCH', '/git/refs/heads/main')).toBe('first');
    expect(plan.takeAll('PATCH', '/git/refs/heads/main')).toEqual(['second']);
    expect(plan.takeAll('PATCH', '/x')).toEqual(['second']);
    expect(plan.takeAll('PATCH', '/x')).toEqual([]);
  });
});

describe('the default error answer and binding', () => {
  it('answers 500 with the message of an error that is not an HttpError', async () => {
    const server = await startHttpServer({
      handle: () => {
        throw new Error('the store is gone');
      },
    });
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ message: 'the store is gone' });
    } finally {
      await server.close();
    }
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const first = await startHttpServer({ handle: () => undefined });
    try {
      await expect(startHttpServer({ port: first.port, handle: () => undefined })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });
});
