/**
 * What a release's pull request is called and says (pull-request mode, `stages[].pullRequest`):
 * its branch `shiplane/<app>/<stage>/<tag>`, its title, and a body carrying the release facts a
 * reviewer checks — digest, evidence from earlier stages, the approval, the run.
 */
import { createHash } from 'node:crypto';
import { clip } from './text.js';

export const BRANCH_ROOT = 'shiplane';

/** GitHub's limit on a pull request's body, in characters. */
export const BODY_LIMIT = 65_536;
/** GitHub's limit on a pull request's title, in characters. */
export const TITLE_LIMIT = 256;
/** The longest one component of the branch gets; git stores each as a file name (255 bytes, with `.lock`). */
const COMPONENT_LIMIT = 100;

/** Characters a component keeps as they are; everything else (and `%` itself) is written %XX. */
const KEPT = /[A-Za-z0-9_+-]/;

/**
 * One path component of the branch, valid in a git ref name and decodable back to `text` (so two
 * different inputs never give one branch): percent-encoding of the UTF-8 bytes of every character
 * outside [A-Za-z0-9._+-] — which covers `~^:?*[\`, spaces, control characters, `@{` and `/` — and of
 * the dots git would refuse: a leading or trailing one, one followed by another (`..`), and the `k`
 * of a trailing `.lock`. A component longer than 100 characters keeps its first part and ends in
 * `%h` + a hash of the whole (`%h` never comes out of the encoding, so it cannot collide with it).
 * A lone UTF-16 surrogate, which has no UTF-8 form, is written `%u` + its code unit in hex.
 */
export function refComponent(text: string): string {
  if (text === '') throw new Error('a branch name component must not be empty');
  const chars = [...text];
  let out = '';
  chars.forEach((char, index) => {
    const dot = char === '.';
    const awkwardDot = dot && (index === 0 || index === chars.length - 1 || chars[index + 1] === '.');
    const lockK = index === chars.length - 1 && char === 'k' && text.endsWith('.lock');
    out += (KEPT.test(char) || dot) && !awkwardDot && !lockK ? char : percent(char);
  });
  if (out.length <= COMPONENT_LIMIT) return out;
  // Cut before an escape rather than inside one, and never leave a dot at the end.
  const head = out
    .slice(0, 80)
    .replace(/%[0-9A-F]?$/, '')
    .replace(/\.+$/, '');
  return `${head}%h${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

const percent = (char: string) =>
  // A lone surrogate has no UTF-8 form (it would turn into U+FFFD and collide): `%u` + its code unit.
  /^[\uD800-\uDFFF]$/.test(char)
    ? `%u${char.charCodeAt(0).toString(16).toUpperCase()}`
    : [...Buffer.from(char, 'utf8')]
        .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
        .join('');

/** The branches of one app's pull requests into one stage: `shiplane/<app>/<stage>/`. */
export function pullRequestBranchPrefix(app: string, stage: string): string {
  return `${BRANCH_ROOT}/${refComponent(app)}/${refComponent(stage)}/`;
}

/** The branch a release's pull request proposes: `shiplane/<app>/<stage>/<tag>`, a valid git ref. */
export function pullRequestBranch(app: string, stage: string, tag: string): string {
  return `${pullRequestBranchPrefix(app, stage)}${refComponent(tag)}`;
}

/** `Promote backend v2.1.6 to production`, or `Roll back backend to v2.1.5 in production`. */
export function pullRequestTitle(input: {
  readonly app: string;
  readonly tag: string;
  readonly stage: string;
  readonly rollback?: boolean | undefined;
}): string {
  const { app, tag, stage } = input;
  const title = input.rollback
    ? `Roll back ${app} to ${tag} in ${stage}`
    : `Promote ${app} ${tag} to ${stage}`;
  return clip(title.replace(/\s+/g, ' '), TITLE_LIMIT);
}

/** What an earlier stage showed for this release. */
export interface StageEvidence {
  readonly stage: string;
  /** The commit on that stage's branch that carries the release. */
  readonly commit: string;
  /** The revision Argo CD synced, when it reported one. */
  readonly syncRevision?: string | undefined;
  /** When it was seen healthy (ISO 8601). */
  readonly healthyAt?: string | undefined;
}

export interface PullRequestApproval {
  readonly by: string;
  readonly byName?: string | undefined;
  readonly at: string;
  readonly reason?: string | undefined;
  readonly via?: string | undefined;
  /** Approved during a change freeze. */
  readonly breakGlass?: { readonly until: string; readonly freeze: string } | undefined;
}

export interface PullRequestFacts {
  readonly app: string;
  readonly stage: string;
  readonly tag: string;
  readonly digest: string;
  /** The image repository, e.g. `itdo-erp/backend`. */
  readonly image?: string | undefined;
  readonly evidence?: readonly StageEvidence[] | undefined;
  readonly approval?: PullRequestApproval | undefined;
  readonly run?: { readonly execution: string; readonly url?: string | undefined } | undefined;
  /** Set for a rollback: what it takes out, why, who asked. */
  readonly rollback?:
    | { readonly fromTag?: string | undefined; readonly reason: string; readonly by?: string | undefined }
    | undefined;
  /** `merge: manual`: say that the release (or the recovery) waits for a person to merge. */
  readonly manualMerge?: boolean | undefined;
}

/**
 * Free text (a reason, a name) as Markdown that shows it literally: no links, no HTML, no @mentions
 * that would notify people, on one line.
 */
export function plainMarkdown(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_{}[\]()<>#+!|~@]/g, (char) => `\\${char}`);
}

/** A short literal (tag, digest, sha, name) in a code span; backticks cannot close it early. */
const code = (text: string) => `\`${text.replace(/`/g, "'").replace(/\s+/g, ' ')}\``;

const shortSha = (sha: string) => (/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : sha);

/** The pull request's body in Markdown, at most GitHub's 65,536 characters (cut with a note when longer). */
export function pullRequestBody(facts: PullRequestFacts): string {
  const lines: string[] = [];
  const { app, stage, tag } = facts;
  if (facts.rollback) {
    const from = facts.rollback.fromTag ? ` (from ${code(facts.rollback.fromTag)})` : '';
    lines.push(
      `**Rollback**: Shiplane rolls back **${plainMarkdown(app)}** to ${code(tag)} in **${plainMarkdown(stage)}**${from}.`,
    );
    lines.push('', `Reason: ${plainMarkdown(facts.rollback.reason)}`);
    if (facts.rollback.by) lines.push(`Asked by: ${plainMarkdown(facts.rollback.by)}`);
  } else {
    lines.push(`Shiplane promotes **${plainMarkdown(app)}** ${code(tag)} to **${plainMarkdown(stage)}**.`);
  }
  if (facts.manualMerge) {
    lines.push(
      '',
      facts.rollback
        ? '> Recovery waits for this pull request to be merged.'
        : '> The release waits for this pull request to be merged.',
    );
  }

  lines.push('', '### Release', '', '| | |', '|---|---|');
  if (facts.image) lines.push(`| Image | ${code(`${facts.image}:${tag}`)} |`);
  lines.push(`| Tag | ${code(tag)} |`, `| Digest | ${code(facts.digest)} |`);

  if (facts.evidence && facts.evidence.length > 0) {
    lines.push('', '### Evidence from earlier stages', '');
    for (const seen of facts.evidence) {
      const parts = [`commit ${code(shortSha(seen.commit))}`];
      if (seen.syncRevision) parts.push(`Argo CD synced ${code(shortSha(seen.syncRevision))}`);
      if (seen.healthyAt) parts.push(`healthy at ${seen.healthyAt}`);
      lines.push(`- **${plainMarkdown(seen.stage)}**: ${parts.join(', ')}`);
    }
  }

  if (facts.approval) {
    const approval = facts.approval;
    const who = approval.byName
      ? `${plainMarkdown(approval.byName)} (${code(approval.by)})`
      : code(approval.by);
    lines.push(
      '',
      '### Approval',
      '',
      `- Approved by ${who} at ${approval.at}${approval.via ? ` via ${plainMarkdown(approval.via)}` : ''}`,
    );
    if (approval.reason) lines.push(`- Reason: ${plainMarkdown(approval.reason)}`);
    if (approval.breakGlass) {
      lines.push(
        `- **Break glass**: approved during the change freeze ${plainMarkdown(approval.breakGlass.freeze)} (until ${approval.breakGlass.until})`,
      );
    }
  }

  if (facts.run) {
    const name = code(facts.run.execution);
    const url = facts.run.url;
    // Only a web link becomes a link; `(`, `)` and spaces are escaped so the Markdown cannot end early.
    const link =
      url && /^https?:\/\//.test(url)
        ? `[${name}](${url.replace(/[()\s]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`
        : name;
    lines.push('', '### Run', '', `- ${link}`);
  }

  return capBody(`${lines.join('\n')}\n`);
}

const CUT_NOTE = `\n\n_Shiplane cut this description at GitHub's limit of ${BODY_LIMIT.toLocaleString('en-US')} characters._\n`;

/** Keeps a body within GitHub's limit, saying so when it had to cut. */
export function capBody(body: string): string {
  if (body.length <= BODY_LIMIT) return body;
  return `${clip(body, BODY_LIMIT - CUT_NOTE.length)}${CUT_NOTE}`;
}
