/**
 * The pull-request step's view of a release's pull request: its branch, title and body from
 * domain/pull-request.ts, filled from the task's input (the change, the approval, the earlier stages'
 * results); and what only the step needs — a rollback's branch, the tag a branch names, and the
 * comment Shiplane closes a superseded pull request with (and reads back).
 */
import type { ApprovalDecision, ImageChange } from '../../contracts/tasks.js';
import {
  pullRequestBody as domainBody,
  pullRequestBranch as domainBranch,
  pullRequestTitle as domainTitle,
  pullRequestBranchPrefix,
  refComponent,
  type StageEvidence,
} from '../../domain/pull-request.js';

export { pullRequestBranchPrefix };

/** `shiplane/backend/production/v2.1.6`. */
export function pullRequestBranch(app: string, stage: string, tag: string): string {
  return domainBranch(app, stage, tag);
}

/** `shiplane/backend/production/rollback/v2.1.5`: a rollback's branch, which no release's supersedes. */
export function rollbackBranch(app: string, stage: string, tag: string): string {
  return `${pullRequestBranchPrefix(app, stage)}rollback/${refComponent(tag)}`;
}

/** The tag a release's branch names, or undefined when it is not one (a rollback's, a cut-short one). */
export function tagOfBranch(branch: string, app: string, stage: string): string | undefined {
  const prefix = pullRequestBranchPrefix(app, stage);
  const component = branch.startsWith(prefix) ? branch.slice(prefix.length) : '';
  if (component === '' || component.includes('/') || component.includes('%h') || component.includes('%u')) {
    return undefined;
  }
  try {
    return decodeURIComponent(component);
  } catch {
    return undefined;
  }
}

export function pullRequestTitle(change: ImageChange): string {
  return domainTitle({
    app: change.release.app,
    tag: change.release.tag,
    stage: change.stage,
    rollback: change.rollback !== undefined || change.manualRollback !== undefined,
  });
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
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The earlier stages that ran the release healthy, from the run's `$.stages`. */
function evidenceOf(stages: Readonly<Record<string, unknown>> | undefined, stage: string): StageEvidence[] {
  const seen: StageEvidence[] = [];
  for (const [name, value] of Object.entries(stages ?? {})) {
    if (name === stage || !isObject(value) || !isObject(value.health) || !isObject(value.commit)) continue;
    const commit = str(value.commit.commit);
    if (value.health.status !== 'healthy' || !commit) continue;
    seen.push({
      stage: name,
      commit,
      syncRevision: str(value.health.revision),
      healthyAt: str(value.health.checkedAt),
    });
  }
  return seen;
}

export function pullRequestBody(facts: BodyFacts): string {
  const { change, approval } = facts;
  const { release } = change;
  const manual = change.manualRollback;
  const automatic = change.rollback;
  return domainBody({
    app: release.app,
    stage: change.stage,
    tag: release.tag,
    digest: release.digest,
    image: release.newName ?? release.image,
    evidence: evidenceOf(facts.evidence, change.stage),
    ...(approval
      ? {
          approval: {
            by: approval.by,
            byName: approval.byName,
            at: approval.at,
            reason: approval.reason,
            via: approval.via,
            breakGlass: approval.breakGlass,
          },
        }
      : {}),
    run: { execution: facts.execution },
    ...(manual ? { rollback: { fromTag: manual.from?.tag, reason: manual.reason, by: manual.by } } : {}),
    ...(automatic
      ? {
          rollback: {
            fromTag: automatic.fromTag,
            reason: `${automatic.reason} (automatic rollback by run ${automatic.of})`,
          },
        }
      : {}),
    manualMerge: facts.merge === 'manual',
  });
}
