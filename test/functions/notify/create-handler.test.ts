/**
 * The notify handler built with deps of one's own, as the local engine builds it: the DynamoDB
 * store on a local DynamoDB and the Slack stand-in. Its own file, because handler.test.ts mocks
 * every DynamoDB document client for the deployed wiring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyHandler } from '../../../functions/notify/handler.js';
import { type SlackServer, startSlackServer } from '../../../local/stand-ins/slack/server.js';
import { slackChat } from '../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../shared/adapters/slack/web-api.js';
import { threadSettings } from '../../../shared/steps/notify/thread.js';
import {
  BOT_TOKEN,
  CHANNEL,
  lambdaContext,
  notification,
  recordingReporter,
  testConfig,
} from '../../fixtures/slack/context.js';
import { useLocalApprovalsTable } from '../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();
let slack: SlackServer;

beforeAll(async () => {
  slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
});
afterAll(async () => {
  await slack.close();
});

describe('createNotifyHandler', () => {
  it('runs with deps of your own and no alert topic', async () => {
    const store = approvalsTable.store();
    const local = createNotifyHandler({
      store,
      chat: slackChat(
        slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 }),
        eventReply,
      ),
      ...threadSettings(testConfig(slack.apiUrl)),
      now: () => new Date('2026-11-26T14:00:00Z'),
      reporter: recordingReporter(),
    });
    const failed = notification('failed', {
      detail: {
        Error: 'Shiplane.CommitFailed',
        Cause: '{"errorType":"CommitConflictError","errorMessage":"main moved 5 times"}',
      },
    });

    expect(await local(failed, lambdaContext('notify'))).toEqual({ slack: 'posted', alert: 'skipped' });
    expect((await store.getThread(failed.execution))?.channel).toBe(CHANNEL);
  });
});
