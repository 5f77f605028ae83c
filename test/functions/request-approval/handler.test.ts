import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/request-approval/handler.js';
import { type SlackServer, startSlackServer } from '../../../local/stand-ins/slack/server.js';
import { InvalidInputError } from '../../../shared/errors.js';
import {
  approvalRequest,
  BOT_TOKEN,
  CHANNEL,
  deployedEnv,
  lambdaContext,
} from '../../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const ecr = mockClient(ECRClient);
const sfn = mockClient(SFNClient);
const context = lambdaContext('request-approval');
let slack: SlackServer;
const saved = { ...process.env };

beforeAll(async () => {
  slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
  Object.assign(process.env, deployedEnv(slack.apiUrl));
});
afterAll(async () => {
  process.env = saved;
  await slack.close();
});
beforeEach(() => {
  ddb.reset();
  ecr.reset();
  sfn.reset();
});

describe('request-approval handler (deployed wiring)', () => {
  it('stores the token in the table and posts the approval in a new release thread', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imagePushedAt: new Date('2026-11-26T13:40:00Z'), imageSizeInBytes: 48_100_000 }],
    });
    const request = approvalRequest();
    const result = await handler(request, context);
    expect(result).toEqual({ approvalId: expect.stringMatching(/^[0-9a-f]{24}$/), message: 'posted' });

    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.TableName)).toEqual([
      'shiplane-approvals',
      'shiplane-approvals',
      'shiplane-approvals',
      'shiplane-approvals',
    ]);
    expect(puts[0]?.Item).toMatchObject({
      pk: `approval#${result.approvalId}`,
      taskToken: request.taskToken,
      status: 'pending',
    });
    expect(puts[1]?.Item).toMatchObject({
      pk: `execution#${request.execution}#production`,
      approvalId: result.approvalId,
    });
    expect(puts[2]?.Item).toMatchObject({
      pk: `pending#${request.release.app}#production`,
      approvalId: result.approvalId,
      tag: request.release.tag,
      execution: request.execution,
    });
    expect(puts[3]?.Item).toMatchObject({ pk: `thread#${request.execution}`, channel: CHANNEL });

    const [parent, approval] = slack.messages(CHANNEL);
    expect(approval?.thread_ts).toBe(parent?.ts);
    expect(JSON.stringify(approval?.blocks)).toContain('48.1 MB');
    expect(JSON.stringify(slack.messages())).not.toContain(request.taskToken);
  });

  it("fails an older release's approval task through Step Functions when it supersedes it", async () => {
    const request = approvalRequest({ release: { ...approvalRequest().release, tag: 'v1.4.3' } });
    const olderApproval = {
      pk: 'approval#0123456789abcdef01234567',
      kind: 'approval',
      approvalId: '0123456789abcdef01234567',
      execution: 'backend-v1-4-2-run',
      stage: 'production',
      taskToken: 'token-of-the-older-run',
      status: 'pending',
      approvers: ['U0PLATFORM1'],
      facts: { ...approvalRequest().release, stage: 'production', tag: 'v1.4.2' },
      createdAt: '2026-11-26T10:00:00.000Z',
      deadline: 4_000_000_000,
      expiresAt: 4_000_600_000,
    };
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { pk: olderApproval.pk } }).resolves({ Item: olderApproval });
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { pk: 'pending#backend#production' } }).resolves({
      Attributes: {
        pk: 'pending#backend#production',
        kind: 'pending',
        approvalId: olderApproval.approvalId,
        tag: 'v1.4.2',
        execution: olderApproval.execution,
      },
    });
    ddb.on(UpdateCommand).resolves({});
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    sfn.on(SendTaskFailureCommand).resolves({});

    const result = await handler(request, context);
    expect(result.message).toBe('posted');
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: 'token-of-the-older-run',
        error: 'Shiplane.Superseded',
        cause: 'backend v1.4.2 was superseded at production by v1.4.3 awaiting approval',
      },
    ]);
    const closes = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((input) => input.Key?.pk === olderApproval.pk);
    expect(closes[0]?.ExpressionAttributeValues).toMatchObject({ ':to': 'superseded', ':from0': 'pending' });
  });

  it('refuses a malformed request, naming the field, before touching anything', async () => {
    const { taskToken: _dropped, ...withoutToken } = approvalRequest();
    const error = await handler(withoutToken, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('taskToken');
    expect(ddb.calls()).toHaveLength(0);
  });
});
