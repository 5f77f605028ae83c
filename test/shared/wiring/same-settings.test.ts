/**
 * One wiring: the deployed handlers and the local runtime (sandbox, `shiplane run`) build their
 * clients through shared/wiring, so they get the same timeouts and retries. Every Slack, GitHub and
 * DynamoDB client built is recorded with the wiring module that built it (read from the call stack)
 * and the platform it was built for; the local runtime building one itself, or with settings of its
 * own, fails here — as the sandbox's 1.5 s Slack timeout against the deployed 1.2 s once did.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommitterDeps } from '../../../functions/committer/handler.js';
import { createLocalRuntime, type LocalRuntime } from '../../../local/sandbox/runtime.js';
import { sandboxConfigText } from '../../../local/sandbox/sandbox-config.js';
import { createSecretResolver } from '../../../shared/adapters/aws/secrets.js';
import { parseConfigText } from '../../../shared/config/load.js';
import { serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { ENV } from '../../../shared/contracts/environment.js';
import type { ArgoCdHealthDeps } from '../../../shared/steps/argocd-health/check-health.js';
import { deployedArgoCdHealth } from '../../../shared/wiring/argocd-health.js';
import { COMMITTER_GITHUB, deployedCommitter } from '../../../shared/wiring/committer.js';
import type { DepsSource } from '../../../shared/wiring/deps.js';
import { deployedNotify } from '../../../shared/wiring/notify.js';
import { deployedRequestApproval } from '../../../shared/wiring/request-approval.js';
import { deployedScanEvents, SCAN_EVENTS_AWS_CLIENT } from '../../../shared/wiring/scan-events.js';
import {
  deployedSlackInteraction,
  INTERACTION_AWS_CLIENT,
  INTERACTION_SLACK,
} from '../../../shared/wiring/slack-interaction.js';
import { THREAD_SLACK } from '../../../shared/wiring/slack-thread.js';

interface Built {
  readonly client: 'slack' | 'github' | 'dynamodb' | 'ecr';
  /**
   * The wiring module that built it (`notify`, `committer`, …), `local DynamoDB` for the local
   * table's own client (it creates the table; no handler uses it), or `outside the wiring`.
   */
  readonly wiring: string;
  readonly platform: 'lambda' | 'local';
  readonly settings: Record<string, unknown>;
}

const { built, record, building } = vi.hoisted(() => {
  const built: Built[] = [];
  /** Which platform the test is building for right now. */
  const building: { platform: Built['platform'] } = { platform: 'lambda' };
  const record = (client: Built['client'], settings: Record<string, unknown>) => {
    const stack = new Error().stack ?? '';
    built.push({
      client,
      wiring:
        /shared\/wiring\/([\w-]+)\.ts/.exec(stack)?.[1] ??
        (stack.includes('local/dynamodb/local-dynamo.ts') ? 'local DynamoDB' : 'outside the wiring'),
      platform: building.platform,
      settings,
    });
  };
  return { built, record, building };
});

vi.mock('../../../shared/adapters/slack/chat.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../shared/adapters/slack/chat.js')>();
  return {
    ...real,
    slackFromConfig: (...args: Parameters<typeof real.slackFromConfig>) => {
      // The retry notice's sink is where things go, not a setting.
      const { onRetry: _onRetry, ...settings } = args[2] ?? {};
      record('slack', settings);
      return real.slackFromConfig(...args);
    },
  };
});

vi.mock('../../../shared/adapters/github/client.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../shared/adapters/github/client.js')>();
  // Secrets and log sinks are where things live; everything else is a setting.
  const settings = ({ resolveSecret: _s, log: _l, ...rest }: Parameters<typeof real.connectGitHub>[1]) =>
    rest;
  return {
    ...real,
    connectGitHub: (...args: Parameters<typeof real.connectGitHub>) => {
      record('github', settings(args[1]));
      return real.connectGitHub(...args);
    },
    createGitHubOctokit: (...args: Parameters<typeof real.createGitHubOctokit>) => {
      record('github', settings(args[1]));
      return real.createGitHubOctokit(...args);
    },
  };
});

vi.mock('@aws-sdk/client-dynamodb', async (importOriginal) => {
  const real = await importOriginal<typeof import('@aws-sdk/client-dynamodb')>();
  class RecordedDynamoDBClient extends real.DynamoDBClient {
    constructor(...[config = {}]: ConstructorParameters<typeof real.DynamoDBClient>) {
      // Where the table is (endpoint, region, credentials) differs by platform; the rest is settings.
      const { endpoint: _endpoint, region: _region, credentials: _credentials, ...settings } = config;
      record('dynamodb', settings);
      super(config);
    }
  }
  return { ...real, DynamoDBClient: RecordedDynamoDBClient };
});

vi.mock('@aws-sdk/client-ecr', async (importOriginal) => {
  const real = await importOriginal<typeof import('@aws-sdk/client-ecr')>();
  class RecordedECRClient extends real.ECRClient {
    constructor(...[config = {}]: ConstructorParameters<typeof real.ECRClient>) {
      // Where the registry is (the function's own, or the sandbox's stand-in) differs; the rest is settings.
      const { endpoint: _endpoint, region: _region, credentials: _credentials, ...settings } = config;
      record('ecr', settings);
      super(config);
    }
  }
  return { ...real, ECRClient: RecordedECRClient };
});

// The local runtime's lazily built dependencies, taken from the factories it hands them to.
const { lazy } = vi.hoisted(() => ({
  lazy: {} as { argocdHealth?: DepsSource<ArgoCdHealthDeps>; committer?: DepsSource<CommitterDeps> },
}));

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

vi.mock('../../../functions/committer/handler.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../functions/committer/handler.js')>();
  return {
    ...real,
    createCommitterHandler: (deps: DepsSource<CommitterDeps>) => {
      lazy.committer = deps;
      return real.createCommitterHandler(deps);
    },
  };
});

// Closed ports on this machine: nothing here sends a request that could succeed, and none leaves it.
const config = parseConfigText(
  sandboxConfigText({
    githubApiUrl: 'http://127.0.0.1:9/api/v3',
    argocdUrl: 'http://127.0.0.1:9',
    slackApiUrl: 'http://127.0.0.1:9/api/',
  }),
  'test config',
);
const env: NodeJS.ProcessEnv = {
  [ENV.config]: serializeConfigInput(toConfigInput(config)),
  [ENV.approvalsTable]: 'shiplane-approvals',
  [ENV.scanWaitsTable]: 'shiplane-scan-waits',
  [ENV.stateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion',
  [ENV.alertTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:shiplane-alerts',
};

const resolve = async <T>(source: DepsSource<T> | undefined): Promise<T> => {
  if (source === undefined) throw new Error('the local runtime built no such handler');
  return typeof source === 'function' ? (source as () => T | Promise<T>)() : source;
};

let runtime: LocalRuntime | undefined;

beforeAll(async () => {
  // Lambda: what each deployed handler builds on its first invocation.
  await deployedNotify(env)();
  await deployedRequestApproval(env)();
  await deployedSlackInteraction(env)();
  await deployedArgoCdHealth(env)();
  deployedScanEvents(env)();
  const committer = await deployedCommitter(env)();
  if (typeof committer.github === 'function') await committer.github();

  building.platform = 'local';
  // Local, as `shiplane run` builds it: everything at start, but argocd-health and the committer's
  // GitHub client on first use, like a cold Lambda.
  runtime = await createLocalRuntime({
    config,
    resolveSecret: createSecretResolver({ env: {} }),
    ecr: {
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    },
  });
  await resolve(lazy.argocdHealth);
  const local = await resolve(lazy.committer);
  if (typeof local.github === 'function') await local.github();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

const settingsOf = (platform: Built['platform']) =>
  built
    .filter((entry) => entry.platform === platform && entry.wiring !== 'local DynamoDB')
    .map(({ client, wiring, settings }) => ({ client, wiring, settings }))
    .sort((a, b) => `${a.wiring}:${a.client}`.localeCompare(`${b.wiring}:${b.client}`));

describe('the wiring Lambda and local runs share', () => {
  it('builds every Slack, GitHub and DynamoDB client of a local run in shared/wiring', () => {
    expect(settingsOf('local').length).toBeGreaterThan(0);
    expect(built.filter((entry) => entry.wiring === 'outside the wiring')).toEqual([]);
  });

  it('gives the local runtime the clients the deployed handlers get, with the same settings', () => {
    expect(settingsOf('local')).toEqual(settingsOf('lambda'));
  });

  it('sets each handler’s Slack, GitHub, DynamoDB and ECR settings in one place', () => {
    expect(settingsOf('lambda')).toEqual([
      // homeRepository: the owner a configured GitHub App installation id belongs to.
      {
        client: 'github',
        wiring: 'argocd-health',
        settings: { retries: 0, rateLimitRetries: 0, homeRepository: 'itdo-erp/itdo-erp-infrastructure' },
      },
      {
        client: 'github',
        wiring: 'committer',
        settings: { ...COMMITTER_GITHUB, homeRepository: 'itdo-erp/itdo-erp-infrastructure' },
      },
      // One ECR client: request-approval's in Lambda, the one a local run gives its handlers.
      { client: 'ecr', wiring: 'ecr', settings: {} },
      { client: 'dynamodb', wiring: 'notify', settings: {} },
      { client: 'slack', wiring: 'notify', settings: { ...THREAD_SLACK } },
      { client: 'dynamodb', wiring: 'request-approval', settings: {} },
      { client: 'slack', wiring: 'request-approval', settings: { ...THREAD_SLACK } },
      { client: 'dynamodb', wiring: 'scan-events', settings: { ...SCAN_EVENTS_AWS_CLIENT } },
      { client: 'dynamodb', wiring: 'slack-interaction', settings: { ...INTERACTION_AWS_CLIENT } },
      { client: 'slack', wiring: 'slack-interaction', settings: { ...INTERACTION_SLACK } },
    ]);
    // Slack waits 3 s for the interaction endpoint's answer.
    expect(INTERACTION_SLACK).toEqual({ retries: 0, timeoutMs: 1_200 });
  });
});
