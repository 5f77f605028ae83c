import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf, parseEventText, runPromotion, validateRun } from '../../cli/commands/run.js';
import type { Io } from '../../cli/io.js';
import { quietHandlers } from '../../local/quiet-handlers.js';
import { ecrPushEvent } from '../../local/sandbox/ecr-push.js';
import { git, headOf, seedGitopsRepository } from '../../local/sandbox/gitops-repo.js';
import { sendClick } from '../../local/sandbox/slack-click.js';
import { startArgoCdServer } from '../../local/stand-ins/argocd/server.js';
import { startGitHubServer } from '../../local/stand-ins/github/server.js';
import { type SlackServer, startSlackServer } from '../../local/stand-ins/slack/server.js';
import { APPROVE_ACTION } from '../../shared/adapters/slack/approval-message.js';
import { runCli } from './run-cli.js';

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

describe('shiplane run as a user types it', () => {
  it('a --config file that does not exist: exit 2, one line naming it', async () => {
    const result = await runCli([
      'run',
      '--config',
      file('missing.yaml'),
      '--event',
      'examples/ecr-push-backend.json',
    ]);

    expect(result.code).toBe(2);
    // The config error's own format: the file, then the problem on the next line; no stack trace.
    expect(result.stderr).toMatch(/^shiplane run: .*missing\.yaml.*\n.*cannot read/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('no --config at all: a usage error, exit 2', async () => {
    const result = await runCli(['run', '--event', 'examples/ecr-push-backend.json']);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/required option '-c, --config <file>' not specified/);
  });
});

describe('the sample event under examples/', () => {
  it("is an ECR push of the reference config's backend app, which run would promote", async () => {
    const { decision, event } = await validateRun(
      { config: 'shiplane.config.yaml', event: 'examples/ecr-push-backend.json' },
      {},
    );

    expect(event.detail['repository-name']).toBe('itdo-erp/backend');
    expect(decision).toMatchObject({ kind: 'start', release: { app: 'backend', tag: 'v2.1.6' } });
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
    ['superseded', 0],
    ['failed', 1],
    ['rolled-back', 1],
    ['rejected', 1],
    ['expired', 1],
  ] as const)('%s → %i', (outcome, code) => {
    expect(exitCodeOf(outcome)).toBe(code);
  });
});

describe('shiplane run against stand-ins', () => {
  let work: string;
  let stop: Array<() => Promise<void>> = [];
  let slack: SlackServer;
  let configFile: string;
  let repoDir: string;
  const secrets = {
    GITHUB_TOKEN: 'ghs_run_test',
    ARGOCD_TOKEN: 'argocd-run-test',
    SLACK_BOT_TOKEN: 'xoxb-run-test',
    SLACK_SIGNING_SECRET: 'run-test-signing-secret',
  };

  beforeAll(async () => {
    quietHandlers();
    work = await mkdtemp(join(tmpdir(), 'shiplane-run-e2e-'));
    repoDir = join(work, 'repo');
    await seedGitopsRepository(repoDir);
    const github = await startGitHubServer({
      owner: 'itdo-erp',
      repo: 'itdo-erp-infrastructure',
      repoDir,
      token: secrets.GITHUB_TOKEN,
    });
    const argocd = await startArgoCdServer({
      token: secrets.ARGOCD_TOKEN,
      apps: ['staging', 'production'].map((env) => ({
        name: `itdo-erp-${env}`,
        path: `environments/${env}`,
        automated: true,
      })),
      resolveHead: () => headOf(repoDir),
      readTag: async (revision, app) => (await currentTagsAt(repoDir, revision, app.path)) ?? undefined,
    });
    slack = await startSlackServer({ botToken: secrets.SLACK_BOT_TOKEN });
    stop = [() => github.close(), () => argocd.close(), () => slack.close()];
    configFile = join(work, 'shiplane.config.yaml');
    await writeFile(
      configFile,
      (await readFile('shiplane.config.yaml', 'utf8'))
        .replace('https://api.github.com', github.url)
        .replace('https://argocd.itdo-erp.com', argocd.url)
        .replace('https://slack.com/api/', slack.apiUrl)
        .replace('secret:shiplane/github-token', 'env:GITHUB_TOKEN')
        .replace('secret:shiplane/argocd-token', 'env:ARGOCD_TOKEN')
        .replace('secret:shiplane/slack-bot-token', 'env:SLACK_BOT_TOKEN')
        .replace('secret:shiplane/slack-signing-secret', 'env:SLACK_SIGNING_SECRET')
        .replace('healthTimeout: 15m', 'healthTimeout: 15m\n    pollInterval: 5s')
        .replace(
          'healthTimeout: 15m\n    approval',
          'healthTimeout: 15m\n    pollInterval: 5s\n    approval',
        ),
    );
  }, 60_000);

  afterAll(async () => {
    for (const close of stop) await close();
    await rm(work, { recursive: true, force: true });
  });

  /** Plays Slack: once the approval message is posted, clicks its button with a signed request. */
  async function clickWhenAsked(port: number, actionId: string): Promise<number> {
    for (let i = 0; i < 600; i++) {
      const message = slack.messages().find((m) => JSON.stringify(m.blocks ?? []).includes(actionId));
      if (message) {
        const blocks = JSON.stringify(message.blocks);
        const value =
          new RegExp(`"action_id":"${actionId}"[^}]*"value":"([^"]+)"`).exec(blocks)?.[1] ??
          /"value":"([0-9a-f]{24})"/.exec(blocks)?.[1];
        const result = await sendClick(
          `http://127.0.0.1:${port}/slack/interactions`,
          secrets.SLACK_SIGNING_SECRET,
          {
            channel: message.channel,
            message,
            actionId,
            value,
            user: { id: 'U0PLATFORM1', name: 'aiko.tanaka' },
            responseUrl: `${slack.apiUrl}response`,
          },
        );
        return result.status;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no approval message was posted');
  }

  it('promotes through staging and production, approved through its interaction endpoint: exit 0, JSON last', async () => {
    // Prepare: the sample event the project ships (an ECR push of itdo-erp/backend:v2.1.6).
    const event = 'examples/ecr-push-backend.json';
    const port = await freePort();
    const io = capture();

    // Act
    const [code, clicked] = await Promise.all([
      runPromotion({ config: configFile, event, port, poll: 0, json: true }, io, { env: secrets }),
      clickWhenAsked(port, APPROVE_ACTION),
    ]);

    // Assess
    expect(clicked).toBe(200);
    expect(code).toBe(0);
    const summary = JSON.parse(io.lines.at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary).toEqual({
      execution: expect.stringMatching(/^backend-v2\.1\.6-[0-9a-f]{12}$/),
      status: 'SUCCEEDED',
      outcome: 'deployed',
      stages: [
        { name: 'staging', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
        { name: 'production', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
      ],
    });
    expect(io.lines).toContain(`Slack interaction endpoint: http://127.0.0.1:${port}/slack/interactions`);
    expect(io.lines.join('\n')).toMatch(/✓ Deployed/);
  }, 120_000);

  it('rolls a degraded rollout in staging back: exit 1, outcome rolled-back, staging file as before, production untouched', async () => {
    const event = join(work, 'push-bad.json');
    await writeFile(
      event,
      JSON.stringify(ecrPushEvent({ repository: 'itdo-erp/backend', tag: 'v2.1.7-bad' })),
    );
    // The example config releases only vX.Y.Z tags; this run's config also takes -bad ones.
    const config = join(work, 'bad.config.yaml');
    await writeFile(
      config,
      // A function, not a string: `$'` in a replacement string means "the text after the match".
      (await readFile(configFile, 'utf8')).replaceAll(String.raw`\d+$'`, () => String.raw`\d+(-bad)?$'`),
    );
    const staging = 'environments/staging/kustomization.yaml';
    const before = await git(repoDir, ['show', `HEAD:${staging}`]);
    const io = capture();

    const code = await runPromotion({ config, event, port: await freePort(), poll: 0, json: true }, io, {
      env: secrets,
    });

    expect(code).toBe(1);
    expect(JSON.parse(io.lines.at(-1) ?? '{}')).toMatchObject({
      status: 'FAILED',
      outcome: 'rolled-back',
      stages: [
        { name: 'staging', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
        { name: 'production', commit: null },
      ],
    });
    expect(await git(repoDir, ['show', `HEAD:${staging}`])).toBe(before);
    const earlier = /name: itdo-erp\/backend\n\s+newName: [^\n]+\n\s+newTag: (\S+)/.exec(before)?.[1];
    expect(await git(repoDir, ['log', '-1', '--format=%s'])).toBe(
      `Roll back backend v2.1.7-bad → ${earlier} in staging\n`,
    );
    expect(io.lines.join('\n')).toMatch(/Rolled back/);
  }, 120_000);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The tag the Argo CD stand-in sees at a revision: the backend image's. */
async function currentTagsAt(repoDir: string, revision: string, path: string): Promise<string | null> {
  const text = await git(repoDir, ['show', `${revision}:${path}/kustomization.yaml`]);
  return /name: itdo-erp\/backend\n\s+newName: [^\n]+\n\s+newTag: ([^\n]+)/.exec(text)?.[1] ?? null;
}
