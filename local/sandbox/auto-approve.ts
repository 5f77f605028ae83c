/**
 * `--approve auto|reject`: as soon as a run awaits approval and its Slack message is there, the
 * sandbox clicks Approve (or Reject) as its approver — through the console's click endpoint, which
 * signs the request like Slack, so the decision takes the production path. Reject opens the reason
 * modal; the sandbox then submits it with AUTO_REJECT_REASON.
 */
import { manualRollbackStateNames, stageStateNames } from '../../infra/constructs/promotion-state-machine.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../shared/adapters/slack/approval-message.js';
import type { Config } from '../../shared/config/schema.js';
import type { SlackServer } from '../stand-ins/slack/server.js';
import type { LocalRuntime } from './runtime.js';
import { SANDBOX_CHANNEL, SANDBOX_USERS } from './sandbox-config.js';

/** The reason `--approve reject` gives in the modal. */
export const AUTO_REJECT_REASON = 'rejected by the sandbox (--approve reject)';

/** How long to look for the approval message: 600 × 100 ms. */
const ATTEMPTS = 600;
const PAUSE_MS = 100;

/** Clicks every approval the runs ask for; returns the unsubscribe. */
export function approveWhenAsked(options: {
  readonly decision: 'approve' | 'reject';
  readonly runtime: LocalRuntime;
  readonly config: Config;
  readonly slack: SlackServer;
  /** The sandbox server's URL (its `/api/slack/click` plays Slack). */
  readonly serverUrl: string;
  readonly write: (line: string) => void;
}): () => void {
  const { runtime, config, slack, write } = options;
  const actionId = options.decision === 'reject' ? REJECT_ACTION : APPROVE_ACTION;

  const clickWhenAsked = async (execution: string, stage: string): Promise<void> => {
    for (let i = 0; i < ATTEMPTS; i++) {
      const approvalId = await runtime.store.approvalIdFor(execution, stage);
      const message = approvalId
        ? slack
            .messages(SANDBOX_CHANNEL)
            .find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${approvalId}"`))
        : undefined;
      if (message) {
        const response = await fetch(`${options.serverUrl}/api/slack/click`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            ts: message.ts,
            actionId,
            value: approvalId,
            user: SANDBOX_USERS.approver.id,
          }),
        });
        const answer = (await response.json()) as {
          status?: number;
          view?: { id: string; inputs: Array<{ actionId: string }> };
        };
        if (options.decision === 'approve' || !answer.view) {
          write(
            `  ${options.decision === 'reject' ? 'rejected' : 'approved'} as ${SANDBOX_USERS.approver.name}: signed block_actions → HTTP ${answer.status ?? response.status}`,
          );
          return;
        }
        // Reject opened the reason modal: submit it, as the approver would.
        const submitted = await fetch(`${options.serverUrl}/api/slack/view`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            viewId: answer.view.id,
            user: SANDBOX_USERS.approver.id,
            inputs: Object.fromEntries(answer.view.inputs.map((i) => [i.actionId, AUTO_REJECT_REASON])),
          }),
        });
        const result = (await submitted.json()) as { status?: number };
        write(
          `  rejected as ${SANDBOX_USERS.approver.name}: signed block_actions, then the reason modal's view_submission → HTTP ${result.status ?? submitted.status}`,
        );
        return;
      }
      await new Promise((done) => setTimeout(done, PAUSE_MS));
    }
    write(`  ! no approval message for ${execution} appeared in Slack`);
  };

  // A promotion's approval and a manual rollback's (`shiplane rollback --sandbox`) alike.
  const awaiting = new Map(
    config.stages.flatMap((s) => [
      [stageStateNames(s.name).awaitApproval, s.name],
      [manualRollbackStateNames(s.name).awaitApproval, s.name],
    ]),
  );
  return runtime.engine.on('event', ({ name, event }) => {
    const state = event.stateEnteredEventDetails?.name;
    const stage = state && event.type?.endsWith('StateEntered') ? awaiting.get(state) : undefined;
    if (stage) void clickWhenAsked(name, stage);
  });
}
