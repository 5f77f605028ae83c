import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  ECRClient,
  type ImageDetail,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createIntakeHandler } from '../../../functions/intake/handler.js';
import { createSweepHandler } from '../../../functions/sweep/handler.js';
import { ecrRecentImages } from '../../../shared/adapters/aws/ecr-recent-images.js';
import { stepFunctionsStartExecution } from '../../../shared/adapters/aws/step-functions.js';
import { parseConfigText } from '../../../shared/config/load.js';
import type { Config } from '../../../shared/config/schema.js';
import { sweepRecentPushes, sweepWindow } from '../../../shared/steps/sweep/sweep.js';
import { sweepDeps } from '../../../shared/wiring/sweep.js';
import { lambdaContext, recordingReporter } from '../../fixtures/slack/context.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:shiplane-promotion';
const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));
const push = JSON.parse(readFileSync('test/fixtures/ecr-image-push.json', 'utf8'));
/** The fixture's push: 2025-11-16T01:54:34Z. The sweep runs a few minutes later. */
const NOW = new Date('2025-11-16T02:00:00Z');
const DIGEST = push.detail['image-digest'] as string;
const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

const ecr = mockClient(ECRClient);
const sfn = mockClient(SFNClient);
/** Executions Step Functions holds, by name: a second start of a name is ExecutionAlreadyExists. */
let executions: Map<string, string>;
/** Each DescribeImages request as it was sent (the paginator reuses its input object). */
let listed: DescribeImagesCommandInput[];

const image = (tags: string[], pushedAt: string, digest = DIGEST): ImageDetail => ({
  registryId: '123456789012',
  repositoryName: 'itdo-erp/backend',
  imageDigest: digest,
  imageTags: tags,
  imagePushedAt: new Date(pushedAt),
  imageSizeInBytes: 52_428_800,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
});

/** DescribeImages answers per repository; pages split at `pageSize`, like ECR's nextToken. */
function registry(byRepository: Record<string, ImageDetail[]>, pageSize = 1000) {
  ecr.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
    listed.push(structuredClone(input));
    const all = byRepository[input.repositoryName ?? ''];
    if (!all) {
      throw new RepositoryNotFoundException({
        message: `The repository with name '${input.repositoryName}' does not exist in the registry with id '123456789012'`,
        $metadata: {},
      });
    }
    const start = Number(input.nextToken ?? 0);
    const end = start + Math.min(pageSize, input.maxResults ?? 100);
    return {
      imageDetails: all.slice(start, end),
      ...(end < all.length ? { nextToken: String(end) } : {}),
    };
  });
}

function sweeper(sweepConfig: Config = config) {
  const reporter = recordingReporter();
  const deps = {
    ...sweepDeps({
      config: sweepConfig,
      startExecution: stepFunctionsStartExecution(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE_ARN),
      releaseClaims: () => {
        throw new Error('no stage deploys by tag alone in these tests');
      },
      recentImages: ecrRecentImages(new ECRClient({ region: 'eu-west-1' })),
    }),
    now: () => NOW,
  };
  return { reporter, run: () => sweepRecentPushes({ ...deps, reporter }) };
}

const startedNames = () => sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);

beforeEach(() => {
  ecr.reset();
  sfn.reset();
  executions = new Map();
  listed = [];
  sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
    if (executions.has(input.name)) {
      throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
    }
    executions.set(input.name, input.input);
    return { executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}` };
  });
});

describe('the sweep', () => {
  it('starts a push whose event never arrived, once, under the name the intake would give it', async () => {
    registry({ 'itdo-erp/backend': [image(['v1.4.2'], '2025-11-16T01:54:34Z')], 'itdo-erp/frontend': [] });
    const { reporter, run } = sweeper();

    const first = await run();
    const second = await run();

    expect(first).toMatchObject({ started: 1, alreadyStarted: 0, failed: 0 });
    expect(second).toMatchObject({ started: 0, alreadyStarted: 1, failed: 0 });
    expect([...executions.keys()]).toEqual(['backend-v1.4.2-7f5b2640fe6f']);
    expect(JSON.parse(executions.get('backend-v1.4.2-7f5b2640fe6f')!)).toEqual({
      release: {
        app: 'backend',
        ecrRepository: 'itdo-erp/backend',
        image: 'itdo-erp/backend',
        tag: 'v1.4.2',
        digest: DIGEST,
        registryId: '123456789012',
        region: 'eu-west-1',
        pushedAt: '2025-11-16T01:54:34.000Z',
      },
    });
    expect(reporter.counts.filter((metric) => metric === 'MissedPushesStarted')).toHaveLength(1);
    expect(reporter.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message:
          'sweep started backend-v1.4.2-7f5b2640fe6f: the intake never saw the push of itdo-erp/backend:v1.4.2',
      }),
    );
  });

  it('does not start a second run for a push the intake already started', async () => {
    const intake = createIntakeHandler({
      config,
      startExecution: stepFunctionsStartExecution(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE_ARN),
    });
    const delivered: SQSEvent = {
      Records: [
        {
          messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
          receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
          body: JSON.stringify(push),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: '1763258075000',
            SenderId: 'AIDAIENQZJOLO23YVJ4VO',
            ApproximateFirstReceiveTimestamp: '1763258075010',
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:shiplane-intake',
          awsRegion: 'eu-west-1',
        },
      ],
    };
    expect(await intake(delivered, lambdaContext('intake'))).toEqual({ batchItemFailures: [] });
    registry({ 'itdo-erp/backend': [image(['v1.4.2'], '2025-11-16T01:54:34Z')], 'itdo-erp/frontend': [] });

    const result = await sweeper().run();

    expect(result).toMatchObject({ started: 0, alreadyStarted: 1, failed: 0 });
    expect(startedNames()).toEqual(['backend-v1.4.2-7f5b2640fe6f', 'backend-v1.4.2-7f5b2640fe6f']);
    expect(executions.size).toBe(1);
  });

  it('a run it started still running (StartExecution answers it, idempotent): counted as started before, never again', async () => {
    registry({ 'itdo-erp/backend': [image(['v1.4.2'], '2025-11-16T01:54:34Z')], 'itdo-erp/frontend': [] });
    // As Step Functions does for the same name and input while the run waits (for an approval, say):
    // the running execution again, with the date it started, 15 minutes before the next sweep.
    const startedAt = new Date(Date.now() - 15 * 60_000);
    sfn.on(StartExecutionCommand).resolves({
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:backend-v1.4.2-7f5b2640fe6f`,
      startDate: startedAt,
    });
    const { reporter, run } = sweeper();

    expect(await run()).toMatchObject({ started: 0, alreadyStarted: 1, failed: 0 });
    expect(reporter.counts).not.toContain('MissedPushesStarted');
    expect(reporter.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('reads every page of DescribeImages, tagged images only', async () => {
    const older = Array.from({ length: 2500 }, (_, i) =>
      image([`v0.${i}.0`], '2025-11-10T00:00:00Z', digestOf(`old-${i}`)),
    );
    const recent = image(['v1.5.0'], '2025-11-16T01:50:00Z', digestOf('recent'));
    registry({ 'itdo-erp/backend': [...older, recent], 'itdo-erp/frontend': [] });

    const result = await sweeper().run();

    const backendCalls = listed.filter((input) => input.repositoryName === 'itdo-erp/backend');
    expect(backendCalls.map((input) => input.nextToken)).toEqual([undefined, '1000', '2000']);
    for (const input of listed) {
      expect(input).toMatchObject({ maxResults: 1000, filter: { tagStatus: 'TAGGED' } });
    }
    expect(result).toMatchObject({ started: 1 });
    expect(startedNames()).toEqual([`backend-v1.5.0-${digestOf('recent').slice(7, 19)}`]);
  });

  it('looks back one period plus the margin and leaves the youngest pushes to the intake', async () => {
    const { since, until } = sweepWindow(900, NOW);
    expect(since.toISOString()).toBe('2025-11-16T01:40:00.000Z');
    expect(until.toISOString()).toBe('2025-11-16T01:58:00.000Z');
    registry({
      'itdo-erp/backend': [
        image(['v1.3.0'], '2025-11-16T01:39:59Z', digestOf('too old')),
        image(['v1.3.1'], '2025-11-16T01:40:00Z', digestOf('oldest kept')),
        image(['v1.3.2'], '2025-11-16T01:59:00Z', digestOf('too young')),
      ],
      'itdo-erp/frontend': [],
    });

    await sweeper().run();

    expect(startedNames()).toEqual([`backend-v1.3.1-${digestOf('oldest kept').slice(7, 19)}`]);
  });

  it('applies the intake’s tag matching: each release tag of an image, never the others', async () => {
    registry({
      'itdo-erp/backend': [image(['v1.4.2', 'latest', 'main-cache'], '2025-11-16T01:54:34Z')],
      'itdo-erp/frontend': [
        {
          ...image([`sha256-${DIGEST.slice(7)}.sig`], '2025-11-16T01:55:00Z', digestOf('signature')),
          repositoryName: 'itdo-erp/frontend',
        },
      ],
    });

    const result = await sweeper().run();

    expect(result).toMatchObject({ started: 1, ignored: 3 });
    expect(startedNames()).toEqual(['backend-v1.4.2-7f5b2640fe6f']);
  });

  it('sweeps the other repositories when one cannot be listed, then fails so the alarm sees it', async () => {
    registry({
      'itdo-erp/frontend': [
        { ...image(['v2.0.0'], '2025-11-16T01:50:00Z'), repositoryName: 'itdo-erp/frontend' },
      ],
    });
    const { reporter, run } = sweeper();

    await expect(run()).rejects.toThrow(/1 repository listing\(s\) or start\(s\) failed/);

    expect(startedNames()).toEqual(['frontend-v2.0.0-7f5b2640fe6f']);
    expect(reporter.counts).toContain('SweepFailures');
    expect(reporter.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'sweep: listing the images of itdo-erp/backend failed',
        attributes: expect.objectContaining({ error: 'RepositoryNotFoundException' }),
      }),
    );
  });

  it('does nothing at all when intake.sweep is off', async () => {
    registry({ 'itdo-erp/backend': [image(['v1.4.2'], '2025-11-16T01:54:34Z')], 'itdo-erp/frontend': [] });
    const off = { ...config, intake: { sweep: 'off' as const } };

    expect(await sweeper(off).run()).toEqual({
      started: 0,
      alreadyStarted: 0,
      ignored: 0,
      refused: 0,
      failed: 0,
    });
    expect(ecr.commandCalls(DescribeImagesCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('sweep handler', () => {
  it('runs the sweep for a scheduled event and answers its counts', async () => {
    registry({ 'itdo-erp/backend': [image(['v1.4.2'], '2025-11-16T01:54:34Z')], 'itdo-erp/frontend': [] });
    const handler = createSweepHandler(() => ({
      ...sweepDeps({
        config,
        startExecution: stepFunctionsStartExecution(
          new SFNClient({ region: 'eu-west-1' }),
          STATE_MACHINE_ARN,
        ),
        releaseClaims: () => {
          throw new Error('not needed');
        },
        recentImages: ecrRecentImages(new ECRClient({ region: 'eu-west-1' })),
      }),
      now: () => NOW,
    }));
    const scheduled = {
      version: '0',
      id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2025-11-16T02:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/shiplane-sweep'],
      detail: {},
    };

    expect(await handler(scheduled, lambdaContext('sweep'))).toEqual({
      started: 1,
      alreadyStarted: 0,
      ignored: 0,
      refused: 0,
      failed: 0,
    });
  });
});
