import {
  GetExecutionHistoryCommand,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blockActionsPayload,
  type Clicker,
  signedInteraction,
  viewSubmissionPayload,
} from '../../../../local/stand-ins/slack/interactions.js';
import {
  type OpenedView,
  type SlackServer,
  type StoredMessage,
  startSlackServer,
} from '../../../../local/stand-ins/slack/server.js';
import {
  stepFunctionsRecentRunEvents,
  stepFunctionsTaskTokens,
} from '../../../../shared/adapters/aws/task-tokens.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../../../shared/adapters/slack/approval-message.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { slackInteractions } from '../../../../shared/adapters/slack/interactions.js';
import { REASON_ACTION_ID } from '../../../../shared/adapters/slack/reason-modal.js';
import { signSlackRequest } from '../../../../shared/adapters/slack/signature.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
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
  sfn.on(SendTaskFailureCommand).resolves({});
  slack = await startSlackServer({
    botToken: BOT_TOKEN,
    channels: [CHANNEL],
    userGroups: { [GROUP]: [BOB.id] },
  });
});
afterEach(async () => {
  await slack.close();
});

/** A run waiting for approval: the approval message is in the channel, the token in the store. */
async function waitingRun() {
  const clock = manualClock('2026-11-26T14:00:00Z');
  const reporter = recordingReporter();
  const store = approvalsTable.store();
  const api = slackWebApi({
    apiUrl: slack.apiUrl,
    token: async () => BOT_TOKEN,
    retries: 0,
    timeoutMs: 1_500,
  });
  const request = approvalRequest();
  const { approvalId } = await requestApproval(request, {
    store,
    chat: slackChat(api),
    ...threadSettings(testConfig(slack.apiUrl)),
    now: clock.now,
    reporter,
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
  };
  const click = (
    user: Clicker,
    actionId = APPROVE_ACTION,
    options: { secret?: string; base64?: boolean } = {},
  ) => {
    // Built from the message as first posted: a second click comes from a client showing the buttons.
    // The trigger_id is one the stand-in knows, so a Reject click can open the reason modal.
    const triggerId = slack.issueTrigger(user.id);
    const payload = blockActionsPayload({ message, actionId, user, now: clock.now(), triggerId });
    return signedInteraction(payload, options.secret ?? SIGNING_SECRET, {
      now: clock.now(),
      ...(options.base64 ? { base64: true } : {}),
    });
  };
  /** Clicks Reject as `user`: the endpoint's answer and the modal it opened (if it did). */
  const clickReject = async (user: Clicker, issuedAt?: number) => {
    const triggerId = slack.issueTrigger(user.id, issuedAt);
    const payload = blockActionsPayload({
      message,
      actionId: REJECT_ACTION,
      user,
      now: clock.now(),
      triggerId,
    });
    const response = await handleInteraction(
      signedInteraction(payload, SIGNING_SECRET, { now: clock.now() }),
      deps,
    );
    return { response, opened: slack.viewOpenedBy(triggerId) };
  };
  /** The signed `view_submission` of the reason modal `opened`, as `user` typed `reason`. */
  const submission = (
    opened: OpenedView,
    user: Clicker,
    reason: string,
    options: { secret?: string; signedAt?: Date } = {},
  ) =>
    signedInteraction(
      viewSubmissionPayload({ opened, user, inputs: { [REASON_ACTION_ID]: reason }, now: clock.now() }),
      options.secret ?? SIGNING_SECRET,
      { now: options.signedAt ?? clock.now() },
    );
  /** Rejects through the modal: click Reject, then submit `reason`; the submission's answer. */
  const reject = async (user: Clicker, reason = 'smoke tests fail on staging') => {
    const { opened } = await clickReject(user);
    if (!opened) throw new Error(`no reason modal opened for ${user.name}`);
    return handleInteraction(submission(opened, user, reason), deps);
  };
  const approvalMessage = () => slack.message(CHANNEL, message.ts) as StoredMessage;
  return {
    clock,
    reporter,
    store,
    deps,
    request,
    approvalId,
    message,
    click,
    clickReject,
    submission,
    reject,
    approvalMessage,
  };
}

const hasButtons = (message: StoredMessage) => JSON.stringify(message.blocks).includes('"actions"');
const ephemeralTexts = () => slack.ephemerals().map((e) => `${e.user}: ${e.text}`);

describe('handleInteraction: a click on Approve or Reject', () => {
  it('approves for a listed approver: one SendTaskSuccess, the message says who and when, buttons gone', async () => {
    const run = await waitingRun();
    const response = await handleInteraction(run.click(ALICE), run.deps);
    expect(response).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '',
    });
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.taskToken).toBe(run.request.taskToken);
    expect(JSON.parse(calls[0]?.args[0].input.output ?? '')).toMatchObject({
      decision: 'approved',
      approvalId: run.approvalId,
      by: ALICE.id,
      byName: 'alice',
      via: 'slack',
      at: '2026-11-26T14:02:00.000Z',
    });
    const updated = run.approvalMessage();
    expect(hasButtons(updated)).toBe(false);
    expect(JSON.stringify(updated.blocks)).toContain(
      `Approved by <@${ALICE.id}> at <!date^1795701720^{time}|14:02 UTC>`,
    );
    expect(updated.edited).toBeDefined();
    expect(slack.ephemerals()).toEqual([]);
  });

  it('approves for a member of a listed user group', async () => {
    const run = await waitingRun();
    await handleInteraction(run.click(BOB), run.deps);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect((await run.store.getApproval(run.approvalId))?.decision).toMatchObject({ by: BOB.id });
  });

  it('rejects with Shiplane.Rejected and the reason given in the modal', async () => {
    const run = await waitingRun();
    const answer = await run.reject(ALICE, 'smoke tests fail on staging');
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      taskToken: run.request.taskToken,
      error: 'Shiplane.Rejected',
      cause: `Rejected by alice (${ALICE.id}) via slack: smoke tests fail on staging`,
    });
    expect(JSON.stringify(run.approvalMessage().blocks)).toContain(
      `Rejected by <@${ALICE.id}> at <!date^1795701720^{time}|14:02 UTC>: smoke tests fail on staging`,
    );
    expect((await run.store.getApproval(run.approvalId))?.decision).toMatchObject({
      status: 'rejected',
      by: ALICE.id,
      reason: 'smoke tests fail on staging',
    });
  });

  it('tells someone who is not an approver so, and nothing else happens', async () => {
    const run = await waitingRun();
    const response = await handleInteraction(run.click(MALLORY), run.deps);
    expect(response.statusCode).toBe(200);
    expect(ephemeralTexts()).toEqual([
      `${MALLORY.id}: You are not an approver for production. Nothing changed.`,
    ]);
    expect(slack.ephemerals()[0]?.thread_ts).toBe(run.message.thread_ts);
    expect(sfn.calls()).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
    expect(hasButtons(run.approvalMessage())).toBe(true);
  });

  it('refuses an approver the config no longer lists, though the request listed them, by click or by reason', async () => {
    const run = await waitingRun();
    // Since the request, the deployed config dropped Alice: production lists the group (Bob) only.
    const deps: InteractionDeps = {
      ...run.deps,
      currentApprovers: (stage) => (stage === 'production' ? [GROUP] : undefined),
    };

    const clicked = await handleInteraction(run.click(ALICE), deps);
    const rejected = await handleInteraction(run.click(ALICE, REJECT_ACTION), deps);

    expect([clicked.statusCode, rejected.statusCode]).toEqual([200, 200]);
    expect(slack.views()).toEqual([]);
    expect(ephemeralTexts()).toEqual([
      `${ALICE.id}: You are not an approver for production. Nothing changed.`,
      `${ALICE.id}: You are not an approver for production. Nothing changed.`,
    ]);
    expect(sfn.calls()).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
    // Bob, in both lists, still decides.
    expect((await handleInteraction(run.click(BOB), deps)).statusCode).toBe(200);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('approved');
  });

  it('refuses everyone for a stage the config no longer asks approval for', async () => {
    const run = await waitingRun();
    const deps: InteractionDeps = { ...run.deps, currentApprovers: () => undefined };

    await handleInteraction(run.click(ALICE), deps);

    expect(sfn.calls()).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
  });

  it('escapes the stage name in what it tells someone who is not an approver', async () => {
    const run = await waitingRun();
    const store = {
      ...run.store,
      getApproval: async (id: string) => {
        const record = await run.store.getApproval(id);
        return record && { ...record, stage: '<!channel> &amp;' };
      },
    };
    await handleInteraction(run.click(MALLORY), { ...run.deps, store });
    expect(ephemeralTexts()).toEqual([
      `${MALLORY.id}: You are not an approver for &lt;!channel&gt; &amp;amp;. Nothing changed.`,
    ]);
  });

  it('accepts a base64-encoded body (API Gateway may encode form posts)', async () => {
    const run = await waitingRun();
    await handleInteraction(run.click(ALICE, APPROVE_ACTION, { base64: true }), run.deps);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('decides once when two clicks race: exactly one SendTaskSuccess, the other gets told', async () => {
    const run = await waitingRun();
    const responses = await Promise.all([
      handleInteraction(run.click(ALICE), run.deps),
      handleInteraction(run.click(BOB), run.deps),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    const decidedBy = (await run.store.getApproval(run.approvalId))?.decision?.by;
    const loser = decidedBy === ALICE.id ? BOB : ALICE;
    expect(ephemeralTexts()).toEqual([
      expect.stringMatching(
        new RegExp(`^${loser.id}: This promotion was already approved by <@${decidedBy}>`),
      ),
    ]);
  });

  it('decides nothing more when the same signed submission is replayed inside the five minutes', async () => {
    const run = await waitingRun();
    const { opened } = await run.clickReject(ALICE);
    const signed = run.submission(opened as OpenedView, ALICE, 'wrong digest');
    await handleInteraction(signed, run.deps);
    run.clock.advance(60);

    expect((await handleInteraction(signed, run.deps)).statusCode).toBe(200);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.decision).toMatchObject({
      status: 'rejected',
      by: ALICE.id,
    });
  });

  it('answers a second click with who decided first', async () => {
    const run = await waitingRun();
    await handleInteraction(run.click(ALICE), run.deps);
    run.clock.advance(60);
    await handleInteraction(run.click(BOB, REJECT_ACTION), run.deps);
    expect(sfn.calls()).toHaveLength(1);
    expect(ephemeralTexts()).toEqual([
      `${BOB.id}: This promotion was already approved by <@${ALICE.id}> <!date^1795701720^{date_short_pretty} at {time}|2026-11-26 14:02 UTC>. Nothing changed.`,
    ]);
  });

  it('says the approval expired when Step Functions reports TaskTimedOut, and marks the message', async () => {
    const run = await waitingRun();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    await handleInteraction(run.click(ALICE), run.deps);
    expect(ephemeralTexts()).toEqual([
      expect.stringMatching(new RegExp(`^${ALICE.id}: This approval expired .*nothing was decided`)),
    ]);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('expired');
    expect(hasButtons(run.approvalMessage())).toBe(false);
    expect(JSON.stringify(run.approvalMessage().blocks)).toContain(':hourglass: Expired');
  });

  describe('when Step Functions answers ambiguously', () => {
    const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion';
    const taskTimedOut = () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
    const sdkTimeout = () => Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
    /** The run's data as a state after the approval sees it, carrying what SendTaskSuccess delivered. */
    const pastApproval = (output: string) => [
      { id: 30, type: 'LambdaFunctionScheduled', timestamp: new Date('2026-11-26T14:02:01Z') },
      {
        id: 29,
        type: 'TaskStateEntered',
        timestamp: new Date('2026-11-26T14:02:01Z'),
        stateEnteredEventDetails: {
          name: 'Production · Notify approved',
          input: JSON.stringify({ release: {}, stages: { production: { approval: JSON.parse(output) } } }),
        },
      },
    ];
    async function ambiguousRun() {
      const run = await waitingRun();
      const deps: InteractionDeps = {
        ...run.deps,
        runEvents: stepFunctionsRecentRunEvents(new SFNClient({}), MACHINE),
      };
      return { ...run, deps };
    }

    it('records and reports the approval the run received when the retry of a timed-out SendTaskSuccess hears TaskTimedOut', async () => {
      // Prepare: the SDK's first attempt timed out after it landed; its retry heard TaskTimedOut.
      const run = await ambiguousRun();
      sfn.on(SendTaskSuccessCommand).rejects(taskTimedOut());
      sfn.on(GetExecutionHistoryCommand).callsFake(() => ({
        events: pastApproval(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? ''),
      }));

      // Act
      const response = await handleInteraction(run.click(ALICE), run.deps);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toEqual({
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:ShiplanePromotion:${run.request.execution}`,
        reverseOrder: true,
        maxResults: 100,
        includeExecutionData: true,
      });
      expect(await run.store.getApproval(run.approvalId)).toMatchObject({
        status: 'approved',
        decision: { status: 'approved', by: ALICE.id, via: 'slack' },
      });
      expect(hasButtons(run.approvalMessage())).toBe(false);
      expect(JSON.stringify(run.approvalMessage().blocks)).toContain(`Approved by <@${ALICE.id}>`);
      expect(slack.ephemerals()).toEqual([]);
    });

    it('tells a later clicker who really decided when an earlier click that looked lost had landed', async () => {
      // Prepare: Alice's SendTaskSuccess timed out twice; the history could not be read then either.
      const run = await ambiguousRun();
      sfn.on(SendTaskSuccessCommand).rejects(sdkTimeout());
      sfn.on(GetExecutionHistoryCommand).rejectsOnce(sdkTimeout());
      await handleInteraction(run.click(ALICE), run.deps);
      expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
      const landed = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '';

      // Act: Bob rejects a minute later; the token is closed because Alice's approval landed.
      run.clock.advance(60);
      sfn.on(SendTaskFailureCommand).rejects(new InvalidToken({ message: 'Invalid Token', $metadata: {} }));
      sfn.on(GetExecutionHistoryCommand).resolves({ events: pastApproval(landed) as never });
      const { opened } = await run.clickReject(BOB);
      await handleInteraction(run.submission(opened as OpenedView, BOB, 'not this one'), run.deps);

      // Assess: the table says what the run did: approved by Alice, at her click's time.
      expect(await run.store.getApproval(run.approvalId)).toMatchObject({
        status: 'approved',
        decision: { by: ALICE.id, at: JSON.parse(landed).at },
      });
      expect(ephemeralTexts().at(-1)).toMatch(
        new RegExp(`^${BOB.id}: This promotion was already approved by <@${ALICE.id}>.*Nothing changed\\.$`),
      );
      expect(JSON.stringify(run.approvalMessage().blocks)).toContain(`Approved by <@${ALICE.id}>`);
    });

    it('says expired when the run shows the approval task timed out', async () => {
      const run = await ambiguousRun();
      sfn.on(SendTaskSuccessCommand).rejects(taskTimedOut());
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          {
            id: 40,
            type: 'TaskStateEntered',
            timestamp: new Date('2026-11-26T14:02:00Z'),
            stateEnteredEventDetails: {
              name: 'Production · Notify expired',
              input: JSON.stringify({
                stages: { production: {} },
                error: { Error: 'States.Timeout', Cause: '' },
              }),
            },
          },
        ],
      });
      await handleInteraction(run.click(ALICE), run.deps);
      expect((await run.store.getApproval(run.approvalId))?.status).toBe('expired');
      expect(ephemeralTexts()).toEqual([
        expect.stringMatching(new RegExp(`^${ALICE.id}: This approval expired .*nothing was decided`)),
      ]);
    });

    it('records nothing it cannot confirm before Slack needs its answer, and says so', async () => {
      // The click has used its whole budget by the time SendTaskSuccess answers.
      const run = await ambiguousRun();
      let elapsed = 0;
      sfn.on(SendTaskSuccessCommand).callsFake(() => {
        elapsed = 2_300;
        throw taskTimedOut();
      });
      await handleInteraction(run.click(ALICE), { ...run.deps, elapsedClock: () => elapsed });
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
      expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
      expect(ephemeralTexts()).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${ALICE.id}: The run no longer waits on this approval, and Shiplane could not confirm`,
          ),
        ),
      ]);
    });
  });

  it('says the approval expired for a click after its deadline, without calling Step Functions', async () => {
    const run = await waitingRun();
    run.clock.advance(run.request.timeoutSeconds);
    await handleInteraction(run.click(ALICE), run.deps);
    expect(sfn.calls()).toHaveLength(0);
    expect(ephemeralTexts()[0]).toContain('This approval expired');
  });

  it('says a superseded approval was superseded', async () => {
    const run = await waitingRun();
    await run.store.closeApproval(run.approvalId, ['pending'], 'superseded', '2026-11-26T14:01:00Z');
    await handleInteraction(run.click(ALICE), run.deps);
    expect(sfn.calls()).toHaveLength(0);
    expect(ephemeralTexts()[0]).toContain('superseded by a newer one');
  });

  it('still decides when Slack is down after the click; the run is told', async () => {
    const run = await waitingRun();
    const click = run.click(ALICE);
    slack.setDown(true);
    const response = await handleInteraction(click, run.deps);
    expect(response.statusCode).toBe(200);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(run.reporter.counts).toContain('SlackNotificationFailed');
  });

  it('ignores interactions that are not button clicks, and refuses a signed body that is not a payload', async () => {
    const run = await waitingRun();
    const viewClosed = signedInteraction({ type: 'view_closed', view: {} }, SIGNING_SECRET, {
      now: run.clock.now(),
    });
    expect((await handleInteraction(viewClosed, run.deps)).statusCode).toBe(200);
    // A submission Slack signed but that is not the reason modal's shape is refused outright.
    const oddSubmission = signedInteraction({ type: 'view_submission', view: {} }, SIGNING_SECRET, {
      now: run.clock.now(),
    });
    expect((await handleInteraction(oddSubmission, run.deps)).statusCode).toBe(400);
    const timestamp = String(Math.floor(run.clock.now().getTime() / 1000));
    const broken = 'payload=%7Bbroken';
    const signed = {
      headers: {
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signSlackRequest(SIGNING_SECRET, timestamp, broken),
      },
      body: broken,
      isBase64Encoded: false,
    };
    expect((await handleInteraction(signed, run.deps)).statusCode).toBe(400);
    expect(sfn.calls()).toHaveLength(0);
    expect(slack.ephemerals()).toEqual([]);
  });
});

describe('handleInteraction: Reject asks for the reason in a modal', () => {
  const pending = async (run: Awaited<ReturnType<typeof waitingRun>>) => {
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
  };
  const errorsAnswer = (message: string) => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ response_action: 'errors', errors: { shiplane_reason: message } }),
  });

  it("opens the modal with views.open and the click's trigger, and decides nothing yet", async () => {
    const run = await waitingRun();
    const { response, opened } = await run.clickReject(ALICE);
    expect(response).toMatchObject({ statusCode: 200, body: '' });
    expect(opened).toBeDefined();
    expect(opened?.user).toBe(ALICE.id);
    expect(opened?.view).toMatchObject({
      type: 'modal',
      callback_id: 'shiplane_reject_reason',
      title: { type: 'plain_text', text: 'Reject promotion' },
      submit: { type: 'plain_text', text: 'Reject' },
    });
    expect(JSON.parse(String(opened?.view.private_metadata))).toEqual({
      approvalId: run.approvalId,
      channel: CHANNEL,
      threadTs: run.message.thread_ts,
      messageTs: run.message.ts,
    });
    const input = ((opened?.view.blocks ?? []) as Array<{ type: string; element?: unknown }>).find(
      (b) => b.type === 'input',
    );
    expect(input?.element).toMatchObject({ type: 'plain_text_input', min_length: 1, max_length: 500 });
    await pending(run);
    expect(hasButtons(run.approvalMessage())).toBe(true);
    expect(slack.ephemerals()).toEqual([]);
  });

  it('keeps the modal open for an empty or too long reason, and decides nothing', async () => {
    const run = await waitingRun();
    const { opened } = await run.clickReject(ALICE);
    const modal = opened as OpenedView;
    expect(await handleInteraction(run.submission(modal, ALICE, '  \n '), run.deps)).toEqual(
      errorsAnswer('Say why you reject it: the reason is required.'),
    );
    expect(await handleInteraction(run.submission(modal, ALICE, 'x'.repeat(501)), run.deps)).toEqual(
      errorsAnswer('Keep the reason to 500 characters.'),
    );
    await pending(run);
    // Then a real reason goes through on the same modal.
    expect((await handleInteraction(run.submission(modal, ALICE, 'x'.repeat(500)), run.deps)).body).toBe('');
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
  });

  it('refuses a submission from someone who is not an approver, and opens no modal for them', async () => {
    const run = await waitingRun();
    const mallorysClick = await run.clickReject(MALLORY);
    expect(mallorysClick.opened).toBeUndefined();
    // A submission by Mallory of a modal opened for Alice: the user is authorized again.
    const { opened } = await run.clickReject(ALICE);
    const answer = await handleInteraction(run.submission(opened as OpenedView, MALLORY, 'no'), run.deps);
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    expect(ephemeralTexts()).toEqual([
      `${MALLORY.id}: You are not an approver for production. Nothing changed.`,
      `${MALLORY.id}: You are not an approver for production. Nothing changed.`,
    ]);
    await pending(run);
  });

  it('tells whoever submits after another approver decided that nothing changed', async () => {
    const run = await waitingRun();
    const { opened } = await run.clickReject(ALICE);
    await handleInteraction(run.click(BOB), run.deps);
    run.clock.advance(30);
    const answer = await handleInteraction(run.submission(opened as OpenedView, ALICE, 'too late'), run.deps);
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect((await run.store.getApproval(run.approvalId))?.decision).toMatchObject({
      status: 'approved',
      by: BOB.id,
    });
    expect(ephemeralTexts().at(-1)).toMatch(
      new RegExp(`^${ALICE.id}: This promotion was already approved by <@${BOB.id}>.*Nothing changed\\.$`),
    );
  });

  it('opens no modal for an approval already decided; says so instead', async () => {
    const run = await waitingRun();
    await handleInteraction(run.click(ALICE), run.deps);
    const { opened } = await run.clickReject(BOB);
    expect(opened).toBeUndefined();
    expect(ephemeralTexts().at(-1)).toMatch(new RegExp(`^${BOB.id}: This promotion was already approved`));
  });

  it('re-checks the approval the modal points to: another approval, or none, decides nothing', async () => {
    const run = await waitingRun();
    // A second approval Alice may not decide (only Bob may).
    const other = await requestApproval(
      approvalRequest({
        execution: 'frontend-v9.9.9-0123456789ab',
        approvers: [BOB.id],
        taskToken: 'other-task-token',
        release: { ...approvalRequest().release, app: 'frontend', tag: 'v9.9.9' },
      }),
      {
        store: run.store,
        chat: run.deps.chat,
        ...threadSettings(testConfig(slack.apiUrl)),
        now: run.clock.now,
        reporter: run.reporter,
      },
    );
    const { opened } = await run.clickReject(ALICE);
    const pointing = (approvalId: string): OpenedView => {
      const modal = opened as OpenedView;
      const metadata = { ...JSON.parse(String(modal.view.private_metadata)), approvalId };
      return { ...modal, view: { ...modal.view, private_metadata: JSON.stringify(metadata) } };
    };
    await handleInteraction(run.submission(pointing(other.approvalId), ALICE, 'not mine'), run.deps);
    await handleInteraction(run.submission(pointing('a-approval-that-does-not-exist'), ALICE, 'x'), run.deps);
    expect(ephemeralTexts()).toEqual([
      `${ALICE.id}: You are not an approver for production. Nothing changed.`,
      `${ALICE.id}: Shiplane does not know this approval (it may be too old); nothing was decided.`,
    ]);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect((await run.store.getApproval(other.approvalId))?.status).toBe('pending');
    await pending(run);
  });

  it('refuses a modal submission with a bad signature or a stale timestamp', async () => {
    const run = await waitingRun();
    const { opened } = await run.clickReject(ALICE);
    const modal = opened as OpenedView;
    const forged = run.submission(modal, ALICE, 'forged', { secret: 'not-the-signing-secret' });
    const stale = run.submission(modal, ALICE, 'stale', {
      signedAt: new Date(run.clock.now().getTime() - 301_000),
    });
    for (const request of [forged, stale]) {
      expect(await handleInteraction(request, run.deps)).toMatchObject({ statusCode: 401, body: '' });
    }
    expect(run.reporter.counts.filter((c) => c === 'SlackSignatureRejected')).toHaveLength(2);
    await pending(run);
  });

  it('tells the clicker when the trigger expired before views.open, and decides nothing', async () => {
    const run = await waitingRun();
    const { response, opened } = await run.clickReject(ALICE, Date.now() - 4_000);
    expect(response).toMatchObject({ statusCode: 200, body: '' });
    expect(opened).toBeUndefined();
    expect(slack.calls().find((c) => c.method === 'views.open')).toMatchObject({
      ok: false,
      error: 'expired_trigger_id',
    });
    expect(ephemeralTexts()).toEqual([
      `${ALICE.id}: Shiplane could not open the dialog that asks for the reason of your rejection, so nothing was decided. Please click Reject again.`,
    ]);
    await pending(run);
  });

  it('keeps the modal open with the reason typed when Step Functions cannot be reached', async () => {
    const run = await waitingRun();
    sfn
      .on(SendTaskFailureCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const { opened } = await run.clickReject(ALICE);
    const answer = await handleInteraction(run.submission(opened as OpenedView, ALICE, 'later'), run.deps);
    expect(JSON.parse(answer.body)).toEqual({
      response_action: 'errors',
      errors: {
        shiplane_reason:
          'Shiplane could not reach AWS Step Functions to record your decision, so nothing was decided. Please try again.',
      },
    });
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
  });
});

describe('handleInteraction: requests not signed by Slack', () => {
  async function expectNothingChanged(
    run: Awaited<ReturnType<typeof waitingRun>>,
    request: Parameters<typeof handleInteraction>[0],
  ) {
    const callsBefore = slack.calls().length;
    const response = await handleInteraction(request, run.deps);
    expect(response).toMatchObject({ statusCode: 401, body: '' });
    expect(sfn.calls()).toHaveLength(0);
    expect(slack.calls()).toHaveLength(callsBefore);
    expect((await run.store.getApproval(run.approvalId))?.status).toBe('pending');
    const line = run.reporter.lines.at(-1);
    expect(line).toMatchObject({
      level: 'warn',
      message: 'refused an interaction request that is not signed by Slack',
    });
    expect(JSON.stringify(line)).not.toContain('payload');
    expect(JSON.stringify(line)).not.toContain(run.approvalId);
    expect(run.reporter.counts).toContain('SlackSignatureRejected');
    return line?.attributes.reason;
  }

  it('refuses a forged request signed with another secret', async () => {
    const run = await waitingRun();
    expect(
      await expectNothingChanged(run, run.click(ALICE, APPROVE_ACTION, { secret: 'guessed-secret' })),
    ).toBe('mismatch');
  });

  it('refuses a replayed request older than five minutes', async () => {
    const run = await waitingRun();
    const request = run.click(ALICE);
    run.clock.advance(301);
    expect(await expectNothingChanged(run, request)).toBe('stale-timestamp');
  });

  it('refuses a request from the future', async () => {
    const run = await waitingRun();
    const request = run.click(ALICE);
    run.clock.advance(-301);
    expect(await expectNothingChanged(run, request)).toBe('future-timestamp');
  });

  it('refuses a request whose body was changed after signing', async () => {
    const run = await waitingRun();
    const request = run.click(MALLORY);
    const tampered = request.body.replace(encodeURIComponent(MALLORY.id), encodeURIComponent(ALICE.id));
    expect(tampered).not.toBe(request.body);
    expect(await expectNothingChanged(run, { ...request, body: tampered })).toBe('mismatch');
  });

  it('refuses a request without the signature headers', async () => {
    const run = await waitingRun();
    const request = run.click(ALICE);
    expect(
      await expectNothingChanged(run, {
        ...request,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ).toBe('missing-signature');
  });
});
