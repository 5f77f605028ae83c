/**
 * What a release's pull request is called and says: its branch `shiplane/<app>/<stage>/<tag>`, its
 * title (the commit's own line: `Promote backend v2.1.6 to production`) and a body with the release
 * facts a reviewer checks: the image and digest, what the earlier stages ran healthy, who approved,
 * and the run.
 */
import type { ApprovalDecision, ImageChange } from '../../contracts/tasks.js';
import { describeChange } from '../../domain/commit-message.js';

/** The branch prefix of one app's pull requests in one stage (how older ones are found). */
export function pullRequestBranchPrefix(app: string, stage: string): string {
  return `shiplane/${app}/${stage}/`;
}

/** `shiplane/backend/production/v2.1.6`. */
export function pullRequestBranch(app: string, stage: string, tag: string): string {
  return `${pullRequestBranchPrefix(app, stage)}${tag}`;
}

/** `shiplane/backend/production/rollback/v2.1.5`: a rollback's branch, which no release's supersedes. */
export function rollbackBranch(app: string, stage: string, tag: string): string {
  return `${pullRequestBranchPrefix(app, stage)}rollback/${tag}`;
}

/** The tag a branch of `pullRequestBranch` names, or undefined when it is not one under the prefix. */
export function tagOfBranch(branch: string, app: string, stage: string): string | undefined {
  const prefix = pullRequestBranchPrefix(app, stage);
  const tag = branch.startsWith(prefix) ? branch.slice(prefix.length) : '';
  return tag === '' || tag.includes('/') ? undefined : tag;
}

export function pullRequestTitle(change: ImageChange): string {
  return describeChange(change);
}

/** The comment Shiplane closes an older pull request with; `supersededNote` reads it back. */
export function supersededComment(number: number, tag: string): string {
  return `Superseded by #${number} (${tag}).`;
}

const SUPERSEDED = /^Superseded by #(\d+) \((\S+)\)\./;

/** The newer pull request and tag a comment of Shiplane's names, when it is one. */
export function supersededNote(body: string): { readonly number: number; readonly tag: string } | undefined {
  const match = SUPERSEDED.exec(body);
  return match ? { number: Number(match[1]), tag: match[2] ?? '' } : undefined;
}

export interface BodyFacts {
  readonly change: ImageChange;
  readonly execution: string;
  readonly approval?: ApprovalDecision | undefined;
  /** The run's stages so far (`$.stages`): commit and health per earlier stage. */
  readonly evidence?: Readonly<Record<string, unknown>> | undefined;
  readonly merge: 'auto' | 'manual';
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One line per earlier stage that ran the release healthy: `staging: Healthy at 1a2b3c4 (Deployment backend 3/3 ready)`. */
function evidenceLines(evidence: Readonly<Record<string, unknown>> | undefined, stage: string): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(evidence ?? {})) {
    if (name === stage || !isObject(value) || !isObject(value.health)) continue;
    const { status, message, revision } = value.health;
    if (status !== 'healthy') continue;
    const at = typeof revision === 'string' ? ` at ${revision.slice(0, 7)}` : '';
    lines.push(`- ${name}: healthy${at}${typeof message === 'string' && message ? ` (${message})` : ''}`);
  }
  return lines;
}

export function pullRequestBody(facts: BodyFacts): string {
  const { change, approval } = facts;
  const { release } = change;
  const evidence = evidenceLines(facts.evidence, change.stage);
  const who = approval
    ? `${approval.byName ? `${approval.byName} (${approval.by})` : approval.by}`
    : undefined;
  const rollback = change.manualRollback;
  return [
    `${describeChange(change)}.`,
    '',
    `- Image: \`${release.newName ?? release.image}:${release.tag}\``,
    `- Digest: \`${release.digest}\`${change.pinDigest ? ' (pinned)' : ' (tag only)'}`,
    `- File: \`${change.file}\``,
    `- Pushed: ${release.pushedAt}`,
    ...(rollback
      ? [`- Manual rollback${rollback.by ? ` asked by ${rollback.by}` : ''}: ${rollback.reason}`]
      : []),
    ...(change.rollback
      ? [
          `- Automatic rollback of ${change.rollback.fromTag} (\`${change.rollback.fromDigest}\`), which run \`${change.rollback.of}\` found bad: ${change.rollback.reason}`,
        ]
      : []),
    ...(who
      ? [
          `- Approved by ${who} via ${approval?.via} at ${approval?.at}${approval?.reason ? `: ${approval.reason}` : ''}`,
        ]
      : []),
    ...(evidence.length > 0 ? ['', 'Earlier stages:', ...evidence] : []),
    '',
    facts.merge === 'auto'
      ? 'Shiplane merges this pull request itself once GitHub reports it mergeable (required reviews and checks passed).'
      : 'Shiplane waits for a person to merge this pull request; closing it without merging rejects the release.',
    '',
    `Shiplane run: \`${facts.execution}\``,
  ].join('\n');
}
