/**
 * The sandbox's GitOps working copy follows the branch the GitHub stand-in moves (it serves the same
 * repository), so the files on disk are always the branch head.
 */
import { everyInterval } from './every-interval.js';
import { git, headOf } from './gitops-repo.js';

export interface WorkingCopy {
  /** Checks out the branch head now, if it moved. */
  follow(): Promise<void>;
  stop(): void;
}

export function followBranch(
  repoDir: string,
  branch: string,
  checkedOutAt: string,
  intervalMs = 300,
): WorkingCopy {
  let checkedOut = checkedOutAt;
  const follow = async () => {
    const head = await headOf(repoDir, branch).catch(() => checkedOut);
    if (head === checkedOut) return;
    await git(repoDir, ['read-tree', '-u', '--reset', head]).catch(() => undefined);
    checkedOut = head;
  };
  return { follow, stop: everyInterval(follow, intervalMs) };
}
