import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/notify/handler.js';
import { type SlackServer, startSlackServer } from '../../../local/stand-ins/slack/server.js';
import { InvalidInputError } from '../../../shared/errors.js';
import {
  BOT_TOKEN,
  CHANNEL,
  deployedEnv,
  lambdaContext,
  notification,
} from '../../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const context = lambdaContext('notify');
const saved = { ...process.env };
let slack: SlackServer;

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
  sns.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  slack.setDown(false);
});

const failed = () =>
  notification('failed', {
    detail: {
      Error: 'Shiplane.CommitFailed',
      Cause: '{"errorType":"CommitConflictError","errorMessage":"main moved 5 times"}',
    },
  });

describe('notify handler (deployed wiring)', () => {
  it('posts the thread and alerts the topic from the environment', async () => {
    const result = await handler(failed(), context);
    expect(result).toEqual({ slack: 'posted', alert: 'published' });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:shiplane-alerts',
      Subject: 'Shiplane: backend v1.4.2 failed in staging',
    });
    expect(slack.messages(CHANNEL).some((m) => m.text.includes('main moved 5 times'))).toBe(true);
  });

  it('returns normally when Slack is down, so the run goes on', async () => {
    slack.setDown(true);
    await expect(handler(failed(), context)).resolves.toEqual({ slack: 'failed', alert: 'published' });
  });

  it('throws only for a malformed notification, naming the field', async () => {
    const before = slack.calls().length;
    const error = await handler({ ...notification('started'), event: 'exploded' }, context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('event');
    expect(slack.calls()).toHaveLength(before);
    expect(ddb.calls()).toHaveLength(0);
  });
});
