import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxExecutions, sandboxRetry, sandboxRollback } from '../../../local/sandbox/api-client.js';
import {
  type ConsoleBackend,
  type ConsoleMessage,
  type SandboxDecisionRequest,
  type SandboxServer,
  startSandboxServer,
} from '../../../local/sandbox/server.js';
import type { HistoryEventLike } from '../../../shared/domain/execution-timeline.js';
import type { ExecutionDetail } from '../../../shared/ports/executions.js';

const SECRET = 'test-signing-secret';
const NAME = 'backend-v2.1.6-4c1f5e2b8a9d';
const events = (
  JSON.parse(readFileSync('test/fixtures/sfn-history-deployed.json', 'utf8')) as {
    events: HistoryEventLike[];
  }
).events;

const approval: ConsoleMessage = {
  ts: '1795701120.000200',
  thread_ts: '1795701100.000100',
  bot_id: 'B0SHIPLANE1',
  text: 'Approve backend v2.1.6 for production?',
  blocks: [
    {
      type: 'actions',
      block_id: 'decision',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          value: 'apv-1',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
        },
      ],
    },
  ],
};

const detail: ExecutionDetail = {
  name: NAME,
  arn: `arn:aws:states:us-east-1:123456789012:execution:promotion:${NAME}`,
  status: 'SUCCEEDED',
  startDate: new Date('2026-11-26T13:40:02.120Z'),
  stopDate: new Date('2026-11-26T13:52:17.660Z'),
  input: { release: { app: 'backend', tag: 'v2.1.6' } },
  output: { outcome: 'deployed' },
  error: undefined,
  cause: undefined,
  events,
};

const backend: ConsoleBackend & {
  pushes: string[];
  responses: unknown[];
  rollbacks: unknown[];
  decisions: Array<{ execution: string; request: SandboxDecisionRequest }>;
} = {
  pushes: [],
  decisions: [],
  responses: [],
  rollbacks: [],
  info: () => ({
    repository: 'itdo-erp/itdo-erp-infrastructure',
    branch: 'main',
    channel: 'C0DEPLOYS1',
    channelName: 'deploys',
    configFile: '/tmp/shiplane.config.yaml',
    apps: ['backend', 'frontend'],
    stages: ['staging', 'production'],
    users: [{ id: 'U0PLATFORM1', name: 'aiko.tanaka', approver: true }],
    startedAt: '2026-11-26T13:40:00Z',
  }),
  listExecutions: async () => [detail],
  getExecution: async (name) => (name === NAME ? detail : undefined),
  slackMessages: async () => [{ ts: '1795701100.000100', text: 'backend v2.1.6', replies: [approval] }],
  respond(user, message, body) {
    this.responses.push({ user, ts: message?.ts, body });
  },
  repo: async () => ({
    branch: 'main',
    head: 'a'.repeat(40),
    tags: { staging: { backend: 'v2.1.6' } },
    log: [],
  }),
  argocd: async () => [],
  commit: async () => undefined,
  alerts: () => [
    {
      at: '2026-11-26T13:45:10.000Z',
      subject: 'Shiplane: backend v2.1.7-bad degraded in staging',
      message: 'Release: backend v2.1.7-bad\nEvent: degraded in staging\nExecution: backend-v2.1.7-bad-1',
    },
  ],
  async push(app, tag) {
    this.pushes.push(`${app}:${tag}`);
    return { result: 'started', execution: `${app}-${tag}-000000000000`, message: 'started' };
  },
  async retry(name) {
    if (name === NAME) return { result: 'refused', message: `${NAME} deployed its release` };
    if (name === 'frontend-v1.9.0-1a2b3c4d5e6f') {
      return {
        result: 'started',
        execution: `${name}-r2`,
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:promotion:${name}-r2`,
        retryOf: name,
        attempt: 2,
      };
    }
    return { result: 'not-found', message: `no execution ${name} in the sandbox` };
  },
  async decide(execution, request) {
    this.decisions.push({ execution, request });
    if (execution !== NAME) return undefined;
    return { result: 'decided', by: 'the sandbox', outcome: { kind: 'not-found' } };
  },
  async rollback(request) {
    this.rollbacks.push(request);
    if (request.app !== 'backend') return { result: 'invalid', message: `unknown app ${request.app}` };
    if (request.to === 'v9.9.9') return { result: 'refused', message: 'staging never ran backend v9.9.9' };
    return {
      result: 'started',
      execution: 'backend-staging-rollback-v2.1.5-1',
      executionArn:
        'arn:aws:states:us-east-1:123456789012:execution:promotion:backend-staging-rollback-v2.1.5-1',
      app: 'backend',
      stage: request.stage,
      from: 'v2.1.6',
      to: 'v2.1.5',
      digest: `sha256:${'5'.repeat(64)}`,
      approval: false,
    };
  },
};

let server: SandboxServer;
let received: APIGatewayProxyEventV2[];

beforeEach(async () => {
  received = [];
  server = await startSandboxServer({
    signingSecret: SECRET,
    backend,
    interaction: async (event) => {
      received.push(event);
      return { statusCode: 200, body: '' };
    },
  });
});

afterEach(async () => {
  await server.close();
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the sandbox server', () => {
  it('serves the console page and its script and styles', async () => {
    const page = await fetch(server.url);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/console.js">');
    expect((await fetch(`${server.url}/console.js`)).status).toBe(200);
    expect((await fetch(`${server.url}/console.css`)).status).toBe(200);
    expect((await fetch(`${server.url}/time.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    const icon = await fetch(`${server.url}/favicon.svg`);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg /);
  });

  it('answers the console state in one document with each run summarized', async () => {
    const state = (await (await fetch(`${server.url}/api/state`)).json()) as Record<string, unknown>;

    expect(state).toMatchObject({
      sandbox: { channel: 'C0DEPLOYS1', apps: ['backend', 'frontend'] },
      runs: [
        {
          name: NAME,
          status: 'SUCCEEDED',
          app: 'backend',
          tag: 'v2.1.6',
          outcome: 'deployed',
          currentState: 'Deployed',
        },
      ],
      slack: { messages: [{ ts: '1795701100.000100' }] },
      repo: { tags: { staging: { backend: 'v2.1.6' } } },
      argocd: { apps: [] },
      // What the SNS topic got shows in the console too, not only in the terminal.
      alerts: [
        { subject: 'Shiplane: backend v2.1.7-bad degraded in staging', at: '2026-11-26T13:45:10.000Z' },
      ],
    });
  });

  it('answers one run with its timeline and summary, and the raw events unless asked not to', async () => {
    const full = (await (await fetch(`${server.url}/api/executions/${NAME}`)).json()) as Record<
      string,
      unknown
    >;
    const light = (await (
      await fetch(`${server.url}/api/executions/${NAME}?history=false`)
    ).json()) as Record<string, unknown>;

    expect(full.events).toHaveLength(events.length);
    expect(light.events).toBeUndefined();
    expect(light).toMatchObject({ summary: { outcome: 'deployed' }, timeline: { steps: expect.any(Array) } });
    expect((await fetch(`${server.url}/api/executions/nope`)).status).toBe(404);
  });

  it('is what `shiplane runs|show --sandbox` read', async () => {
    const reader = sandboxExecutions(server.url);

    expect(await reader.list({ status: 'succeeded', namePrefix: 'backend-' })).toHaveLength(1);
    expect(await reader.list({ status: 'RUNNING' })).toHaveLength(0);
    const run = await reader.get(NAME);
    expect(run.events).toHaveLength(events.length);
    expect(run.startDate).toEqual(detail.startDate);
  });

  it('forwards a console click to the interaction endpoint as a signed Slack block_actions request', async () => {
    // Act
    const answer = await post('/api/slack/click', {
      ts: approval.ts,
      actionId: 'approve',
      value: 'apv-1',
      user: 'U0PLATFORM1',
    });

    // Assess
    expect(answer).toEqual({ status: 200, body: { status: 200, text: '' } });
    const event = received[0] as APIGatewayProxyEventV2;
    expect(event.routeKey).toBe('POST /slack/interactions');
    expect(event.isBase64Encoded).toBe(true);
    const raw = Buffer.from(event.body ?? '', 'base64').toString('utf8');
    const timestamp = event.headers['x-slack-request-timestamp'] ?? '';
    const expected = createHmac('sha256', SECRET).update(`v0:${timestamp}:${raw}`).digest('hex');
    expect(event.headers['x-slack-signature']).toBe(`v0=${expected}`);
    const payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '{}') as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0PLATFORM1' },
      actions: [{ action_id: 'approve', value: 'apv-1' }],
      response_url: `${server.url}/slack/response/U0PLATFORM1/${approval.ts}`,
    });

    // The response_url exists: what an app posts there is kept for the user who clicked.
    const responded = await fetch(payload.response_url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Approved.', response_type: 'ephemeral' }),
    });
    expect(await responded.text()).toBe('ok');
    expect(backend.responses.at(-1)).toEqual({
      user: 'U0PLATFORM1',
      ts: approval.ts,
      body: { text: 'Approved.', response_type: 'ephemeral' },
    });
  });

  it('refuses a click by an unknown user or on an unknown message, and sends nothing', async () => {
    expect(
      (await post('/api/slack/click', { ts: approval.ts, actionId: 'approve', user: 'U0NOBODY' })).status,
    ).toBe(400);
    expect(
      (await post('/api/slack/click', { ts: '1.2', actionId: 'approve', user: 'U0PLATFORM1' })).status,
    ).toBe(404);
    expect(
      (await post('/api/slack/click', { ts: approval.ts, actionId: 'merge', user: 'U0PLATFORM1' })).status,
    ).toBe(400);
    expect(received).toHaveLength(0);
  });

  it('pushes an image through the backend and names what is missing', async () => {
    expect(await post('/api/push', { app: 'backend', tag: 'v2.1.7-bad' })).toMatchObject({
      status: 200,
      body: { result: 'started', execution: 'backend-v2.1.7-bad-000000000000' },
    });
    expect(await post('/api/push', { app: 'backend' })).toEqual({
      status: 400,
      body: { message: 'tag is required' },
    });
  });

  it('refuses a tag ECR would refuse, saying why, and pushes nothing', async () => {
    backend.pushes.length = 0;

    const answer = await post('/api/push', { app: 'backend', tag: 'v2.1.7:bad' });

    expect(answer).toEqual({
      status: 400,
      body: {
        message:
          '"v2.1.7:bad" is not an image tag: it starts with a letter, digit or "_" and holds only letters, digits, ".", "_" and "-"',
      },
    });
    expect(backend.pushes).toEqual([]);
  });

  it('answers a console post over 64 KiB 413 and one that is not a JSON object 400, and pushes nothing', async () => {
    backend.pushes.length = 0;
    const send = (body: string) =>
      fetch(`${server.url}/api/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });

    const tooLarge = await send(
      JSON.stringify({ app: 'backend', tag: 'v2.1.7', padding: 'x'.repeat(70_000) }),
    );
    const notJson = await send('{"app":');
    const notObject = await send('["backend","v2.1.7"]');

    expect({ status: tooLarge.status, body: await tooLarge.json() }).toEqual({
      status: 413,
      body: { message: `request body over ${64 * 1024} bytes` },
    });
    expect(notJson.status).toBe(400);
    expect(await notObject.json()).toEqual({ message: 'expected a JSON object body' });
    expect(backend.pushes).toEqual([]);
  });
});

/** A request with exactly the headers given (fetch would not send another Host). */
function rawRequest(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('the sandbox server refuses what a page from elsewhere may send', () => {
  const push = JSON.stringify({ app: 'backend', tag: 'v6.6.6' });
  const click = JSON.stringify({ ts: approval.ts, actionId: 'approve', value: 'apv-1', user: 'U0PLATFORM1' });
  const host = () => new URL(server.url).host;

  it('refuses a cross-origin push or click, and nothing is pushed or clicked', async () => {
    // Prepare
    const pushes = backend.pushes.length;
    const headers = { host: host(), origin: 'https://evil.example', 'content-type': 'application/json' };

    // Act
    const pushed = await rawRequest('/api/push', { method: 'POST', headers, body: push });
    const clicked = await rawRequest('/api/slack/click', { method: 'POST', headers, body: click });
    const sandboxed = await rawRequest('/api/push', {
      method: 'POST',
      headers: { ...headers, origin: 'null' },
      body: push,
    });

    // Assess
    for (const answer of [pushed, clicked, sandboxed]) {
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).message).toMatch(/cross-origin request from .* refused/);
    }
    expect(backend.pushes).toHaveLength(pushes);
    expect(received).toHaveLength(0);
  });

  it('refuses a form post, which a page anywhere can send without asking', async () => {
    const pushes = backend.pushes.length;
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await rawRequest('/api/push', {
        method: 'POST',
        headers: { host: host(), 'content-type': type },
        body: push,
      });
      expect(answer).toEqual({
        status: 403,
        body: JSON.stringify({ message: 'expected Content-Type: application/json' }),
      });
    }
    expect(backend.pushes).toHaveLength(pushes);
  });

  it('refuses an approval or rejection from another origin, a sandboxed page, a form or another host name', async () => {
    const asked = backend.decisions.length;
    const path = `/api/executions/${NAME}/decision`;
    const decision = JSON.stringify({ decision: 'approved' });
    const json = { host: host(), 'content-type': 'application/json' };

    const answers = await Promise.all([
      rawRequest(path, {
        method: 'POST',
        headers: { ...json, origin: 'https://evil.example' },
        body: decision,
      }),
      rawRequest(path, { method: 'POST', headers: { ...json, origin: 'null' }, body: decision }),
      rawRequest(path, {
        method: 'POST',
        headers: { ...json, 'sec-fetch-site': 'same-site' },
        body: decision,
      }),
      rawRequest(path, {
        method: 'POST',
        headers: { host: host(), 'content-type': 'text/plain' },
        body: decision,
      }),
      rawRequest(path, {
        method: 'POST',
        headers: { ...json, host: `rebind.example:${new URL(server.url).port}` },
        body: decision,
      }),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403]);
    expect(backend.decisions).toHaveLength(asked);
  });

  it('refuses a request the browser marks cross-site', async () => {
    const answer = await rawRequest('/api/slack/click', {
      method: 'POST',
      headers: { host: host(), 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: click,
    });
    expect(answer.status).toBe(403);
    expect(received).toHaveLength(0);
  });

  it('answers nothing to a request addressed to another host name (DNS rebinding)', async () => {
    const port = new URL(server.url).port;
    const state = await rawRequest('/api/state', { headers: { host: `evil.example:${port}` } });
    const pushed = await rawRequest('/api/push', {
      method: 'POST',
      headers: {
        host: `evil.example:${port}`,
        origin: `http://evil.example:${port}`,
        'content-type': 'application/json',
      },
      body: push,
    });
    expect(state.status).toBe(403);
    expect(JSON.parse(state.body).message).toMatch(/is not this sandbox/);
    expect(state.body).not.toContain('itdo-erp');
    expect(pushed.status).toBe(403);
  });

  it("takes a JSON post from the console's own origin, by 127.0.0.1 or localhost", async () => {
    const port = new URL(server.url).port;
    for (const name of ['127.0.0.1', 'localhost']) {
      const answer = await rawRequest('/api/push', {
        method: 'POST',
        headers: {
          host: `${name}:${port}`,
          origin: `http://${name}:${port}`,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/json; charset=utf-8',
        },
        body: push,
      });
      expect(answer.status).toBe(200);
    }
  });
});

describe('the rollback endpoint', () => {
  it('answers 200 started, 409 refused and 400 invalid, and the client reads each', async () => {
    const started = await post('/api/rollback', {
      app: 'backend',
      stage: 'staging',
      reason: 'checkout errors',
    });
    const refused = await post('/api/rollback', { app: 'backend', stage: 'staging', to: 'v9.9.9' });
    const invalid = await post('/api/rollback', { app: 'billing', stage: 'staging' });

    expect(started).toMatchObject({ status: 200, body: { result: 'started', to: 'v2.1.5' } });
    expect(refused).toEqual({
      status: 409,
      body: { result: 'refused', message: 'staging never ran backend v9.9.9' },
    });
    expect(invalid).toEqual({ status: 400, body: { result: 'invalid', message: 'unknown app billing' } });
    expect(backend.rollbacks[0]).toEqual({
      app: 'backend',
      stage: 'staging',
      to: undefined,
      reason: 'checkout errors',
    });
    expect(await sandboxRollback(server.url, { app: 'backend', stage: 'staging', to: 'v9.9.9' })).toEqual({
      result: 'refused',
      message: 'staging never ran backend v9.9.9',
    });
  });

  it('refuses a request without app or stage, or with a --to that is not text, and asks the backend nothing', async () => {
    const asked = backend.rollbacks.length;

    const noStage = await post('/api/rollback', { app: 'backend' });
    const badTo = await post('/api/rollback', { app: 'backend', stage: 'staging', to: 5 });

    expect(noStage).toEqual({ status: 400, body: { message: 'stage is required' } });
    expect(badTo).toEqual({ status: 400, body: { message: 'to must be a string' } });
    expect(backend.rollbacks).toHaveLength(asked);
    await expect(sandboxRollback(server.url, { app: 'backend', stage: '' })).rejects.toThrow(
      /could not roll back backend in {2}\(HTTP 400\): stage is required/,
    );
  });
});

describe('the retry endpoint', () => {
  it('answers 200 started, 409 refused and 404 unknown, and the client reads each', async () => {
    const started = await post('/api/executions/frontend-v1.9.0-1a2b3c4d5e6f/retry', {});
    const refused = await post(`/api/executions/${NAME}/retry`, {});
    const unknown = await post('/api/executions/nope/retry', {});

    expect(started).toMatchObject({
      status: 200,
      body: { result: 'started', execution: 'frontend-v1.9.0-1a2b3c4d5e6f-r2' },
    });
    expect(refused).toEqual({
      status: 409,
      body: { result: 'refused', message: `${NAME} deployed its release` },
    });
    expect(unknown.status).toBe(404);
    expect(await sandboxRetry(server.url, NAME)).toEqual({
      result: 'refused',
      message: `${NAME} deployed its release`,
    });
  });

  it('gives a run that deployed no next step', async () => {
    const run = (await (await fetch(`${server.url}/api/executions/${NAME}`)).json()) as Record<
      string,
      unknown
    >;

    expect(run.nextStep).toBeNull();
  });
});

describe('the decision endpoint', () => {
  const path = `/api/executions/${NAME}/decision`;

  it('refuses a rejection whose reason is empty or only spaces, naming the field, and decides nothing', async () => {
    const asked = backend.decisions.length;

    const answers = await Promise.all(
      ['', '   ', '\n\t '].map((reason) => post(path, { decision: 'rejected', reason })),
    );
    const missing = await post(path, { decision: 'rejected' });

    for (const answer of [...answers, missing]) {
      expect(answer).toEqual({ status: 400, body: { message: 'reason: say why you reject it' } });
    }
    expect(backend.decisions).toHaveLength(asked);
  });

  it('refuses a reason over 500 characters, and records one trimmed', async () => {
    const asked = backend.decisions.length;

    const long = await post(path, { decision: 'rejected', reason: 'x'.repeat(501) });
    expect(long).toEqual({
      status: 400,
      body: { message: 'reason: keep it to 500 characters (it has 501)' },
    });
    expect(backend.decisions).toHaveLength(asked);

    expect((await post(path, { decision: 'rejected', reason: '  checkout errors \n' })).status).toBe(200);
    expect((await post(path, { decision: 'approved', reason: '   ' })).status).toBe(200);
    expect(backend.decisions.slice(asked).map((d) => d.request)).toEqual([
      { decision: 'rejected', reason: 'checkout errors' },
      { decision: 'approved' },
    ]);
  });
});

describe('the decision endpoint and break glass', () => {
  const path = `/api/executions/${NAME}/decision`;

  it('passes breakGlass: true on to the backend, and refuses one that is not a boolean', async () => {
    const asked = backend.decisions.length;
    expect(await post(path, { decision: 'approved', breakGlass: 'yes', reason: 'x' })).toEqual({
      status: 400,
      body: { message: 'breakGlass must be true or false' },
    });
    expect(backend.decisions).toHaveLength(asked);
    expect((await post(path, { decision: 'approved', breakGlass: true, reason: 'outage fix' })).status).toBe(
      200,
    );
    expect(backend.decisions.slice(asked).map((d) => d.request)).toEqual([
      { decision: 'approved', reason: 'outage fix', breakGlass: true },
    ]);
  });
});

describe('a path with a malformed % escape', () => {
  it.each([
    ['GET', '/api/executions/backend%E0%A4%A'],
    ['POST', '/api/executions/backend%ZZ/decision'],
    ['POST', '/api/executions/%/retry'],
    ['GET', '/api/commits/%E0'],
    ['GET', '/commits/abc%'],
    ['POST', '/slack/response/U0PLATFORM1/%FF'],
  ])('answers %s %s 400, saying what is wrong, and does nothing', async (method, target) => {
    const asked = backend.decisions.length;
    const responded = backend.responses.length;

    const response = await fetch(`${server.url}${target}`, {
      method,
      ...(method === 'POST'
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approved' }) }
        : {}),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body.message).toMatch(/not valid percent-encoding/);
    expect(backend.decisions).toHaveLength(asked);
    expect(backend.responses).toHaveLength(responded);
  });
});

describe('the interaction-only server (shiplane run)', () => {
  it('serves only the interaction endpoint', async () => {
    const only = await startSandboxServer({
      signingSecret: SECRET,
      interaction: async () => ({ statusCode: 401, body: 'invalid signature' }),
    });
    try {
      const response = await fetch(only.interactionUrl, { method: 'POST', body: 'payload=%7B%7D' });
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('invalid signature');
      expect((await fetch(`${only.url}/api/state`)).status).toBe(404);
      expect((await fetch(only.interactionUrl)).status).toBe(405);
    } finally {
      await only.close();
    }
  });
});
