/**
 * The scan gate of the synthesized state machine, run by the local engine with the real scan-gate
 * handler and ECR adapter (the ECR API mocked with aws-sdk-client-mock, real-shaped answers), and the
 * real scan-events handler keeping waits in a local DynamoDB (dynalite) and answering the engine's
 * task tokens. The committer, Argo CD check and notify are scripted: the subject is what happens
 * before a commit.
 */
import {
  DescribeImageScanFindingsCommand,
  type DescribeImageScanFindingsResponse,
  ECRClient,
  ScanNotFoundException,
} from '@aws-sdk/client-ecr';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createScanEventsHandler } from '../../functions/scan-events/handler.js';
import { createScanGateHandler } from '../../functions/scan-gate/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import { type CfnTemplate, createLocalEngine, type LocalEngine } from '../../local/engine/index.js';
import { dynamoScanWaits } from '../../shared/adapters/aws/scan-waits-table.js';
import { parseConfig } from '../../shared/config/load.js';
import { HISTORY_EVENTS_PER_SCAN_POLL } from '../../shared/config/schema.js';
import {
  type CommitRequest,
  commitRequestSchema,
  type HealthCheckInput,
  type HealthCheckResult,
  type Notification,
  type RunInput,
  scanGateResultSchema,
} from '../../shared/contracts/tasks.js';
import type { ScanWakeResult } from '../../shared/steps/scan-gate/wake.js';
import { scanEventsDeps } from '../../shared/wiring/scan-events.js';
import { scanGateDeps } from '../../shared/wiring/scan-gate.js';
import { ecrImageScanEvent, inspector2ScanEvent } from '../fixtures/ecr/scan-events.js';
import { basicComplete, DIGEST, enhancedActive, REPOSITORY } from '../fixtures/ecr/scan-findings.js';
import { recordingReporter } from '../fixtures/slack/context.js';
import { useLocalScanWaitsTable } from '../support/local-dynamo.js';

const ecr = mockClient(ECRClient);
const scanWaitsTable = useLocalScanWaitsTable();
/** `Wait for the scan` times out after this long unless a test says otherwise (30 s in AWS). */
const POLL_MS = 50;

// scan.timeout 2m: at most 4 polls (Wait states take 0 s locally).
const config = parseConfig(
  {
    gitops: { repository: 'itdo-erp/itdo-erp-infrastructure', github: { token: 'env:GITHUB_TOKEN' } },
    argocd: { url: 'https://argocd.itdo-erp.com', token: 'env:ARGOCD_TOKEN' },
    slack: {
      channel: 'C0DEPLOYS1',
      botToken: 'env:SLACK_BOT_TOKEN',
      signingSecret: 'env:SLACK_SIGNING_SECRET',
    },
    apps: {
      backend: {
        ecrRepository: 'itdo-erp/backend',
        image: 'itdo-erp/backend',
        scan: { maxSeverity: 'HIGH', timeout: '2m' },
      },
      frontend: { ecrRepository: 'itdo-erp/frontend', image: 'itdo-erp/frontend' },
    },
    stages: [
      {
        name: 'staging',
        file: 'environments/staging/kustomization.yaml',
        argocdApp: 'itdo-erp-staging',
        rollback: 'off',
      },
    ],
  },
  'test config',
);

function runInput(app: 'backend' | 'frontend', tag: string): RunInput {
  return {
    release: {
      app,
      ecrRepository: `itdo-erp/${app}`,
      image: `itdo-erp/${app}`,
      tag,
      digest: DIGEST,
      registryId: '123456789012',
      region: 'eu-west-1',
      pushedAt: '2026-11-26T13:40:00Z',
    },
  };
}

let template: CfnTemplate;
beforeAll(() => {
  template = synthesizeTemplate(config) as CfnTemplate;
});
beforeEach(() => {
  ecr.reset();
});

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

function setUp(options: { pollMs?: number } = {}) {
  const notifications: Notification[] = [];
  const commits: CommitRequest[] = [];
  const waits = dynamoScanWaits(scanWaitsTable.client, scanWaitsTable.tableName);
  const scanEvents = createScanEventsHandler(
    scanEventsDeps({
      config,
      waits,
      taskTokens: {
        succeed: (token, output) => running.taskTokens.succeed(token, output),
        fail: (token, error, cause) => running.taskTokens.fail(token, error, cause),
      },
      reporter: recordingReporter(),
    }),
  );
  const running: LocalEngine = createLocalEngine({
    template,
    timing: {
      waitSeconds: 0,
      retryIntervalMs: 0,
      taskTimeoutsMs: { 'Wait for the scan': options.pollMs ?? POLL_MS },
    },
    handlers: {
      'scan-events': scanEvents,
      'scan-gate': createScanGateHandler(
        scanGateDeps({ config, ecr: new ECRClient({}), reporter: recordingReporter() }),
      ),
      notify: async (event: Notification) => {
        notifications.push(event);
        return { slack: 'skipped', alert: 'skipped' };
      },
      committer: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        for (const record of event.Records) {
          const request = commitRequestSchema.parse(JSON.parse(record.body));
          commits.push(request);
          await running.sendTaskSuccess(request.taskToken!, {
            commit: 'a'.repeat(40),
            status: 'committed',
            previousTag: 'v1.4.1',
          });
        }
        return { batchItemFailures: [] };
      },
      'argocd-health': async (input: HealthCheckInput): Promise<HealthCheckResult> => ({
        status: 'healthy',
        message: 'Synced and Healthy',
        revision: input.commit,
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
        checkedAt: '2026-11-26T13:50:00.000Z',
        attempt: input.attempt,
      }),
    },
  });
  engine = running;
  /** Delivers an EventBridge event to scan-events, as the rules do. */
  const deliver = async (event: unknown) => (await scanEvents(event, {} as never)) as ScanWakeResult;
  return { engine: running, notifications, commits, waits, deliver };
}

/** Resolves once `execution`'s wait for the image's scan is recorded. */
async function recordedWait(waits: ReturnType<typeof setUp>['waits'], execution: string) {
  for (let i = 0; i < 400; i += 1) {
    const waiting = await waits.waiting({ repository: REPOSITORY, digest: DIGEST });
    if (waiting.some((waiter) => waiter.execution === execution)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${execution} never recorded its wait for the scan`);
}

const outputOf = (output: string | undefined) =>
  JSON.parse(output ?? '{}') as { outcome?: string; scan?: { result?: unknown } };
/** The basic scan with its LOW finding only: below the HIGH gate. */
function lowOnly(): DescribeImageScanFindingsResponse {
  const answer = basicComplete();
  const scan = answer.imageScanFindings!;
  scan.findings = scan.findings?.filter((finding) => finding.severity === 'LOW');
  scan.findingSeverityCounts = { LOW: 1 };
  return answer;
}
const pending: DescribeImageScanFindingsResponse = {
  imageScanStatus: { status: 'IN_PROGRESS', description: 'The scan is in progress.' },
};

describe('the scan gate in the local engine', () => {
  it('ends Blocked (SUCCEEDED) with nothing committed when the image has a CRITICAL finding', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());
    const { engine, notifications, commits } = setUp();

    const done = await engine.start(runInput('backend', 'v2.1.7-vuln'), 'backend-v2-1-7-vuln-4f2c9d1e8a7b')
      .done;

    expect(done.status).toBe('SUCCEEDED');
    const output = outputOf(done.output);
    expect(output.outcome).toBe('blocked');
    expect(commits).toEqual([]);
    expect(notifications.map((n) => n.event)).toEqual(['started', 'blocked']);
    const result = scanGateResultSchema.parse(notifications[1]?.detail);
    expect(result).toMatchObject({
      verdict: 'blocked',
      reason: '1 critical finding at or above high',
      total: 1,
      findings: [
        { id: 'CVE-2024-3094', severity: 'CRITICAL', package: 'xz-utils', fixedIn: '5.6.1+really5.4.5-1' },
      ],
    });
  });

  it('waits while the scan runs, then goes on to staging when it passes', async () => {
    ecr
      .on(DescribeImageScanFindingsCommand)
      .rejectsOnce(
        new ScanNotFoundException({
          $metadata: { httpStatusCode: 400 },
          message: 'Image scan does not exist',
        }),
      )
      .resolvesOnce(pending)
      .resolves(lowOnly());
    const { engine, notifications, commits } = setUp();

    const done = await engine.start(runInput('backend', 'v1.4.2'), 'backend-v1-4-2-4f2c9d1e8a7b').done;

    expect(done.status).toBe('SUCCEEDED');
    expect(outputOf(done.output).outcome).toBe('deployed');
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(3);
    expect(commits).toHaveLength(1);
    expect(notifications.map((n) => n.event)).toEqual(['started', 'committed', 'healthy', 'deployed']);
  });

  it.each([
    ['ECR Image Scan', ecrImageScanEvent],
    ['Inspector2 Scan', inspector2ScanEvent],
  ])('wakes the waiting run at once on an %s event, long before its poll would', async (_kind, event) => {
    ecr.on(DescribeImageScanFindingsCommand).resolvesOnce(pending).resolves(lowOnly());
    // The poll would fire only after 10 minutes: the test passing in seconds shows the event woke it.
    const { engine, commits, waits, deliver } = setUp({ pollMs: 600_000 });
    const name = 'backend-v1-4-5-4f2c9d1e8a7b';
    const started = Date.now();

    const run = engine.start(runInput('backend', 'v1.4.5'), name);
    await recordedWait(waits, name);
    expect(engine.waitingTasks(name).map((task) => task.state)).toEqual(['Wait for the scan']);
    const woken = await deliver(event());
    const done = await run.done;

    expect(woken).toEqual({ outcome: 'woken', woken: [name], gone: [], failed: [] });
    expect(done.status).toBe('SUCCEEDED');
    expect(outputOf(done.output).outcome).toBe('deployed');
    expect(Date.now() - started).toBeLessThan(60_000);
    // The verdict came from the API after the wake-up, not from the event's counts.
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(2);
    expect(commits).toHaveLength(1);
    expect(await waits.waiting({ repository: REPOSITORY, digest: DIGEST })).toEqual([]);
    const history = engine.history(name);
    expect(history.some((e) => e.type === 'TaskTimedOut')).toBe(false);
  });

  it('finishes by polling when no scan event ever comes', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolvesOnce(pending).resolvesOnce(pending).resolves(lowOnly());
    const { engine, commits } = setUp();
    const name = 'backend-v1-4-6-4f2c9d1e8a7b';

    const done = await engine.start(runInput('backend', 'v1.4.6'), name).done;

    expect(done.status).toBe('SUCCEEDED');
    expect(outputOf(done.output).outcome).toBe('deployed');
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(3);
    expect(commits).toHaveLength(1);
    // Each wait timed out after one poll interval and the run asked again.
    const history = engine.history(name);
    expect(history.filter((e) => e.type === 'TaskTimedOut')).toHaveLength(2);
    // One poll (check, choice, wait on the token, counter) writes what the config's history budget counts.
    const checks = history.flatMap((e, index) =>
      e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'Scan gate' ? [index] : [],
    );
    expect(checks).toHaveLength(3);
    expect(checks[1]! - checks[0]!).toBe(15);
    expect(checks[1]! - checks[0]!).toBeLessThanOrEqual(HISTORY_EVENTS_PER_SCAN_POLL);
  });

  it('ends Blocked with the timeout as the reason when no scan finishes in time', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(pending);
    const { engine, notifications, commits } = setUp();

    const done = await engine.start(runInput('backend', 'v1.4.3'), 'backend-v1-4-3-4f2c9d1e8a7b').done;

    expect(done.status).toBe('SUCCEEDED');
    expect(outputOf(done.output).outcome).toBe('blocked');
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(4);
    expect(commits).toEqual([]);
    expect(notifications.at(-1)?.detail).toMatchObject({
      verdict: 'blocked',
      reason: 'no finished scan within 2m (scan IN_PROGRESS: The scan is in progress.)',
      attempt: 4,
    });
  });

  it('lets an app without a gate straight through, without reading ECR', async () => {
    const { engine, commits } = setUp();

    const done = await engine.start(runInput('frontend', 'v3.0.0'), 'frontend-v3-0-0-4f2c9d1e8a7b').done;

    expect(outputOf(done.output).outcome).toBe('deployed');
    expect(commits).toHaveLength(1);
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('fails the run (alerted) when ECR cannot be read, committing nothing', async () => {
    ecr.on(DescribeImageScanFindingsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: ecr:DescribeImageScanFindings'), {
        name: 'AccessDeniedException',
      }),
    );
    const { engine, notifications, commits } = setUp();

    const done = await engine.start(runInput('backend', 'v1.4.4'), 'backend-v1-4-4-4f2c9d1e8a7b').done;

    expect(done.status).toBe('FAILED');
    expect(commits).toEqual([]);
    expect(notifications.map((n) => n.event)).toEqual(['started', 'failed']);
  });
});
