/**
 * The Argo CD wait loop of the synthesized state machine, run by the local engine with the real
 * argocd-health handler against the Argo CD stand-in. The committer and notify tasks are scripted:
 * the committer pushes the release's tag onto an in-memory GitOps branch and answers the task token.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createArgoCdHealthHandler } from '../../functions/argocd-health/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import { type CfnTemplate, createLocalEngine, type LocalEngine } from '../../local/engine/index.js';
import { type ArgoCdServer, startArgoCdServer } from '../../local/stand-ins/argocd/server.js';
import { createArgoCdClient } from '../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { parseConfig } from '../../shared/config/load.js';
import {
  type CommitRequest,
  commitRequestSchema,
  type HealthCheckResult,
  type Notification,
  type RunInput,
} from '../../shared/contracts/tasks.js';
import { GitOpsBranch, sha } from '../fixtures/argocd/gitops-branch.js';

const TOKEN = 'argocd-test-token';

// healthTimeout 2m / pollInterval 10s: at most 12 polls (Wait states take 0 s locally).
const config = parseConfig(
  {
    gitops: { repository: 'itdo-erp/itdo-erp-infrastructure', github: { token: 'env:GITHUB_TOKEN' } },
    argocd: { url: 'https://argocd.itdo-erp.com', token: 'env:ARGOCD_TOKEN' },
    slack: {
      channel: 'C0DEPLOYS1',
      botToken: 'env:SLACK_BOT_TOKEN',
      signingSecret: 'env:SLACK_SIGNING_SECRET',
    },
    apps: { backend: { ecrRepository: 'itdo-erp/backend', image: 'itdo-erp/backend' } },
    stages: [
      {
        name: 'staging',
        file: 'environments/staging/kustomization.yaml',
        argocdApp: 'itdo-erp-staging',
        argocdProject: 'itdo-erp',
        healthTimeout: '2m',
        pollInterval: '10s',
        // The scripted branch pins tags only; this file is about the wait, not the digest.
        pinDigest: false,
        // Rolling back is test/state-machine/rollback.test.ts's subject; here Degraded ends the run.
        rollback: 'off',
      },
    ],
  },
  'test config',
);

function runInput(tag: string): RunInput {
  return {
    release: {
      app: 'backend',
      ecrRepository: 'itdo-erp/backend',
      image: 'itdo-erp/backend',
      tag,
      digest: `sha256:${'ab'.repeat(32)}`,
      registryId: '123456789012',
      region: 'eu-west-1',
      pushedAt: '2025-06-03T10:00:00Z',
    },
  };
}

let template: CfnTemplate;
beforeAll(() => {
  template = synthesizeTemplate(config) as CfnTemplate;
});

let engine: LocalEngine | undefined;
let standIn: ArgoCdServer | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await standIn?.close();
  standIn = undefined;
});

/** Starts the stand-in and an engine wired to the real argocd-health handler. */
async function setUp(options: { rolloutTicks?: number } = {}) {
  const branch = new GitOpsBranch(sha('1'), 'v1.4.1');
  standIn = await startArgoCdServer({
    token: TOKEN,
    apps: [{ name: 'itdo-erp-staging', project: 'itdo-erp', path: 'environments/staging', automated: true }],
    resolveHead: branch.resolveHead,
    readTag: branch.readTag,
    ...(options.rolloutTicks === undefined ? {} : { rolloutTicks: options.rolloutTicks }),
  });
  const argocdHealth = createArgoCdHealthHandler({
    argocd: createArgoCdClient({
      url: standIn.url,
      token: { source: 'env', name: 'ARGOCD_TOKEN' },
      resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: TOKEN } }),
      backoffMs: 0,
    }),
    ancestry: branch.ancestry,
    files: branch.files,
  });
  const notifications: Notification[] = [];
  const commits: CommitRequest[] = [];
  let running: LocalEngine | undefined;
  running = createLocalEngine({
    template,
    timing: { waitSeconds: 0, retryIntervalMs: 0 },
    handlers: {
      'argocd-health': argocdHealth,
      notify: async (event: Notification) => {
        notifications.push(event);
        return { slack: 'skipped', alert: 'skipped' };
      },
      committer: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        for (const record of event.Records) {
          const request = commitRequestSchema.parse(JSON.parse(record.body));
          commits.push(request);
          if (request.change.kind !== 'image') throw new Error('expected an image change');
          const previousTag = (await branch.readTag(branch.head)) ?? null;
          const commit = branch.push(sha(String(commits.length + 1)), request.change.release.tag);
          await running!.sendTaskSuccess(request.taskToken!, { commit, status: 'committed', previousTag });
        }
        return { batchItemFailures: [] };
      },
    },
  });
  engine = running;
  return { branch, engine: running, notifications, commits };
}

function healthOf(output: string | undefined): HealthCheckResult {
  return (JSON.parse(output ?? '{}') as { stages: { staging: { health: HealthCheckResult } } }).stages.staging
    .health;
}

describe('the Argo CD wait in the local engine', () => {
  it('ends Deployed once Argo CD is Synced and Healthy at the committed revision', async () => {
    const { engine, notifications, commits } = await setUp();

    const run = engine.start(runInput('v1.4.2'), 'backend-v1-4-2-abababababab');
    const done = await run.done;

    expect(done.status).toBe('SUCCEEDED');
    expect(commits).toHaveLength(1);
    const output = JSON.parse(done.output ?? '{}') as { outcome: string };
    expect(output.outcome).toBe('deployed');
    const health = healthOf(done.output);
    expect(health).toMatchObject({
      status: 'healthy',
      revision: sha('2'),
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      message: 'Synced and Healthy at 2222222',
    });
    expect(health.attempt).toBeGreaterThan(1);
    expect(notifications.map((n) => n.event)).toEqual(['started', 'committed', 'healthy', 'deployed']);
    const polls = standIn!.requests.filter((r) => r.method === 'GET');
    expect(polls).toHaveLength(health.attempt);
    expect(polls.every((r) => r.query.refresh === 'normal' && r.query.project === 'itdo-erp')).toBe(true);
  });

  it('fails with Shiplane.Degraded when the release rolls out Degraded', async () => {
    const { engine, notifications } = await setUp();

    const done = await engine.start(runInput('v1.4.2-bad'), 'backend-v1-4-2-bad-abababababab').done;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Shiplane.Degraded');
    expect(done.cause).toBe(
      `staging is Degraded at ${sha('2')}: Deployment backend Degraded: Deployment "backend" exceeded its progress deadline`,
    );
    expect(notifications.map((n) => n.event)).toEqual(['started', 'committed', 'degraded']);
  });

  it('fails with Shiplane.HealthTimeout carrying the last status seen when the rollout never finishes', async () => {
    const { engine, notifications } = await setUp({ rolloutTicks: 1_000 });

    const done = await engine.start(runInput('v1.4.2'), 'backend-v1-4-2-slow-abababababab').done;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Shiplane.HealthTimeout');
    expect(done.cause).toBe(
      'staging still Progressing after 2m: Deployment backend Progressing: Waiting for rollout to finish: 2 of 3 updated replicas are available...',
    );
    expect(notifications.map((n) => n.event)).toEqual(['started', 'committed', 'timed-out']);
    expect(standIn!.requests.filter((r) => r.method === 'GET')).toHaveLength(12);
  });

  it('fails with Shiplane.HealthTimeout naming an error condition that never clears', async () => {
    const { engine } = await setUp();
    standIn!.setCondition('itdo-erp-staging', {
      type: 'SyncError',
      message: 'Failed sync attempt to 2222222: one or more synchronization tasks are not valid',
    });

    const done = await engine.start(runInput('v1.4.2'), 'backend-v1-4-2-cond-abababababab').done;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Shiplane.HealthTimeout');
    expect(done.cause).toBe(
      'staging still Healthy after 2m: Synced and Healthy at 2222222 with an error condition (SyncError: Failed sync attempt to 2222222: one or more synchronization tasks are not valid)',
    );
  });
});
