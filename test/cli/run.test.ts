import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf, parseEventText, runPromotion } from '../../cli/commands/run.js';
import type { Io } from '../../cli/io.js';

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

let dir: string;
let pushEvent: Record<string, unknown>;
/** A server standing where the config points: any request to it would be a call to a service. */
let tripwire: Server;
let calls = 0;
let configText: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shiplane-run-'));
  pushEvent = JSON.parse(await readFile('test/fixtures/ecr-image-push.json', 'utf8')) as Record<
    string,
    unknown
  >;
  tripwire = createServer((_, response) => {
    calls += 1;
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => tripwire.listen(0, '127.0.0.1', resolve));
  const { port } = tripwire.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  configText = (await readFile('shiplane.config.yaml', 'utf8'))
    .replace('https://api.github.com', url)
    .replace('https://argocd.itdo-erp.com', url)
    .replace('https://slack.com/api/', `${url}/api/`)
    .replace('secret:shiplane/github-token', 'env:TEST_GITHUB_TOKEN');
  await writeFile(join(dir, 'shiplane.config.yaml'), configText);
  await writeFile(join(dir, 'push.json'), JSON.stringify(pushEvent));
});

afterAll(async () => {
  await new Promise((resolve) => tripwire.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string) => join(dir, name);
const env = { TEST_GITHUB_TOKEN: 'ghp_test' };

describe('shiplane run refuses bad input with exit code 2, naming the problem, calling nothing', () => {
  it('a config file that is not valid', async () => {
    await writeFile(file('bad.config.yaml'), configText.replace('timeout: 24h', 'timeout: soon'));
    const io = capture();

    const code = await runPromotion({ config: file('bad.config.yaml'), event: file('push.json') }, io, {
      env,
    });

    expect(code).toBe(2);
    expect(io.errors.join('\n')).toMatch(
      /stages\[1\]\.approval\.timeout: expected a duration like 90s, 15m or 24h, got "soon"/,
    );
    expect(calls).toBe(0);
  });

  it('a config file that does not exist', async () => {
    const io = capture();

    const code = await runPromotion({ config: file('missing.yaml'), event: file('push.json') }, io, { env });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/cannot read .*missing\.yaml/);
  });

  it('an event file that does not exist', async () => {
    const io = capture();

    const code = await runPromotion({ config: file('shiplane.config.yaml'), event: file('nope.json') }, io, {
      env,
    });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/cannot read the event file .*nope\.json/);
  });

  it('an event file that is not JSON', async () => {
    await writeFile(file('text.json'), 'pushed backend v2.1.6');
    const io = capture();

    const code = await runPromotion({ config: file('shiplane.config.yaml'), event: file('text.json') }, io, {
      env,
    });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/text\.json is not JSON/);
  });

  it('an event that is not an ECR push event, naming the field', async () => {
    const detail = { ...(pushEvent.detail as object), 'image-digest': 'sha256:short' };
    await writeFile(file('bad-digest.json'), JSON.stringify({ ...pushEvent, detail }));
    const io = capture();

    const code = await runPromotion(
      { config: file('shiplane.config.yaml'), event: file('bad-digest.json') },
      io,
      {
        env,
      },
    );

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/detail\.image-digest: expected an image digest/);
    expect(calls).toBe(0);
  });

  it('a config whose env: reference is not set', async () => {
    const io = capture();

    const code = await runPromotion({ config: file('shiplane.config.yaml'), event: file('push.json') }, io, {
      env: {},
    });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/gitops\.github\.token refers to env:TEST_GITHUB_TOKEN, which is not set/);
    expect(calls).toBe(0);
  });
});

describe('shiplane run with an event the intake ignores', () => {
  it('exits 0 with outcome ignored and calls nothing', async () => {
    const detail = { ...(pushEvent.detail as object), 'image-tag': 'latest' };
    await writeFile(file('latest.json'), JSON.stringify({ ...pushEvent, detail }));
    const io = capture();

    const code = await runPromotion(
      { config: file('shiplane.config.yaml'), event: file('latest.json'), json: true },
      io,
      { env },
    );

    expect(code).toBe(0);
    expect(io.lines[0]).toMatch(/^ignored: tag latest does not match/);
    expect(JSON.parse(io.lines.at(-1) ?? '{}')).toEqual({
      execution: null,
      status: null,
      outcome: 'ignored',
      stages: [],
    });
    expect(calls).toBe(0);
  });
});

describe('parseEventText', () => {
  it('reads the ECR event out of an SQS event, as the intake queue delivers it', () => {
    const sqs = JSON.stringify({ Records: [{ body: JSON.stringify(pushEvent) }] });
    expect(parseEventText(sqs, 'sqs.json').detail['image-tag']).toBe('v1.4.2');
  });

  it('names an SQS record whose body is not JSON', () => {
    expect(() => parseEventText(JSON.stringify({ Records: [{ body: 'x' }] }), 'sqs.json')).toThrow(
      'sqs.json: Records[0].body is not JSON',
    );
  });
});

describe('exitCodeOf', () => {
  it.each([
    ['deployed', 0],
    ['ignored', 0],
    ['failed', 1],
    ['rejected', 1],
    ['expired', 1],
  ] as const)('%s → %i', (outcome, code) => {
    expect(exitCodeOf(outcome)).toBe(code);
  });
});
