/**
 * The modal Reject opens: it asks why, in one required text field, and is submitted back to the
 * interaction endpoint as a `view_submission`. Its `private_metadata` says which approval (and where
 * the click was) but is only a pointer: on submission the endpoint re-reads the approval and checks
 * again that it is pending and that the person submitting may decide it.
 */

import * as z from '../../contracts/zod.js';
import type { ApprovalFacts } from '../../domain/approval.js';
import {
  type ChatNotice,
  REASON_MAX_LENGTH,
  type ReasonDialogTarget,
  type ReasonRefusal,
} from '../../ports/chat.js';
import { mrkdwn, plain } from './approval-message.js';
import { escapeSlackText } from './slack-text.js';

export const REASON_CALLBACK_ID = 'shiplane_reject_reason';
export const REASON_BLOCK_ID = 'shiplane_reason';
export const REASON_ACTION_ID = 'shiplane_reason_input';

/** Slack's limits for a modal's fields. */
const MODAL_LIMITS = { title: 24, button: 24, privateMetadata: 3_000, sectionText: 3_000, label: 2_000 };

/** What the modal carries back: the dialog's target, field names kept short and explicit. */
export const reasonMetadataSchema = z.strictObject({
  approvalId: z.string().check(z.minLength(1), z.maxLength(200)),
  channel: z.optional(z.string().check(z.regex(/^[CGD][A-Z0-9]+$/, 'expected a Slack channel id'))),
  threadTs: z.optional(z.string().check(z.regex(/^\d+\.\d+$/, 'expected a Slack ts'))),
  messageTs: z.optional(z.string().check(z.regex(/^\d+\.\d+$/, 'expected a Slack ts'))),
  purpose: z.optional(z.literal('break-glass')),
});

/** The `view` argument of `views.open` for rejecting the approval `facts` describe. */
export function reasonModal(
  target: ReasonDialogTarget,
  facts: ApprovalFacts,
  freeze?: string,
): Record<string, unknown> {
  const metadata = JSON.stringify({
    approvalId: target.approvalId,
    ...(target.purpose ? { purpose: target.purpose } : {}),
    ...(target.channel ? { channel: target.channel } : {}),
    ...(target.threadTs ? { threadTs: target.threadTs } : {}),
    ...(target.messageTs ? { messageTs: target.messageTs } : {}),
  });
  if (metadata.length > MODAL_LIMITS.privateMetadata) {
    throw new Error(
      `the reason dialog's private_metadata is over ${MODAL_LIMITS.privateMetadata} characters`,
    );
  }
  const esc = escapeSlackText;
  const what = facts.rollback
    ? `the rollback of *${esc(facts.app)}* in *${esc(facts.stage)}* to \`${esc(facts.tag)}\``
    : `*${esc(facts.app)}* \`${esc(facts.tag)}\` to *${esc(facts.stage)}*`;
  if (target.purpose === 'break-glass') return breakGlassModal(metadata, what, freeze);
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK_ID,
    private_metadata: metadata,
    title: plain('Reject promotion', MODAL_LIMITS.title),
    submit: plain('Reject', MODAL_LIMITS.button),
    close: plain('Cancel', MODAL_LIMITS.button),
    // Closing the modal without submitting decides nothing; Slack need not tell us.
    notify_on_close: false,
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          `You are rejecting ${what}. The run ends \`rejected\`; the reason is shown in the release thread and in \`shiplane show\`.`,
          MODAL_LIMITS.sectionText,
        ),
      },
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: plain('Reason', MODAL_LIMITS.label),
        element: {
          type: 'plain_text_input',
          action_id: REASON_ACTION_ID,
          multiline: true,
          min_length: 1,
          max_length: REASON_MAX_LENGTH,
          placeholder: plain('Why this should not go out', 150),
        },
      },
    ],
  };
}

/** The same dialog for Break glass: approving during a change freeze, which needs a reason. */
function breakGlassModal(
  metadata: string,
  what: string,
  freeze: string | undefined,
): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK_ID,
    private_metadata: metadata,
    title: plain('Break glass', MODAL_LIMITS.title),
    submit: plain('Approve during freeze', MODAL_LIMITS.button),
    close: plain('Cancel', MODAL_LIMITS.button),
    notify_on_close: false,
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          `:rotating_light: ${freeze ? `${escapeSlackText(freeze)}. ` : ''}You are approving ${what} during a change freeze. Your reason is recorded with the approval and shown in the release thread.`,
          MODAL_LIMITS.sectionText,
        ),
      },
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: plain('Why it must go out now', MODAL_LIMITS.label),
        element: {
          type: 'plain_text_input',
          action_id: REASON_ACTION_ID,
          multiline: true,
          min_length: 1,
          max_length: REASON_MAX_LENGTH,
          placeholder: plain('The incident or customer need this release fixes', 150),
        },
      },
    ],
  };
}

/** The answer to a `view_submission` that keeps the modal open with `message` under the reason field. */
export function reasonErrors(message: string): Record<string, unknown> {
  return { response_action: 'errors', errors: { [REASON_BLOCK_ID]: message } };
}

/** Why the reason was not taken, as the modal shows it (plain text, at most Slack's error length). */
export function reasonRefusalText(refusal: ReasonRefusal, notice: (n: ChatNotice) => string): string {
  switch (refusal.kind) {
    case 'empty':
      return refusal.purpose === 'break-glass'
        ? 'Say why this must go out during the freeze: the reason is required.'
        : 'Say why you reject it: the reason is required.';
    case 'too-long':
      return `Keep the reason to ${refusal.max} characters.`;
    case 'retry':
      return notice(refusal.notice);
  }
}
