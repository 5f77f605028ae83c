/**
 * The commit message for one batch of GitOps changes. People read the subject in `git log` and in
 * Argo CD; tools read the trailers (`git log --format=%(trailers)`) to map a commit back to the
 * Step Functions executions and image digests it carries.
 */
import type { CommitChange } from '../contracts/tasks.js';

/** A change that made it into the commit, with the execution that asked for it. */
export interface CommittedChange {
  readonly change: CommitChange;
  readonly execution?: string | undefined;
}

/**
 * One line describing a change: `Promote backend v2.1.6 to staging`, `Roll back backend v2.1.7-bad →
 * v2.1.5 in staging`, or a file change's summary.
 */
export function describeChange(change: CommitChange): string {
  if (change.kind === 'file') return change.summary;
  const { app, tag } = change.release;
  if (change.rollback) return `Roll back ${app} ${change.rollback.fromTag} → ${tag} in ${change.stage}`;
  if (change.manualRollback) {
    const from = change.manualRollback.from;
    return `Roll back ${app} ${from ? `${from.tag} → ${tag}` : `to ${tag}`} in ${change.stage}`;
  }
  return `Promote ${app} ${tag} to ${change.stage}`;
}

/** A trailer value is one line: git would read a newline as the end of the trailer. */
const oneLine = (text: string, max = 300) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

/** The trailers of one change, in order. */
function trailersOf({ change, execution }: CommittedChange): string[] {
  const run = execution ? [`Shiplane-Execution: ${execution}`] : [];
  if (change.kind === 'file') return run;
  const manual = change.manualRollback;
  if (manual) {
    // Asked for with `shiplane rollback`: who and why, and the digest it took out when known.
    return [
      ...run,
      'Shiplane-Rollback: manual',
      `Shiplane-Rollback-Reason: ${oneLine(manual.reason)}`,
      ...(manual.by ? [`Shiplane-Rollback-By: ${oneLine(manual.by)}`] : []),
      ...(manual.from?.digest ? [`Rolled-Back-Digest: ${manual.from.digest}`] : []),
      ...(change.pinDigest ? [`Image-Digest: ${change.release.digest}`] : []),
    ];
  }
  if (!change.rollback) return [...run, `Image-Digest: ${change.release.digest}`];
  // A rollback names what it undid and why; the digest it restores only when the entry pinned one.
  return [
    ...run,
    `Shiplane-Rollback-Of: ${change.rollback.of}`,
    `Shiplane-Rollback-Reason: ${oneLine(change.rollback.reason)}`,
    `Rolled-Back-Digest: ${change.rollback.fromDigest}`,
    ...(change.pinDigest ? [`Image-Digest: ${change.release.digest}`] : []),
  ];
}

const list = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

const distinct = (items: readonly string[]) => [...new Set(items)];

/** The subject line for several changes. */
function summary(changes: readonly CommitChange[]): string {
  const isRollback = (change: CommitChange) =>
    change.kind === 'image' && (change.rollback !== undefined || change.manualRollback !== undefined);
  const images = changes.filter((change) => change.kind === 'image' && !isRollback(change));
  const rollbacks = changes.filter(isRollback);
  const files = changes.filter((change) => change.kind === 'file');
  const parts: string[] = [];
  if (rollbacks.length > 0) {
    const noun = rollbacks.length === 1 ? 'image' : 'images';
    parts.push(
      `Roll back ${rollbacks.length} ${noun} in ${list(distinct(rollbacks.map((change) => change.stage)))}`,
    );
  }
  if (images.length > 0) {
    const noun = images.length === 1 ? 'image' : 'images';
    const verb = parts.length > 0 ? 'promote' : 'Promote';
    parts.push(`${verb} ${images.length} ${noun} to ${list(distinct(images.map((change) => change.stage)))}`);
  }
  if (files.length > 0) {
    const noun = files.length === 1 ? 'file' : 'files';
    const verb = parts.length > 0 ? 'sync' : 'Sync';
    parts.push(`${verb} ${files.length} ${noun} for ${list(distinct(files.map((change) => change.stage)))}`);
  }
  return parts.join(', ');
}

/**
 * Builds the message: the change's own line for one change; a summary line and one line per change
 * for several. Trailers follow, per change in order: `Shiplane-Execution:` (when a run asked for
 * it) and, for images, `Image-Digest:`; a rollback adds `Shiplane-Rollback-Of:` (the run),
 * `Shiplane-Rollback-Reason:` and `Rolled-Back-Digest:` (the digest it took out); a manual rollback
 * `Shiplane-Rollback: manual`, the reason, `Shiplane-Rollback-By:` and the digest it took out.
 */
export function commitMessage(changes: readonly CommittedChange[]): string {
  const first = changes[0];
  if (!first) throw new Error('a commit needs at least one change');
  const subject = changes.length === 1 ? describeChange(first.change) : summary(changes.map((c) => c.change));
  const paragraphs = [subject];
  if (changes.length > 1)
    paragraphs.push(changes.map(({ change }) => `- ${describeChange(change)}`).join('\n'));
  const trailers = changes.flatMap(trailersOf);
  if (trailers.length > 0) paragraphs.push(trailers.join('\n'));
  return `${paragraphs.join('\n\n')}\n`;
}
