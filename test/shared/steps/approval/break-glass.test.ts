/**
 * Break glass: while the approval's stage is in a change freeze, Approve is refused and only Break
 * glass — an approver, giving a reason in the modal — approves. The reason and the broken freeze go to
 * the run, the approvals table and the message.
 */
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blockActionsPayload,
  type Clicker,
  signedInteraction,
  viewSubmissionPayload,
} from '../../../../local/stand-ins/slack/interactions.js';
import {
  type SlackServer,
  type StoredMessage,
  startSlackServer,
} from '../../../../local/stand-ins/slack/server.js';
import { stepFunctionsTaskTokens } from '../../../../shared/adapters/aws/task-tokens.js';
import { APPROVE_ACTION, BREAK_GLASS_ACTION } from '../../../../shared/adapters/slack/approval-message.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { slackInteractions } from '../../../../shared/adapters/slack/interactions.js';
import { REASON_ACTION_ID } from '../../../../shared/adapters/slack/reason-modal.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import type { FreezeWindowConfig } from '../../../../shared/config/freeze.js';
import { createAuthorizer } from '../../../../shared/steps/approval/authorize.js';
import { handleInteraction, type InteractionDeps } from '../../../../shared/steps/approval/interaction.js';
import { requestApproval } from '../../../../shared/steps/approval/request.js';
import { threadSettings } from '../../../../shared/steps/notify/thread.js';
import {
  ALICE,
  approvalRequest,
  BOB,
  BOT_TOKEN,
  CHANNEL,
  GROUP,
  MALLORY,
  manualClock,
  recordingReporter,
  SIGNING_SECRET,
  testConfig,
} from '../../../fixtures/slack/context.js';
import { useLocalApprovalsTable } from '../../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();
const sfn = mockClient(SFNClient);
let slack: SlackServer;

beforeEach(async () => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  slack = await startSlackServer({
    botToken: BOT_TOKEN,
    channels: [CHANNEL],
    userGroups: { [GROUP]: [BOB.id] },
  });
});
afterEach(async () => {
  await slack.close();
});

/** Production is frozen 13:00Z–18:00Z on Thursday 2026-11-26 (the run asks at 14:00Z). */
const freeze: FreezeWindowConfig = {
  kind: 'fixed',
  from: '2026-11-26T13:00:00Z',
  to: '2026-11-27T03:00:00+09:00',
  reason: 'release freeze',
};

async function frozenApproval() {
  const clock = manualClock('2026-11-26T14:00:00Z');
  const reporter = recordingReporter();
  const store = approvalsTable.store();
  const api = slackWebApi({
    apiUrl: slack.apiUrl,
    token: async () => BOT_TOKEN,
    retries: 0,
    timeoutMs: 1_500,
  });
  const freezeWindows = (stage: string) => (stage === 'production' ? [freeze] : []);
  const { approvalId } = await requestApproval(approvalRequest(), {
    store,
    chat: slackChat(api),
    ...threadSettings(testConfig(slack.apiUrl)),
    now: clock.now,
    reporter,
    freezeWindows,
  });
  const message = slack.messages(CHANNEL).find((m) => m.text.startsWith('Approval needed')) as StoredMessage;
  clock.advance(120);
  const deps: InteractionDeps = {
    interactions: slackInteractions({ signingSecret: async () => SIGNING_SECRET }),
    chat: slackChat(api),
    store,
    taskTokens: stepFunctionsTaskTokens(new SFNClient({})),
    authorize: createAuthorizer({ groupMembers: (g) => api.userGroupMembers(g) }),
    now: clock.now,
    reporter,
    freezeWindows,
  };
  const click = async (user: Clicker, actionId: string) => {
    const triggerId = slack.issueTrigger(user.id);
    const payload = blockActionsPayload({ message, actionId, user, now: clock.now(), triggerId });
    const response = await handleInteraction(
      signedInteraction(payload, SIGNING_SECRET, { now: clock.now() }),
      deps,
    );
    return { response, opened: slack.viewOpenedBy(triggerId) };
  };
  const submit = (
    opened: NonNullable<Awaited<ReturnType<typeof click>>['opened']>,
    user: Clicker,
    reason: string,
    secret = SIGNING_SECRET,
  ) =>
    handleInteraction(
      signedInteraction(
        viewSubmissionPayload({ opened, user, inputs: { [REASON_ACTION_ID]: reason }, now: clock.now() }),
        secret,
        { now: clock.now() },
      ),
      deps,
    );
  return { clock, store, approvalId, message, click, submit };
}

const successes = () =>
  sfn.commandCalls(SendTaskSuccessCommand).map((call) => JSON.parse(call.args[0].input.output ?? '{}'));
const ephemerals = () => slack.ephemerals().map((e) => `${e.user}: ${e.text}`);

describe('break glass', () => {
  it('offers Break glass on the approval message of a stage with freeze windows', async () => {
    const { message } = await frozenApproval();

    expect(JSON.stringify(message.blocks)).toContain(BREAK_GLASS_ACTION);
  });

  it('refuses a plain Approve during the freeze, saying until when and how to break glass', async () => {
    const { click, store, approvalId } = await frozenApproval();

    const { response } = await click(ALICE, APPROVE_ACTION);

    expect(response.statusCode).toBe(200);
    expect(successes()).toEqual([]);
    expect((await store.getApproval(approvalId))?.status).toBe('pending');
    expect(ephemerals()).toEqual([
      expect.stringMatching(
        /^U0PLATFORM1: production frozen until Fri 03:00 UTC\+09:00: release freeze\. Approve is refused/,
      ),
    ]);
    expect(ephemerals()[0]).toContain('Break glass');
  });

  it('approves through the modal with a reason: the run, the table and the message carry it as a break glass', async () => {
    const { click, submit, store, approvalId, message } = await frozenApproval();

    const { opened } = await click(ALICE, BREAK_GLASS_ACTION);
    if (!opened) throw new Error('no break glass modal opened');
    expect(JSON.stringify(opened.view)).toContain(
      'production frozen until Fri 03:00 UTC+09:00: release freeze',
    );
    const response = await submit(opened, ALICE, '  payment outage INC-4711 needs this fix  ');

    expect(response).toMatchObject({ statusCode: 200, body: '' });
    const breakGlass = {
      until: '2026-11-26T18:00:00.000Z',
      freeze: 'production frozen until Fri 03:00 UTC+09:00: release freeze',
    };
    expect(successes()).toEqual([
      expect.objectContaining({
        decision: 'approved',
        by: ALICE.id,
        reason: 'payment outage INC-4711 needs this fix',
        breakGlass,
      }),
    ]);
    expect(await store.getApproval(approvalId)).toMatchObject({
      status: 'approved',
      decision: { by: ALICE.id, reason: 'payment outage INC-4711 needs this fix', breakGlass },
    });
    expect(JSON.stringify(slack.message(CHANNEL, message.ts)?.blocks)).toContain(
      'break glass during the freeze',
    );
  });

  it('keeps the modal open for an empty or whitespace reason, and decides nothing', async () => {
    const { click, submit, store, approvalId } = await frozenApproval();
    const { opened } = await click(ALICE, BREAK_GLASS_ACTION);
    if (!opened) throw new Error('no break glass modal opened');

    for (const reason of ['', '   \n\t ']) {
      const response = await submit(opened, ALICE, reason);
      expect(JSON.parse(response.body)).toEqual({
        response_action: 'errors',
        errors: { shiplane_reason: 'Say why this must go out during the freeze: the reason is required.' },
      });
    }
    expect(successes()).toEqual([]);
    expect((await store.getApproval(approvalId))?.status).toBe('pending');
  });

  it('refuses someone who is not an approver: no modal, and a submission of a modal they did not get decides nothing', async () => {
    const { click, submit, store, approvalId } = await frozenApproval();

    const mallory = await click(MALLORY, BREAK_GLASS_ACTION);
    expect(mallory.opened).toBeUndefined();
    expect(ephemerals()).toEqual([
      expect.stringMatching(/^U0MALLORY1: You are not an approver for production/),
    ]);

    // Mallory replays Alice's modal as her own submission.
    const { opened } = await click(ALICE, BREAK_GLASS_ACTION);
    if (!opened) throw new Error('no break glass modal opened');
    await submit(opened, MALLORY, 'trust me');

    expect(successes()).toEqual([]);
    expect((await store.getApproval(approvalId))?.status).toBe('pending');
  });

  it('refuses a forged break glass submission (signed with another secret)', async () => {
    const { click, submit, store, approvalId } = await frozenApproval();
    const { opened } = await click(ALICE, BREAK_GLASS_ACTION);
    if (!opened) throw new Error('no break glass modal opened');

    const response = await submit(opened, ALICE, 'hotfix', 'not-the-signing-secret');

    expect(response.statusCode).toBe(401);
    expect(successes()).toEqual([]);
    expect((await store.getApproval(approvalId))?.status).toBe('pending');
  });

  it('after the window a plain Approve works again, and Break glass says there is nothing to break', async () => {
    const { click, clock, store, approvalId } = await frozenApproval();
    clock.set('2026-11-26T18:00:00Z');

    const glass = await click(ALICE, BREAK_GLASS_ACTION);
    expect(glass.opened).toBeUndefined();
    expect(ephemerals()).toEqual([expect.stringContaining('production is not frozen')]);

    await click(ALICE, APPROVE_ACTION);

    expect(successes()).toEqual([expect.objectContaining({ decision: 'approved', by: ALICE.id })]);
    expect(successes()[0]).not.toHaveProperty('breakGlass');
    expect((await store.getApproval(approvalId))?.status).toBe('approved');
  });
});
