import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/slack-interaction/handler.js';
import {
  apiGatewayEvent,
  blockActionsPayload,
  type Clicker,
  signedInteraction,
  viewSubmissionPayload,
} from '../../../local/stand-ins/slack/interactions.js';
import {
  type SlackServer,
  type StoredMessage,
  startSlackServer,
} from '../../../local/stand-ins/slack/server.js';
import { approvalMessage } from '../../../shared/adapters/slack/approval-message.js';
import { InvalidInputError } from '../../../shared/errors.js';
import type { ApprovalRecord } from '../../../shared/ports/approvals-store.js';
import {
  ALICE,
  approvalRequest,
  BOB,
  BOT_TOKEN,
  CHANNEL,
  deployedEnv,
  GROUP,
  lambdaContext,
  MALLORY,
  SIGNING_SECRET,
} from '../../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const context = lambdaContext('slack-interaction');
const saved = { ...process.env };
let slack: SlackServer;
let message: StoredMessage;
let item: Record<string, unknown>;

const APPROVAL_ID = '3f2a9c1d0b7e4a6c8d5e1f02';

beforeAll(async () => {
  slack = await startSlackServer({
    botToken: BOT_TOKEN,
    channels: [CHANNEL],
    userGroups: { [GROUP]: [BOB.id] },
  });
  Object.assign(process.env, deployedEnv(slack.apiUrl));
});
afterAll(async () => {
  process.env = saved;
  await slack.close();
});

/**
 * The table as DynamoDB behaves for these calls: GetItem returns the item, and the claim's
 * conditional UpdateItem succeeds only while the status is `pending` (atomically, as DynamoDB does).
 */
beforeEach(async () => {
  ddb.reset();
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  const request = approvalRequest();
  const now = Date.now();
  const facts = {
    approvalId: APPROVAL_ID,
    execution: request.execution,
    stage: 'production',
    app: 'backend',
    tag: 'v1.4.2',
    digest: request.release.digest,
    ecrRepository: 'itdo-erp/backend',
    approvers: request.approvers,
    requestedAt: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    history: [],
  };
  const response = await fetch(`${slack.apiUrl}chat.postMessage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: CHANNEL, ...approvalMessage(facts, { status: 'pending' }) }),
  });
  const posted = (await response.json()) as { ts: string };
  message = slack.message(CHANNEL, posted.ts) as StoredMessage;
  const record: ApprovalRecord = {
    approvalId: APPROVAL_ID,
    execution: request.execution,
    stage: 'production',
    taskToken: request.taskToken,
    status: 'pending',
    approvers: request.approvers,
    facts,
    createdAt: facts.requestedAt,
    deadline: Math.floor(now / 1000) + 86_400,
    expiresAt: Math.floor(now / 1000) + 86_400 * 8,
    message: { channel: CHANNEL, ts: posted.ts },
  };
  item = { pk: `approval#${APPROVAL_ID}`, kind: 'approval', ...record };
  ddb.on(GetCommand).callsFake(async () => ({ Item: structuredClone(item) }));
  ddb.on(UpdateCommand).callsFake(async (input: { ExpressionAttributeValues: Record<string, unknown> }) => {
    const values = input.ExpressionAttributeValues;
    if (item.status !== 'pending') {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    item = { ...item, status: values[':decided'], decision: values[':decision'] };
    return { Attributes: structuredClone(item) };
  });
});

const click = (user: Clicker, actionId = 'shiplane_approve', secret = SIGNING_SECRET, triggerId?: string) =>
  apiGatewayEvent(
    signedInteraction(
      blockActionsPayload({ message, actionId, user, ...(triggerId ? { triggerId } : {}) }),
      secret,
      { base64: true },
    ),
  );

describe('slack-interaction handler (deployed wiring, HTTP API v2 events)', () => {
  it('approves: 200 with an empty body, one SendTaskSuccess, the message updated in place', async () => {
    const response = await handler(click(ALICE), context);
    expect(response).toMatchObject({ statusCode: 200, body: '' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(item).toMatchObject({ status: 'approved', decision: { by: ALICE.id, via: 'slack' } });
    expect(JSON.stringify(slack.message(CHANNEL, message.ts)?.blocks)).toContain(
      `Approved by <@${ALICE.id}>`,
    );
  });

  it('sends exactly one SendTaskSuccess when two clicks race', async () => {
    const before = slack.ephemerals().length;
    const responses = await Promise.all([handler(click(ALICE), context), handler(click(BOB), context)]);
    expect(responses.map((r) => (r as { statusCode: number }).statusCode)).toEqual([200, 200]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(
      slack
        .ephemerals()
        .slice(before)
        .map((e) => e.text),
    ).toEqual([expect.stringContaining('already approved')]);
  });

  it('rejects for a member of an approver group: Reject opens the modal, its submission decides', async () => {
    const triggerId = slack.issueTrigger(BOB.id);
    const clicked = await handler(click(BOB, 'shiplane_reject', SIGNING_SECRET, triggerId), context);
    expect(clicked).toMatchObject({ statusCode: 200, body: '' });
    expect(sfn.calls()).toHaveLength(0);
    const opened = slack.viewOpenedBy(triggerId);
    expect(opened?.user).toBe(BOB.id);
    const submission = viewSubmissionPayload({
      opened: opened as NonNullable<typeof opened>,
      user: BOB,
      inputs: { shiplane_reason_input: 'the migration is not reversible' },
    });
    const submitted = await handler(
      apiGatewayEvent(signedInteraction(submission, SIGNING_SECRET, { base64: true })),
      context,
    );
    expect(submitted).toMatchObject({ statusCode: 200, body: '' });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      error: 'Shiplane.Rejected',
      cause: `Rejected by bob (${BOB.id}) via slack: the migration is not reversible`,
    });
    expect(item).toMatchObject({
      status: 'rejected',
      decision: { reason: 'the migration is not reversible' },
    });
  });

  it('answers a non-approver with an ephemeral message and changes nothing', async () => {
    await handler(click(MALLORY), context);
    expect(sfn.calls()).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(slack.ephemerals().at(-1)).toMatchObject({
      user: MALLORY.id,
      text: 'You are not an approver for production. Nothing changed.',
    });
  });

  it('refuses a forged request with 401 before reading the table', async () => {
    const response = await handler(click(ALICE, 'shiplane_approve', 'forged-secret'), context);
    expect(response).toMatchObject({ statusCode: 401, body: '' });
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses an event that is not an HTTP API event', async () => {
    await expect(handler({ headers: 'nope' }, context)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
