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

/** One line describing a change: `Promote backend v2.1.6 to staging`, or a file change's summary. */
export function describeChange(change: CommitChange): string {
  if (change.kind === 'file') return change.summary;
  return `Promote ${change.release.app} ${change.release.tag} to ${change.stage}`;
}

const list = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

const distinct = (items: readonly string[]) => [...new Set(items)];

/** The subject line for several changes. */
function summary(changes: readonly CommitChange[]): string {
  const images = changes.filter((change) => change.kind === 'image');
  const files = changes.filter((change) => change.kind === 'file');
  const parts: string[] = [];
  if (images.length > 0) {
    const noun = images.length === 1 ? 'image' : 'images';
    parts.push(`Promote ${images.length} ${noun} to ${list(distinct(images.map((change) => change.stage)))}`);
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
 * it) and, for images, `Image-Digest:`.
 */
export function commitMessage(changes: readonly CommittedChange[]): string {
  const first = changes[0];
  if (!first) throw new Error('a commit needs at least one change');
  const subject = changes.length === 1 ? describeChange(first.change) : summary(changes.map((c) => c.change));
  const paragraphs = [subject];
  if (changes.length > 1)
    paragraphs.push(changes.map(({ change }) => `- ${describeChange(change)}`).join('\n'));
  const trailers = changes.flatMap(({ change, execution }) => [
    ...(execution ? [`Shiplane-Execution: ${execution}`] : []),
    ...(change.kind === 'image' ? [`Image-Digest: ${change.release.digest}`] : []),
  ]);
  if (trailers.length > 0) paragraphs.push(trailers.join('\n'));
  return `${paragraphs.join('\n\n')}\n`;
}
