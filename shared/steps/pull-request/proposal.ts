/**
 * A release's edit on its own branch: read the stage branch's head, apply the change exactly as the
 * committer does (commit-batch's applyAll: the same byte-preserving edit, the same refusal to move a
 * stage back), and write one commit on top of that head, on no branch yet. The caller points the
 * pull request's branch at it. Nothing here touches the stage's branch.
 */
import type { ImageChange } from '../../contracts/tasks.js';
import { OlderReleaseError } from '../../domain/apply-change.js';
import { commitMessage } from '../../domain/commit-message.js';
import { supersededCause } from '../../domain/superseded.js';
import type { GitOpsRepository } from '../../ports/gitops-repository.js';
import { applyAll, pointUnchangedAtLastChange, ReplacedInBatchError } from '../commit/commit-batch.js';

export type Proposal =
  /** The branch commit that carries the change, on top of the base head `base`. */
  | {
      readonly status: 'proposed';
      readonly base: string;
      readonly commit: string;
      readonly previousTag: string | null;
      readonly previousDigest: string | null;
    }
  /** The base already carries the change: `commit` is the last commit that put it there. */
  | {
      readonly status: 'unchanged';
      readonly commit: string;
      readonly previousTag: string | null;
      readonly previousDigest: string | null;
    }
  /** The base pins a newer release: proposing ours would move the stage back. */
  | { readonly status: 'superseded'; readonly cause: string; readonly newerTag: string | undefined };

const ID = 'change';

/** Proposes `change` against `branch`'s current head. A change that cannot be applied throws its ManifestEditError. */
export async function propose(
  repository: GitOpsRepository,
  branch: string,
  change: ImageChange,
  execution: string,
): Promise<Proposal> {
  const head = await repository.branchHead(branch);
  const item = { id: ID, execution, change };
  const round = await applyAll(repository, head, [item]);
  const [outcome] = round.outcomes(head.commit);
  if (!outcome) throw new Error('the edit answered no outcome for the change');
  if (outcome.status === 'failed') {
    const { error } = outcome;
    if (error instanceof OlderReleaseError || error instanceof ReplacedInBatchError) {
      return {
        status: 'superseded',
        newerTag: error.newerTag,
        cause: supersededCause({
          image: change.release.image,
          tag: change.release.tag,
          stage: change.stage,
          newerTag: error.newerTag,
          detail: `${error.message} (${repository.fullName}, branch ${branch})`,
        }),
      };
    }
    throw error;
  }
  const previous = { previousTag: outcome.previousTag, previousDigest: outcome.previousDigest };
  if (round.writes.length === 0) {
    const [pointed] = await pointUnchangedAtLastChange(repository, [outcome], new Map([[ID, change.file]]));
    const commit = pointed && pointed.status !== 'failed' ? pointed.commit : head.commit;
    return { status: 'unchanged', commit, ...previous };
  }
  const message = commitMessage(round.applied.map((applied) => ({ change: applied.change, execution })));
  const commit = await repository.createCommit(head, round.writes, message);
  return { status: 'proposed', base: head.commit, commit, ...previous };
}
