import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIntakeHandler, handler } from '../../../functions/intake/handler.js';
import { dynamoReleaseClaims } from '../../../shared/adapters/aws/release-claims.js';
import { stepFunctionsStartExecution } from '../../../shared/adapters/aws/step-functions.js';
import { parseConfig, parseConfigText } from '../../../shared/config/load.js';
import { serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { ENV } from '../../../shared/contracts/environment.js';
import { logger } from '../../../shared/observability/index.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:shiplane-promotion';
const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`test/fixtures/${name}.json`, 'utf8'));
const push = fixture('ecr-image-push');
const withDetail = (detail: Record<string, unknown>) => ({
  ...push,
  detail: { ...(push.detail as object), ...detail },
});

let sequence = 0;
/** An SQS record as Lambda's event source mapping delivers it, with an EventBridge event as body. */
function sqsRecord(body: unknown): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  sequence += 1;
  return {
    messageId: `059f36b4-87a3-44ab-83d2-${String(sequence).padStart(12, '0')}`,
    receiptHandle: `AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a${sequence}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1763258075000',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1763258075010',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:shiplane-intake',
    awsRegion: 'eu-west-1',
  };
}
const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'shiplane-intake',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shiplane-intake',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/shiplane-intake',
  logStreamName: '2025/11/16/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
const intake = createIntakeHandler({
  config,
  startExecution: stepFunctionsStartExecution(new SFNClient({}), STATE_MACHINE_ARN),
});

beforeEach(() => {
  sfn.reset();
  ddb.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:shiplane-promotion:${input.name}`,
    startDate: new Date('2025-11-16T01:54:40Z'),
  }));
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('intake handler', () => {
  it('starts a run named after the release for a real ECR push event', async () => {
    // Prepare
    const record = sqsRecord(push);

    // Act
    const response = await intake(sqsEvent(record), context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0]!.args[0].input;
    expect(sent.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(sent.name).toBe('backend-v1.4.2-7f5b2640fe6f');
    expect(JSON.parse(sent.input!)).toEqual({
      release: {
        app: 'backend',
        ecrRepository: 'itdo-erp/backend',
        image: 'itdo-erp/backend',
        tag: 'v1.4.2',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        registryId: '123456789012',
        region: 'eu-west-1',
        pushedAt: '2025-11-16T01:54:34Z',
      },
    });
  });

  it('treats ExecutionAlreadyExists for a repeated event as success', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const info = vi.spyOn(logger, 'info');

    const response = await intake(sqsEvent(sqsRecord(push)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(info).toHaveBeenCalledWith(
      expect.stringContaining('duplicate: execution backend-v1.4.2-7f5b2640fe6f already exists'),
      expect.objectContaining({ executionName: 'backend-v1.4.2-7f5b2640fe6f' }),
    );
  });

  it('gives a repeated event the same execution name and input', async () => {
    await intake(sqsEvent(sqsRecord(push), sqsRecord(push)), context);

    const [first, second] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(first).toEqual(second);
  });

  it.each([
    ['an image deletion', fixture('ecr-image-delete'), 'not-a-push'],
    ['a failed push', fixture('ecr-image-push-failed'), 'push-failed'],
    ['a push without a tag', fixture('ecr-image-push-untagged'), 'untagged'],
    [
      'a push to a repository no app is configured for',
      withDetail({ 'repository-name': 'itdo-erp/batch-jobs' }),
      'repository-not-configured',
    ],
    ['a tag that is not a release', withDetail({ 'image-tag': 'latest' }), 'tag-not-a-release'],
  ])('ignores %s with the reason logged and starts no run', async (_, event, reason) => {
    const info = vi.spyOn(logger, 'info');

    const response = await intake(sqsEvent(sqsRecord(event)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(info).toHaveBeenCalledWith(
      expect.stringMatching(/^ignored: /),
      expect.objectContaining({ reason }),
    );
  });

  it.each([
    ['a body that is not JSON', '{"version": "0", "id": ', /the message body is not JSON/],
    ['another kind of event', { ...push, 'detail-type': 'ECR Image Scan' }, /detail-type/],
    [
      'a successful push without a digest',
      withDetail({ 'image-digest': undefined }),
      /detail\.image-digest: a successful push must carry the image digest/,
    ],
    ['a digest that is not sha256', withDetail({ 'image-digest': 'md5:abc' }), /detail\.image-digest/],
    [
      'a tag outside ECR’s grammar',
      withDetail({ 'image-tag': 'v1.4.2;curl evil.example' }),
      /detail\.image-tag: expected an ECR image tag: \[A-Za-z0-9_\]\[A-Za-z0-9_.-\]\{0,127\}/,
    ],
    ['a tag that starts with a hyphen', withDetail({ 'image-tag': '-v1.4.2' }), /detail\.image-tag/],
    [
      'a tag longer than 128 characters',
      withDetail({ 'image-tag': `v${'1'.repeat(128)}` }),
      /detail\.image-tag/,
    ],
    [
      'a digest in upper-case hex',
      withDetail({ 'image-digest': `sha256:${'7F'.repeat(32)}` }),
      /detail\.image-digest: expected an image digest: sha256: and 64 lower-case hex digits/,
    ],
    ['an account id that is not one', { ...push, account: 'itdo' }, /account: expected a 12-digit/],
  ])('fails only the record with %s, logging what is wrong', async (_, body, problem) => {
    // Prepare
    const good = sqsRecord(push);
    const bad = sqsRecord(body);
    const ignored = sqsRecord(fixture('ecr-image-delete'));
    const error = vi.spyOn(logger, 'error');

    // Act
    const response = await intake(sqsEvent(good, bad, ignored), context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('malformed intake message'),
      expect.objectContaining({ messageId: bad.messageId, problem: expect.stringMatching(problem) }),
    );
  });

  it('never repeats a refused tag in its log: it is untrusted text', async () => {
    const error = vi.spyOn(logger, 'error');

    await intake(sqsEvent(sqsRecord(withDetail({ 'image-tag': 'v1<!channel>' }))), context);

    expect(JSON.stringify(error.mock.calls)).not.toContain('<!channel>');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails a record whose StartExecution is throttled, so SQS retries it', async () => {
    const throttled = sqsRecord(withDetail({ 'repository-name': 'itdo-erp/frontend' }));
    sfn
      .on(StartExecutionCommand, { name: 'frontend-v1.4.2-7f5b2640fe6f' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const started = sqsRecord(push);
    const warn = vi.spyOn(logger, 'warn');

    const response = await intake(sqsEvent(started, throttled), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: throttled.messageId }] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('StartExecution failed'),
      expect.objectContaining({
        error: 'ThrottlingException',
        executionName: 'frontend-v1.4.2-7f5b2640fe6f',
      }),
    );
  });

  it('reports every record of a batch that fails entirely instead of throwing', async () => {
    const records = [sqsRecord('not json'), sqsRecord('[]')];

    const response = await intake(sqsEvent(...records), context);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
      records.map((record) => record.messageId),
    );
  });
});

/** The example config with staging writing the tag alone: a re-pushed tag would reach it unapproved. */
const tagOnlyConfig = parseConfig({
  ...toConfigInput(config),
  stages: toConfigInput(config).stages.map((stage) =>
    stage.name === 'staging' ? { ...stage, pinDigest: false } : stage,
  ),
});
const APPROVALS_TABLE = 'shiplane-approvals';
const RELEASED = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678';
const REPUSHED = `sha256:${'e'.repeat(64)}`;
/** DynamoDB's answer when `release#backend#v1.4.2` already holds `digest` (ReturnValuesOnConditionCheckFailure). */
const alreadyReleased = (digest: string) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: {
      pk: { S: 'release#backend#v1.4.2' },
      digest: { S: digest },
      execution: { S: 'backend-v1.4.2-7f5b2640fe6f' },
    },
  });

describe('intake handler, when some stage deploys by tag alone (pinDigest: false)', () => {
  const claiming = createIntakeHandler({
    config: tagOnlyConfig,
    startExecution: stepFunctionsStartExecution(new SFNClient({}), STATE_MACHINE_ARN),
    releaseClaims: dynamoReleaseClaims(new DynamoDBClient({}), APPROVALS_TABLE),
  });

  it('claims the released tag, then starts its run', async () => {
    ddb.on(PutItemCommand).resolves({});

    const response = await claiming(sqsEvent(sqsRecord(push)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const puts = ddb.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toMatchObject({
      TableName: APPROVALS_TABLE,
      Item: { pk: { S: 'release#backend#v1.4.2' }, digest: { S: RELEASED } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('refuses a released tag pushed again with another digest: logged with the fix, no second run, not retried', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(alreadyReleased(RELEASED));
    const error = vi.spyOn(logger, 'error');
    const repushed = sqsRecord(withDetail({ 'image-digest': REPUSHED }));

    // Act
    const response = await claiming(sqsEvent(repushed), context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(error).toHaveBeenCalledWith(
      `refused: itdo-erp/backend:v1.4.2 was released as ${RELEASED} by backend-v1.4.2-7f5b2640fe6f and is now pushed as ${REPUSHED}; ` +
        'stage staging deploys by tag alone (pinDigest: false), so the new image would run unapproved. ' +
        'Enable tag immutability on the ECR repository itdo-erp/backend (or set pinDigest: true), and push a new tag.',
      expect.objectContaining({
        messageId: repushed.messageId,
        reason: 'tag-pushed-again',
        digest: REPUSHED,
        releasedDigest: RELEASED,
      }),
    );
  });

  it('stays idempotent for a repeated event of the same image: the claim is its own, the run already exists', async () => {
    ddb.on(PutItemCommand).rejects(alreadyReleased(RELEASED));
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const info = vi.spyOn(logger, 'info');

    const response = await claiming(sqsEvent(sqsRecord(push)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(info).toHaveBeenCalledWith(
      expect.stringContaining('duplicate: execution backend-v1.4.2-7f5b2640fe6f already exists'),
      expect.anything(),
    );
  });

  it('starts the run when a retry finds its own claim after a failed StartExecution', async () => {
    ddb.on(PutItemCommand).resolvesOnce({}).rejects(alreadyReleased(RELEASED));
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ executionArn: `${STATE_MACHINE_ARN}:backend-v1.4.2-7f5b2640fe6f`, startDate: new Date() });
    const record = sqsRecord(push);

    const first = await claiming(sqsEvent(record), context);
    const retry = await claiming(sqsEvent(record), context);

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
  });

  it('fails the record, to be retried, when the claim cannot be written; nothing starts', async () => {
    ddb
      .on(PutItemCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const record = sqsRecord(push);

    const response = await claiming(sqsEvent(record), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses to run without a claims store rather than let a re-pushed tag through', async () => {
    const unguarded = createIntakeHandler({
      config: tagOnlyConfig,
      startExecution: stepFunctionsStartExecution(new SFNClient({}), STATE_MACHINE_ARN),
    });

    await expect(unguarded(sqsEvent(sqsRecord(push)), context)).rejects.toThrow(
      /stages staging deploy by tag alone .* no release claims store/,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('intake handler, with digests pinned everywhere (the default)', () => {
  it('claims nothing: a new digest for a released tag is a new run that deploys exactly that digest', async () => {
    const pinned = createIntakeHandler({
      config,
      startExecution: stepFunctionsStartExecution(new SFNClient({}), STATE_MACHINE_ARN),
      releaseClaims: dynamoReleaseClaims(new DynamoDBClient({}), APPROVALS_TABLE),
    });

    const response = await pinned(
      sqsEvent(sqsRecord(push), sqsRecord(withDetail({ 'image-digest': REPUSHED }))),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name)).toEqual([
      'backend-v1.4.2-7f5b2640fe6f',
      'backend-v1.4.2-eeeeeeeeeeee',
    ]);
  });
});

describe('deployed intake handler', () => {
  afterEach(() => {
    delete process.env[ENV.config];
    delete process.env[ENV.stateMachineArn];
    delete process.env[ENV.approvalsTable];
  });

  it('reads the config and state machine from the environment the stack sets', async () => {
    process.env[ENV.config] = serializeConfigInput(toConfigInput(config));
    process.env[ENV.stateMachineArn] = STATE_MACHINE_ARN;

    const response = await handler(sqsEvent(sqsRecord(push)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const sent = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: 'backend-v1.4.2-7f5b2640fe6f' });
  });
});
