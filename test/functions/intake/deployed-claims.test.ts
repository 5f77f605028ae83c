/**
 * The deployed intake handler with a stage that deploys by tag alone: it claims released tags in the
 * table the stack names. Its own file: the deployed handler builds its dependencies once per module.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/intake/handler.js';
import { parseConfigText } from '../../../shared/config/load.js';
import { serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { ENV } from '../../../shared/contracts/environment.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:shiplane-promotion';
const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));
const push = readFileSync('test/fixtures/ecr-image-push.json', 'utf8');
const event: SQSEvent = {
  Records: [
    {
      messageId: '059f36b4-87a3-44ab-83d2-000000000001',
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a1',
      body: push,
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
const context = { functionName: 'shiplane-intake', awsRequestId: 'c6af9ac6' } as Context;

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);

afterEach(() => {
  delete process.env[ENV.config];
  delete process.env[ENV.stateMachineArn];
  delete process.env[ENV.approvalsTable];
});

describe('deployed intake handler, staging deploying by tag alone', () => {
  it('claims the released tag in APPROVALS_TABLE before it starts the run', async () => {
    const input = toConfigInput(config);
    input.stages = input.stages.map((stage) => ({ ...stage, pinDigest: stage.name !== 'staging' }));
    process.env[ENV.config] = serializeConfigInput(input);
    process.env[ENV.stateMachineArn] = STATE_MACHINE_ARN;
    process.env[ENV.approvalsTable] = 'shiplane-approvals';
    ddb.on(PutItemCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: new Date() });

    const response = await handler(event, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'shiplane-approvals',
      Item: { pk: { S: 'release#backend#v1.4.2' } },
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});
