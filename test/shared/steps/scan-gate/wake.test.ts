/**
 * The scan gate's wake-up steps: the waits in a local DynamoDB (dynalite, the deployed adapter) and
 * Step Functions' SendTaskSuccess mocked with aws-sdk-client-mock (its real error classes).
 */
import {
  InvalidToken,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoScanWaits } from '../../../../shared/adapters/aws/scan-waits-table.js';
import { stepFunctionsTaskTokens } from '../../../../shared/adapters/aws/task-tokens.js';
import { parseConfig } from '../../../../shared/config/load.js';
import { InvalidInputError } from '../../../../shared/errors.js';
import {
  gatedRepositories,
  recordScanWait,
  SCAN_WAIT_RETENTION_SECONDS,
  wakeScanWaiters,
} from '../../../../shared/steps/scan-gate/wake.js';
import { ecrImageScanEvent, inspector2ScanEvent } from '../../../fixtures/ecr/scan-events.js';
import { DIGEST, REPOSITORY } from '../../../fixtures/ecr/scan-findings.js';
import { manualClock, recordingReporter } from '../../../fixtures/slack/context.js';
import { useLocalScanWaitsTable } from '../../../support/local-dynamo.js';

const sfn = mockClient(SFNClient);
const table = useLocalScanWaitsTable();

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
      backend: { ecrRepository: REPOSITORY, image: 'itdo-erp/backend', scan: { maxSeverity: 'HIGH' } },
      frontend: { ecrRepository: 'itdo-erp/frontend', image: 'itdo-erp/frontend' },
    },
    stages: [
      { name: 'staging', file: 'environments/staging/kustomization.yaml', argocdApp: 'itdo-erp-staging' },
    ],
  },
  'test config',
);

function deps() {
  const reporter = recordingReporter();
  const clock = manualClock('2026-11-26T13:40:00Z');
  const waits = dynamoScanWaits(table.client, table.tableName);
  return {
    reporter,
    waits,
    deps: {
      config,
      waits,
      taskTokens: stepFunctionsTaskTokens(new SFNClient({ region: 'eu-west-1' })),
      reporter,
      now: clock.now,
    },
  };
}

const waitInput = (execution: string, token: string) => ({
  action: 'wait-for-scan' as const,
  taskToken: token,
  execution,
  app: 'backend',
  ecrRepository: REPOSITORY,
  digest: DIGEST,
});
const image = { repository: REPOSITORY, digest: DIGEST };
const error = (Kind: typeof TaskTimedOut | typeof TaskDoesNotExist | typeof InvalidToken) =>
  new Kind({ message: `${Kind.name} from Step Functions`, $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  sfn.reset();
});

describe('gatedRepositories', () => {
  it('lists the repositories of apps with a scan gate only', () => {
    expect(gatedRepositories(config)).toEqual([REPOSITORY]);
  });
});

describe('recordScanWait', () => {
  it("keeps the run's token under its image for an hour at most", async () => {
    const { deps: d, waits } = deps();
    const recorded = await recordScanWait(waitInput('backend-v1-4-2-4f2c9d1e8a7b', 'token-1'), d);
    expect(recorded).toEqual({
      waiting: true,
      expiresAt: new Date(
        Date.parse('2026-11-26T13:40:00Z') + SCAN_WAIT_RETENTION_SECONDS * 1000,
      ).toISOString(),
    });
    expect(await waits.waiting(image)).toEqual([
      { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-1' },
    ]);
  });

  it('refuses a wait for an app without a gate, or for a repository that is not the app’s, recording nothing', async () => {
    const { deps: d, waits } = deps();
    await expect(recordScanWait({ ...waitInput('frontend-v3', 't'), app: 'frontend' }, d)).rejects.toThrow(
      new InvalidInputError('app frontend has no scan gate in the config; nothing waits for its scan'),
    );
    await expect(
      recordScanWait({ ...waitInput('backend-v1', 't'), ecrRepository: 'itdo-erp/frontend' }, d),
    ).rejects.toThrow("the wait names repository itdo-erp/frontend, but app backend's is itdo-erp/backend");
    expect(await waits.waiting(image)).toEqual([]);
    expect(await waits.waiting({ repository: 'itdo-erp/frontend', digest: DIGEST })).toEqual([]);
  });
});

describe('wakeScanWaiters', () => {
  it('answers every run waiting for the image with the wake-up, and forgets their tokens', async () => {
    const { deps: d, waits, reporter } = deps();
    await recordScanWait(waitInput('backend-v1-4-2-4f2c9d1e8a7b', 'token-a'), d);
    await recordScanWait(waitInput('backend-v1-4-2-rc1-4f2c9d1e8a7b', 'token-b'), d);
    sfn.on(SendTaskSuccessCommand).resolves({});

    const result = await wakeScanWaiters(inspector2ScanEvent(), d);

    expect(result.outcome).toBe('woken');
    expect([...result.woken].sort()).toEqual([
      'backend-v1-4-2-4f2c9d1e8a7b',
      'backend-v1-4-2-rc1-4f2c9d1e8a7b',
    ]);
    const sent = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);
    expect(sent.map((input) => input.taskToken).sort()).toEqual(['token-a', 'token-b']);
    expect(JSON.parse(sent[0]?.output ?? '')).toEqual({
      wokenBy: 'Inspector2 Scan',
      scanStatus: 'INITIAL_SCAN_COMPLETE',
      eventId: 'fdaa751a-984c-a709-44f9-9a9da9cd3606',
    });
    expect(await waits.waiting(image)).toEqual([]);
    expect(reporter.counts).toEqual(['ScanWaitWoken']);
  });

  it.each([
    ['TaskTimedOut', TaskTimedOut],
    ['TaskDoesNotExist', TaskDoesNotExist],
    ['InvalidToken', InvalidToken],
  ] as const)('takes %s for a run that moved on: its record goes, and nothing fails', async (_name, Kind) => {
    const { deps: d, waits, reporter } = deps();
    await recordScanWait(waitInput('backend-v1-4-2-4f2c9d1e8a7b', 'token-a'), d);
    sfn.on(SendTaskSuccessCommand).rejects(error(Kind));

    const result = await wakeScanWaiters(ecrImageScanEvent(), d);

    expect(result).toEqual({
      outcome: 'woken',
      woken: [],
      gone: ['backend-v1-4-2-4f2c9d1e8a7b'],
      failed: [],
    });
    expect(await waits.waiting(image)).toEqual([]);
    expect(reporter.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('keeps the record of a run it could not answer for another reason, logs and counts it, and wakes the others', async () => {
    const { deps: d, waits, reporter } = deps();
    await recordScanWait(waitInput('backend-v1-4-2-4f2c9d1e8a7b', 'token-a'), d);
    await recordScanWait(waitInput('backend-v1-4-2-rc1-4f2c9d1e8a7b', 'token-b'), d);
    sfn
      .on(SendTaskSuccessCommand, { taskToken: 'token-a' })
      .rejects(
        new SFNServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(SendTaskSuccessCommand, { taskToken: 'token-b' })
      .resolves({});

    const result = await wakeScanWaiters(ecrImageScanEvent(), d);

    expect(result).toMatchObject({
      woken: ['backend-v1-4-2-rc1-4f2c9d1e8a7b'],
      gone: [],
      failed: ['backend-v1-4-2-4f2c9d1e8a7b'],
    });
    expect(await waits.waiting(image)).toEqual([
      { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-a' },
    ]);
    expect(reporter.lines.find((line) => line.level === 'error')).toMatchObject({
      message: 'scan event: could not wake backend-v1-4-2-4f2c9d1e8a7b; its next poll will',
      attributes: { error: 'ThrottlingException' },
    });
    expect(reporter.counts.sort()).toEqual(['ScanWaitWoken', 'ScanWakeUpFailed']);
  });

  it('sends nothing for an event of another repository, a malformed one or a foreign one, and says why', async () => {
    const { deps: d, waits, reporter } = deps();
    await recordScanWait(waitInput('backend-v1-4-2-4f2c9d1e8a7b', 'token-a'), d);

    for (const event of [
      ecrImageScanEvent({ repository: 'itdo-erp/frontend' }),
      ecrImageScanEvent({ digest: 'latest' }),
      { source: 'aws.ecr', 'detail-type': 'ECR Image Action', detail: {} },
    ]) {
      const result = await wakeScanWaiters(event, d);
      expect(result.outcome).toBe('ignored');
    }

    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(await waits.waiting(image)).toHaveLength(1);
    expect(reporter.lines.map((line) => `${line.level}: ${line.message}`)).toEqual([
      'warn: scan event ignored: ECR Image Scan for itdo-erp/frontend, which no app with a scan gate uses',
      'warn: scan event ignored: malformed ECR Image Scan event: detail.image-digest: expected an image digest sha256:<64 hex>',
      'warn: scan event ignored: not an ECR Image Scan or Inspector2 Scan event (aws.ecr / ECR Image Action)',
    ]);
    expect(reporter.counts).toEqual(['ScanEventIgnored', 'ScanEventIgnored', 'ScanEventIgnored']);
  });

  it('wakes nobody, and sends nothing, when no run waits for the image', async () => {
    const { deps: d } = deps();
    expect(await wakeScanWaiters(ecrImageScanEvent(), d)).toEqual({
      outcome: 'woken',
      woken: [],
      gone: [],
      failed: [],
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});
