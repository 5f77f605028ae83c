import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createScanEventsHandler } from '../../../functions/scan-events/handler.js';
import { dynamoScanWaits } from '../../../shared/adapters/aws/scan-waits-table.js';
import { stepFunctionsTaskTokens } from '../../../shared/adapters/aws/task-tokens.js';
import { CONFIG_ENV, serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { ENV } from '../../../shared/contracts/environment.js';
import { InvalidInputError } from '../../../shared/errors.js';
import { deployedScanEvents, scanEventsDeps } from '../../../shared/wiring/scan-events.js';
import { ecrImageScanEvent } from '../../fixtures/ecr/scan-events.js';
import { DIGEST } from '../../fixtures/ecr/scan-findings.js';
import { recordingReporter } from '../../fixtures/slack/context.js';
import { configWith } from '../../infra/support.js';
import { useLocalScanWaitsTable } from '../../support/local-dynamo.js';

const sfn = mockClient(SFNClient);
const table = useLocalScanWaitsTable();
const context = {
  functionName: 'shiplane-scan-events',
  awsRequestId: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
  getRemainingTimeInMillis: () => 20_000,
} as Context;

const config = configWith((input) => ({
  ...input,
  apps: { ...input.apps, backend: { ...input.apps.backend!, scan: { maxSeverity: 'HIGH' } } },
}));
/** What `Wait for the scan` sends (the state machine fills in the token and the release's fields). */
const waitRequest = {
  action: 'wait-for-scan',
  taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAAU5vdCBhIHJlYWwgdG9rZW4=',
  execution: 'backend-v1-4-2-4f2c9d1e8a7b',
  app: 'backend',
  ecrRepository: 'itdo-erp/backend',
  digest: DIGEST,
};
const image = { repository: 'itdo-erp/backend', digest: DIGEST };

function handlerWith() {
  const waits = dynamoScanWaits(table.client, table.tableName);
  const handler = createScanEventsHandler(
    scanEventsDeps({
      config,
      waits,
      taskTokens: stepFunctionsTaskTokens(new SFNClient({ region: 'eu-west-1' })),
      reporter: recordingReporter(),
    }),
  );
  return { handler, waits };
}

beforeEach(() => {
  sfn.reset();
});

describe('scan-events handler', () => {
  it("records the state machine's wait, then answers it when the ECR Image Scan event comes", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const { handler, waits } = handlerWith();

    expect(await handler(waitRequest, context)).toMatchObject({ waiting: true });
    expect(await waits.waiting(image)).toEqual([
      { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: waitRequest.taskToken },
    ]);

    expect(await handler(ecrImageScanEvent(), context)).toEqual({
      outcome: 'woken',
      woken: ['backend-v1-4-2-4f2c9d1e8a7b'],
      gone: [],
      failed: [],
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe(waitRequest.taskToken);
    expect(await waits.waiting(image)).toEqual([]);
  });

  it('refuses a malformed wait, naming the field, and records nothing', async () => {
    const { handler, waits } = handlerWith();
    const { taskToken: _, ...noToken } = waitRequest;
    await expect(handler(noToken, context)).rejects.toThrow(InvalidInputError);
    await expect(handler({ ...waitRequest, digest: 'latest' }, context)).rejects.toThrow(/digest/);
    await expect(handler({ ...waitRequest, action: 'wake' }, context)).rejects.toThrow(/action/);
    expect(await waits.waiting(image)).toEqual([]);
  });

  it('answers an event it does not act on with the reason, sending nothing', async () => {
    const { handler } = handlerWith();
    expect(await handler({ source: 'aws.ecr', 'detail-type': 'ECR Image Action' }, context)).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('not an ECR Image Scan or Inspector2 Scan event'),
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('reads the table from SCAN_WAITS_TABLE when deployed, and says so when it is missing', async () => {
    const env = { [CONFIG_ENV]: serializeConfigInput(toConfigInput(config)) };
    const handler = createScanEventsHandler(deployedScanEvents(env));
    await expect(handler(waitRequest, context)).rejects.toThrow(
      `environment variable ${ENV.scanWaitsTable} is not set; the stack sets it on the function`,
    );
  });
});
