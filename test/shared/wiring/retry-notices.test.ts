/**
 * The wiring passes each client's retry notices to the handler's warn: in `shiplane run` those are
 * the `! …` lines (the local runtime's reporter), in Lambda the logger. Against closed ports here.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callbackReporter, createLocalRuntime, type LocalRuntime } from '../../../local/sandbox/runtime.js';
import { SANDBOX_SECRET_ENV, sandboxConfigText } from '../../../local/sandbox/sandbox-config.js';
import { createSecretResolver } from '../../../shared/adapters/aws/secrets.js';
import { parseConfigText } from '../../../shared/config/load.js';
import type { ArgoCdHealthDeps } from '../../../shared/steps/argocd-health/check-health.js';
import type { DepsSource } from '../../../shared/wiring/deps.js';
import { notifyDeps } from '../../../shared/wiring/notify.js';
import { requestApprovalDeps } from '../../../shared/wiring/request-approval.js';

// The local runtime's argocd-health dependencies, taken from the factory it hands them to.
const { lazy } = vi.hoisted(() => ({ lazy: {} as { argocdHealth?: DepsSource<ArgoCdHealthDeps> } }));
vi.mock('../../../functions/argocd-health/handler.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../functions/argocd-health/handler.js')>();
  return {
    ...real,
    createArgoCdHealthHandler: (deps: DepsSource<ArgoCdHealthDeps>) => {
      lazy.argocdHealth = deps;
      return real.createArgoCdHealthHandler(deps);
    },
  };
});

/** A port on 127.0.0.1 with nothing listening: connections are refused at once. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let port: number;
let config: ReturnType<typeof parseConfigText>;
const resolveSecret = createSecretResolver({
  env: {
    [SANDBOX_SECRET_ENV.githubToken]: 'ghp_test',
    [SANDBOX_SECRET_ENV.argocdToken]: 'argocd-test-token',
    [SANDBOX_SECRET_ENV.slackBotToken]: 'xoxb-test-token',
  },
});
let runtime: LocalRuntime | undefined;
const lines: string[] = [];

beforeAll(async () => {
  port = await refusingPort();
  config = parseConfigText(
    sandboxConfigText({
      githubApiUrl: `http://127.0.0.1:${port}/api/v3`,
      argocdUrl: `http://127.0.0.1:${port}`,
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
    }),
    'test config',
  );
  // As run-promotion.ts builds it for `shiplane run`.
  runtime = await createLocalRuntime({
    config,
    resolveSecret,
    reporter: callbackReporter((message) => lines.push(`! ${message}`)),
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('retry notices through the wiring', () => {
  it("shows each Argo CD retry as a '! …' line of a local run", async () => {
    const source = lazy.argocdHealth;
    if (source === undefined) throw new Error('the local runtime built no argocd-health handler');
    const deps = typeof source === 'function' ? await source() : source;
    lines.length = 0;

    await expect(deps.argocd.getApplication('backend-staging')).rejects.toThrow(/unreachable/);

    expect(lines).toEqual([
      expect.stringMatching(
        /^! Argo CD at .* unreachable for reading backend-staging \(attempt 1 of 3: .*\); retrying in 0\.3 s$/,
      ),
      expect.stringMatching(
        /^! Argo CD at .* unreachable for reading backend-staging \(attempt 2 of 3: .*\); retrying in 0\.6 s$/,
      ),
    ]);
  });

  it.each([
    ['notify', notifyDeps],
    ['request-approval', requestApprovalDeps],
  ] as const)("gives %s's Slack retries to its reporter's warn", async (_name, build) => {
    const warnings: string[] = [];
    const deps = build({
      config,
      resolveSecret,
      store: runtime!.store,
      taskTokens: { succeed: async () => undefined, fail: async () => undefined },
      reporter: callbackReporter((message) => warnings.push(message)),
    });

    await expect(deps.chat.groupMembers('S0PLATFORMGRP')).rejects.toThrow();

    expect(warnings).toEqual([
      expect.stringMatching(
        /^Slack at .* unreachable for usergroups\.users\.list \(attempt 1 of 3: .*\); retrying in 0\.2–0\.4 s$/,
      ),
      expect.stringMatching(
        /^Slack at .* unreachable for usergroups\.users\.list \(attempt 2 of 3: .*\); retrying in 0\.4–0\.8 s$/,
      ),
    ]);
  });
});
