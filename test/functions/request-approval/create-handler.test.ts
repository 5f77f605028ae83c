/**
 * The request-approval handler built with deps of one's own, as the local engine builds it: the
 * DynamoDB store on a local DynamoDB and the Slack stand-in. Its own file, because handler.test.ts
 * mocks every DynamoDB document client for the deployed wiring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestApprovalHandler } from '../../../functions/request-approval/handler.js';
import { type SlackServer, startSlackServer } from '../../../local/stand-ins/slack/server.js';
import { slackChat } from '../../../shared/adapters/slack/chat.js';
import { slackWebApi } from '../../../shared/adapters/slack/web-api.js';
import { threadSettings } from '../../../shared/steps/notify/thread.js';
import {
  approvalRequest,
  BOT_TOKEN,
  CHANNEL,
  lambdaContext,
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

describe('createRequestApprovalHandler', () => {
  it('runs the same path with deps of your own (the local engine)', async () => {
    const store = approvalsTable.store();
    const local = createRequestApprovalHandler({
      store,
      chat: slackChat(slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 })),
      ...threadSettings(testConfig(slack.apiUrl)),
      now: () => new Date('2026-11-26T14:00:00Z'),
      reporter: recordingReporter(),
    });
    const request = approvalRequest({ execution: 'backend-v1.4.2-local' });
    const { approvalId } = await local(request, lambdaContext('request-approval'));
    expect(await store.getApproval(approvalId)).toMatchObject({
      taskToken: request.taskToken,
      status: 'pending',
    });
  });
});
