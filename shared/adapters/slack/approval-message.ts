/**
 * The approval message in Slack: what a person reads before moving a release to production, and
 * what it becomes once decided, expired or superseded (the facts and states are domain/approval.ts).
 * Pure data builders; the first half is the Block Kit subset Shiplane sends with Slack's documented
 * limits (kept here, not @slack/types, so the builders stay plain data and every message can be
 * checked against the limits in tests).
 */
import type { ApprovalFacts, ApprovalState, ImageFacts } from '../../domain/approval.js';
import { clip } from '../../domain/text.js';
import { code, escapeSlackText, link, mention, slackDate } from './slack-text.js';

export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}
export interface Mrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
}
export interface ConfirmDialog {
  readonly title: PlainText;
  readonly text: PlainText;
  readonly confirm: PlainText;
  readonly deny: PlainText;
  readonly style?: 'primary' | 'danger';
}
export interface ButtonElement {
  readonly type: 'button';
  readonly action_id: string;
  readonly text: PlainText;
  readonly value: string;
  readonly style?: 'primary' | 'danger';
  readonly confirm?: ConfirmDialog;
}
export type SlackBlock =
  | { readonly type: 'header'; readonly block_id?: string; readonly text: PlainText }
  | {
      readonly type: 'section';
      readonly block_id?: string;
      readonly text?: Mrkdwn;
      readonly fields?: readonly Mrkdwn[];
    }
  | { readonly type: 'context'; readonly block_id?: string; readonly elements: readonly Mrkdwn[] }
  | { readonly type: 'actions'; readonly block_id?: string; readonly elements: readonly ButtonElement[] }
  | { readonly type: 'divider'; readonly block_id?: string };

/** A message: `text` is the notification / fallback text, `blocks` what people see. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Slack's documented limits for the fields Shiplane fills in. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  messageText: 40_000,
  headerText: 150,
  sectionText: 3_000,
  sectionField: 2_000,
  sectionFields: 10,
  contextElements: 10,
  contextText: 3_000,
  actionsElements: 25,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

/** A plain_text object; `text` is Slack text (values in it escaped with `escapeSlackText`). */
export const plain = (text: string, max: number): PlainText => ({
  type: 'plain_text',
  text: clip(text, max),
  emoji: true,
});
/** A mrkdwn object; `text` is Slack text (values in it escaped with `escapeSlackText`). */
export const mrkdwn = (text: string, max: number): Mrkdwn => ({ type: 'mrkdwn', text: clip(text, max) });

/** `14:02 UTC` */
export function utcTime(at: Date): string {
  return `${at.toISOString().slice(11, 16)} UTC`;
}

/** `2026-11-26 14:02 UTC` */
export function utcDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 10)} ${utcTime(at)}`;
}

/** Every way a message breaks Slack's limits; empty when it is within them. */
export function slackLimitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  const L = SLACK_LIMITS;
  const check = (what: string, value: string, max: number) => {
    if (value.length > max) problems.push(`${what} has ${value.length} characters (max ${max})`);
    if (value.length === 0) problems.push(`${what} is empty`);
  };
  check('text', message.text, L.messageText);
  if (message.blocks.length > L.blocksPerMessage) {
    problems.push(`${message.blocks.length} blocks (max ${L.blocksPerMessage})`);
  }
  message.blocks.forEach((block, i) => {
    const at = `blocks[${i}]`;
    if (block.block_id !== undefined) check(`${at}.block_id`, block.block_id, L.blockId);
    switch (block.type) {
      case 'header':
        check(`${at}.text`, block.text.text, L.headerText);
        break;
      case 'section':
        if (!block.text && !block.fields) problems.push(`${at} has neither text nor fields`);
        if (block.text) check(`${at}.text`, block.text.text, L.sectionText);
        if (block.fields && block.fields.length > L.sectionFields) {
          problems.push(`${at} has ${block.fields.length} fields (max ${L.sectionFields})`);
        }
        block.fields?.forEach((field, j) => {
          check(`${at}.fields[${j}]`, field.text, L.sectionField);
        });
        break;
      case 'context':
        if (block.elements.length > L.contextElements) {
          problems.push(`${at} has ${block.elements.length} elements (max ${L.contextElements})`);
        }
        block.elements.forEach((element, j) => {
          check(`${at}.elements[${j}]`, element.text, L.contextText);
        });
        break;
      case 'actions':
        if (block.elements.length > L.actionsElements) {
          problems.push(`${at} has ${block.elements.length} elements (max ${L.actionsElements})`);
        }
        block.elements.forEach((button, j) => {
          const b = `${at}.elements[${j}]`;
          check(`${b}.action_id`, button.action_id, L.actionId);
          check(`${b}.text`, button.text.text, L.buttonText);
          check(`${b}.value`, button.value, L.buttonValue);
          if (button.confirm) {
            check(`${b}.confirm.title`, button.confirm.title.text, L.confirmTitle);
            check(`${b}.confirm.text`, button.confirm.text.text, L.confirmText);
            check(`${b}.confirm.confirm`, button.confirm.confirm.text, L.confirmButton);
            check(`${b}.confirm.deny`, button.confirm.deny.text, L.confirmButton);
          }
        });
        break;
      case 'divider':
        break;
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The approval message

/** `action_id`s of the two buttons; the interaction endpoint accepts nothing else. */
export const APPROVE_ACTION = 'shiplane_approve';
export const REJECT_ACTION = 'shiplane_reject';
/** Approve during a change freeze: opens a dialog that asks why (a stage with `freeze` windows only). */
export const BREAK_GLASS_ACTION = 'shiplane_break_glass';

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

/** `2 critical · 5 high`, `no findings`, or the scan's status when it has not completed. */
export function scanSummary(scan: NonNullable<ImageFacts['scan']>): string {
  if (scan.status !== 'COMPLETE' && Object.keys(scan.counts).length === 0) {
    return `scan ${scan.status.toLowerCase()}`;
  }
  const known = SEVERITIES.filter((s) => (scan.counts[s] ?? 0) > 0).map(
    (s) => `${scan.counts[s]} ${s.toLowerCase()}`,
  );
  const other = Object.entries(scan.counts)
    .filter(([s, n]) => !SEVERITIES.includes(s) && n > 0)
    .map(([s, n]) => `${n} ${s.toLowerCase()}`);
  const all = [...known, ...other];
  return all.length === 0 ? 'no findings' : all.join(' · ');
}

/** `123.4 MB` */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const shortSha = (sha: string) => sha.slice(0, 7);
const esc = escapeSlackText;

/** Who decided, as the message shows it: a Slack mention, or the AWS identity for the CLI. */
export function deciderLabel(state: { by: string; byName?: string; via: 'slack' | 'cli' }): string {
  return state.via === 'slack' ? mention(state.by) : `${code(state.byName ?? state.by)} (CLI)`;
}

function historyLines(facts: ApprovalFacts): string[] {
  return facts.history.map((h) => {
    const at = h.commit ? ` at ${link(h.commitUrl, code(shortSha(h.commit)))}` : '';
    if (h.healthyAt) {
      const since = new Date(h.healthyAt);
      return `• *${esc(h.stage)}* healthy since ${slackDate(since, '{date_short_pretty} {time}', utcDateTime(since))}${at}`;
    }
    return `• *${esc(h.stage)}* committed${at}`;
  });
}

function imageLine(image: ImageFacts): string | undefined {
  const parts: string[] = [];
  if (image.pushedAt) {
    const at = new Date(image.pushedAt);
    parts.push(`pushed ${slackDate(at, '{date_short_pretty} {time}', utcDateTime(at))}`);
  }
  if (image.sizeBytes !== undefined) parts.push(formatBytes(image.sizeBytes));
  if (image.scan) parts.push(`scan: ${esc(scanSummary(image.scan))}`);
  return parts.length === 0 ? undefined : `Image ${parts.join(' · ')}`;
}

function stateLine(facts: ApprovalFacts, state: Exclude<ApprovalState, { status: 'pending' }>): string {
  const at = new Date(state.at);
  const when = slackDate(at, '{date_short_pretty} at {time}', utcDateTime(at));
  switch (state.status) {
    case 'approved':
    case 'rejected': {
      const verb = state.status === 'approved' ? ':white_check_mark: Approved' : ':no_entry: Rejected';
      const time = slackDate(at, '{time}', utcTime(at));
      const reason = state.reason ? `: ${esc(state.reason)}` : '';
      const glass = state.breakGlass
        ? ` :rotating_light: break glass during the freeze (${esc(state.breakGlass.freeze)})`
        : '';
      return `${verb} by ${deciderLabel(state)} at ${time}${glass}${reason}`;
    }
    case 'expired':
      return facts.rollback
        ? `:hourglass: Expired ${when}: nobody decided in time, so *${esc(facts.stage)}* was not rolled back to ${code(facts.tag)}.`
        : `:hourglass: Expired ${when}: nobody decided in time, so ${code(facts.tag)} did not go to *${esc(facts.stage)}*.`;
    case 'superseded':
      return state.by
        ? `:leftwards_arrow_with_hook: Superseded by ${code(state.by)} ${when}: the newer release awaits approval for *${esc(facts.stage)}*, so ${code(facts.tag)} will not go there.`
        : `:leftwards_arrow_with_hook: Superseded ${when} by a newer approval request for this run.`;
  }
}

/**
 * The approval message for a state. While pending it carries Approve / Reject buttons whose value
 * is the approval id (never the task token); afterwards the buttons are gone and one line says why.
 */
export function approvalMessage(facts: ApprovalFacts, state: ApprovalState): SlackMessage {
  const L = SLACK_LIMITS;
  const { rollback } = facts;
  const version = facts.previousTag
    ? `${code(facts.previousTag)} → ${code(facts.tag)}`
    : `${code(facts.tag)} (previous version not recorded)`;
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: plain(
        rollback
          ? `Roll back ${esc(facts.app)} in ${esc(facts.stage)} to ${esc(facts.tag)}?`
          : `Promote ${esc(facts.app)} ${esc(facts.tag)} to ${esc(facts.stage)}?`,
        L.headerText,
      ),
    },
    {
      type: 'section',
      fields: [
        mrkdwn(`*App*\n${esc(facts.app)}`, L.sectionField),
        mrkdwn(`*${rollback ? 'Roll back' : 'Version'}*\n${version}`, L.sectionField),
        mrkdwn(`*Stage*\n${esc(facts.stage)}`, L.sectionField),
        mrkdwn(`*Image*\n${code(`${facts.ecrRepository}@${facts.digest}`)}`, L.sectionField),
      ],
    },
  ];
  if (rollback) {
    const by = rollback.by ? `, asked by ${code(rollback.by)}` : '';
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `:rewind: *Manual rollback*${by}: it puts *${esc(facts.stage)}* back on ${code(facts.tag)}, a tag it ran healthy before.\n*Reason*: ${esc(rollback.reason)}`,
        L.sectionText,
      ),
    });
  }
  const history = historyLines(facts);
  if (history.length > 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Where it has been*\n${history.join('\n')}`, L.sectionText),
    });
  }
  const image = facts.image ? imageLine(facts.image) : undefined;
  if (image) blocks.push({ type: 'context', elements: [mrkdwn(image, L.contextText)] });
  const deadline = new Date(facts.deadline);
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`Approvers: ${facts.approvers.map(mention).join(', ')}`, L.contextText),
      mrkdwn(
        `Expires ${slackDate(deadline, '{date_short_pretty} at {time}', utcDateTime(deadline))} · run ${code(facts.execution)}`,
        L.contextText,
      ),
    ],
  });
  if (state.status === 'pending') {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          text: plain('Approve', L.buttonText),
          style: 'primary',
          value: clip(facts.approvalId, L.buttonValue),
          confirm: {
            title: plain(`${rollback ? 'Roll back' : 'Promote to'} ${esc(facts.stage)}?`, L.confirmTitle),
            text: plain(
              rollback
                ? `${esc(facts.stage)} will be rolled back to ${esc(facts.app)} ${esc(facts.tag)}.`
                : `${esc(facts.app)} ${esc(facts.tag)} will be committed to ${esc(facts.stage)}.`,
              L.confirmText,
            ),
            confirm: plain('Approve', L.confirmButton),
            deny: plain('Cancel', L.confirmButton),
            style: 'primary',
          },
        },
        {
          type: 'button',
          action_id: REJECT_ACTION,
          text: plain('Reject', L.buttonText),
          style: 'danger',
          value: clip(facts.approvalId, L.buttonValue),
        },
        // Approve is refused while the stage is frozen; this asks for the reason that overrides it.
        ...(facts.freezable
          ? [
              {
                type: 'button' as const,
                action_id: BREAK_GLASS_ACTION,
                text: plain('Break glass', L.buttonText),
                value: clip(facts.approvalId, L.buttonValue),
              },
            ]
          : []),
      ],
    });
  } else {
    blocks.push({ type: 'section', text: mrkdwn(stateLine(facts, state), L.sectionText) });
  }
  const release = rollback
    ? `roll back ${esc(facts.app)} in ${esc(facts.stage)} ${facts.previousTag ? `${esc(facts.previousTag)} → ` : 'to '}${esc(facts.tag)}`
    : `${esc(facts.app)} ${esc(facts.tag)} → ${esc(facts.stage)}`;
  const text = {
    pending: `Approval needed: ${release}`,
    approved: `Approved: ${release}`,
    rejected: `Rejected: ${release}`,
    expired: `Approval expired: ${release}`,
    superseded: `Approval superseded: ${release}`,
  }[state.status];
  return { text: clip(text, 300), blocks };
}
