/**
 * The chat port in Slack: approval messages and release threads drawn in Block Kit
 * (approval-message.ts, release-thread-message.ts) and sent through the Web API (web-api.ts);
 * notices to one person are ephemeral messages.
 */
import type { Config } from '../../config/schema.js';
import type { Chat, ChatNotice, NotifyChat } from '../../ports/chat.js';
import type { SecretResolver } from '../aws/secrets.js';
import { approvalMessage, deciderLabel, utcDateTime } from './approval-message.js';
import { reasonModal } from './reason-modal.js';
import { type eventReply, releaseParentMessage } from './release-thread-message.js';
import { escapeSlackText, slackDate } from './slack-text.js';
import { type SlackApi, type SlackWebApiOptions, slackWebApi, withOutageBreaker } from './web-api.js';

const when = (iso: string) => {
  const at = new Date(iso);
  return slackDate(at, '{date_short_pretty} at {time}', utcDateTime(at));
};

/** What a person is told, in Slack mrkdwn. */
export function noticeText(notice: ChatNotice): string {
  switch (notice.kind) {
    case 'already-decided': {
      const { decision, status } = notice;
      if (!decision || !status) return 'This approval was already decided.';
      return `This promotion was already ${status} by ${deciderLabel(decision)} ${when(decision.at)}. Nothing changed.`;
    }
    case 'expired':
      return `This approval expired${notice.closedAt ? ` ${when(notice.closedAt)}` : ''}; nothing was decided. The run ended \`Approval expired\`.`;
    case 'superseded':
      return 'This approval request was superseded by a newer one in this thread; use that one. Nothing changed.';
    case 'unavailable':
      return 'Shiplane could not reach AWS Step Functions to record your decision, so nothing was decided. Please try again.';
    case 'unconfirmed':
      return 'The run no longer waits on this approval, and Shiplane could not confirm in time whether it received your decision (it may have: the release thread says what the run did). Click again to check; nothing else changes.';
    case 'not-found':
      return 'Shiplane does not know this approval (it may be too old); nothing was decided.';
    case 'not-an-approver':
      return `You are not an approver for ${escapeSlackText(notice.stage)}. Nothing changed.`;
    case 'approvers-unavailable':
      return `Shiplane could not check whether you are in an approver group for ${escapeSlackText(notice.stage)} (Slack did not answer), so nothing was decided. Please try again in a minute.`;
    case 'recorded':
      return `Recorded: ${notice.status}. (The approval message could not be updated.)`;
    case 'click-failed':
      return 'Shiplane could not process your click, so nothing was decided. Please try again.';
    case 'reason-dialog-failed':
      return 'Shiplane could not open the dialog that asks for the reason of your rejection, so nothing was decided. Please click Reject again.';
    case 'frozen':
      return `${escapeSlackText(notice.notice)}. Approve is refused during a change freeze; nothing was decided. To approve anyway, click *Break glass* and give the reason (it is recorded and shown in the release thread).`;
    case 'not-frozen':
      return `${escapeSlackText(notice.stage)} is not frozen: there is no glass to break. Use Approve. Nothing changed.`;
  }
}

/** How a reply about an event is drawn: release-thread-message.ts's eventReply. */
export type ThreadReplies = typeof eventReply;

/**
 * The chat over a Slack Web API. With `replies` it also replies in the release thread (notify);
 * without, the handler's bundle does not carry the replies' rendering.
 */
export function slackChat(api: SlackApi): Chat;
export function slackChat(api: SlackApi, replies: ThreadReplies): NotifyChat;
export function slackChat(api: SlackApi, replies?: ThreadReplies): Chat | NotifyChat {
  const chat: Chat = {
    postApproval: ({ channel, threadTs, facts, state }) =>
      api.postMessage({ channel, ...(threadTs ? { threadTs } : {}), ...approvalMessage(facts, state) }),
    updateApproval: ({ channel, ts, facts, state }) =>
      api.updateMessage({ channel, ts, ...approvalMessage(facts, state) }),
    postThread: ({ channel, view }) =>
      api.postMessage({ channel, ...releaseParentMessage(view.state, view.stageOrder, view.commitUrl) }),
    updateThread: ({ channel, ts, view }) =>
      api.updateMessage({
        channel,
        ts,
        ...releaseParentMessage(view.state, view.stageOrder, view.commitUrl),
      }),
    tell: ({ channel, user, threadTs, notice }) =>
      api.postEphemeral({ channel, user, text: noticeText(notice), ...(threadTs ? { threadTs } : {}) }),
    groupMembers: (groupId) => api.userGroupMembers(groupId),
    askReason: ({ trigger, target, facts, freeze }) =>
      api.openView({ triggerId: trigger, view: reasonModal(target, facts, freeze) }),
    session: () => slackChat(withOutageBreaker(api)),
  };
  if (!replies) return chat;
  return {
    ...chat,
    replyInThread: async ({ channel, threadTs, view, notification, decision }) => {
      const text = replies(view.state, notification, view.stageOrder, view.commitUrl, decision);
      if (!text) return false;
      await api.postMessage({ channel, threadTs, text });
      return true;
    },
    session: () => slackChat(withOutageBreaker(api), replies),
  };
}

/**
 * The Slack chat the config names, with the bot token read through its secret reference on each
 * call; `replies` as for slackChat.
 */
export function slackFromConfig(
  slack: Config['slack'],
  resolveSecret: SecretResolver,
  tuning?: Pick<SlackWebApiOptions, 'retries' | 'timeoutMs' | 'onRetry'>,
): Chat;
export function slackFromConfig(
  slack: Config['slack'],
  resolveSecret: SecretResolver,
  tuning: Pick<SlackWebApiOptions, 'retries' | 'timeoutMs' | 'onRetry'>,
  replies: ThreadReplies,
): NotifyChat;
export function slackFromConfig(
  slack: Config['slack'],
  resolveSecret: SecretResolver,
  tuning: Pick<SlackWebApiOptions, 'retries' | 'timeoutMs' | 'onRetry'> = {},
  replies?: ThreadReplies,
): Chat | NotifyChat {
  const api = slackWebApi({ apiUrl: slack.apiUrl, token: () => resolveSecret(slack.botToken), ...tuning });
  return replies ? slackChat(api, replies) : slackChat(api);
}
