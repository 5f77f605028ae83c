/**
 * Slack text that Shiplane sends: every value it did not write itself (tags, app and stage names,
 * Argo CD messages, error causes, approvers' reasons, user names) goes through `escapeSlackText`,
 * and the only control sequences (`<…>`) in a message are the ones built here: links, mentions and
 * dates. Slack's rule (api.slack.com/reference/surfaces/formatting#escaping): `&`, `<` and `>` are
 * control characters in every text field, mrkdwn and plain_text alike, and `&amp;`, `&lt;`, `&gt;`
 * are how they are written literally.
 */

/** Escapes `&`, `<` and `>` so that Slack shows the text as written and never as a link or mention. */
export function escapeSlackText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Inline code in mrkdwn; backticks inside would end it early. */
export const code = (text: string): string => `\`${escapeSlackText(text.replaceAll('`', "'"))}\``;

/**
 * A link Shiplane builds (`<url|label>`): `label` is mrkdwn Shiplane composed (escape any value in it
 * first). The URL loses the characters that would end the link or split it (`<`, `>`, `|`, spaces),
 * percent-encoded, and its `&` are escaped as Slack expects; an unusable URL leaves the label alone.
 */
export function link(url: string | undefined, label: string): string {
  if (!url || !/^https?:\/\//.test(url)) return label;
  const safe = url
    .replace(/[<>|\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replaceAll('&', '&amp;');
  return `<${safe}|${label}>`;
}

/** Slack user (`U…`/`W…`) and user-group (`S…`) ids: nothing else becomes a mention. */
const SLACK_ID = /^[UWS][A-Z0-9]{2,}$/;

/** A Slack mention for a user (`U…`/`W…`) or a user group (`S…`); anything else is shown as code. */
export function mention(id: string): string {
  if (!SLACK_ID.test(id)) return code(id);
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

/**
 * Slack renders `<!date^…>` in the reader's time zone; the fallback (UTC) is what clients without
 * date support and notifications show. Format and fallback are Shiplane's own text.
 */
export function slackDate(at: Date, format: string, fallback: string): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^${format}|${fallback}>`;
}
