/** What `shiplane sandbox --exit --json` prints about a run: outcome, commits, approval, tags. */
import type { Config } from '../../shared/config/schema.js';
import type { RunOutcome } from '../../shared/contracts/tasks.js';
import {
  buildTimeline,
  type Recovery,
  recoveryOf,
  summarizeRun,
} from '../../shared/domain/execution-timeline.js';
import { commitLog, currentTags } from './gitops-repo.js';
import { SANDBOX_APPS } from './push.js';
import type { LocalRuntime } from './runtime.js';

export interface StageResult {
  readonly name: string;
  readonly commit: string | null;
}

/** What `--json` prints. */
export interface SandboxRunSummary {
  readonly execution: string;
  readonly status: string;
  readonly outcome: RunOutcome | null;
  readonly stages: readonly StageResult[];
  readonly approval: { readonly decision: string; readonly by: string | undefined } | null;
  readonly tags: Record<string, Record<string, string | null>>;
  readonly commits: ReadonlyArray<{ readonly sha: string; readonly subject: string }>;
  readonly consoleUrl: string;
  readonly workdir: string;
  /** For a rolled-back run: from Degraded seen to Healthy at the rollback commit. */
  readonly recovery?: Omit<Recovery, 'stage'>;
}

export async function summarizeSandboxRun(
  execution: string,
  where: {
    readonly runtime: LocalRuntime;
    readonly config: Config;
    readonly repoDir: string;
    /** The repository an environment's overlay lives in, when not `repoDir`. */
    readonly repoDirOf?: (environment: string) => string;
    readonly branch: string;
    readonly consoleUrl: string;
    readonly workdir: string;
  },
): Promise<SandboxRunSummary> {
  const { runtime, config, repoDir, branch } = where;
  const description = runtime.engine.describeExecution(execution);
  const timeline = buildTimeline(runtime.engine.history(execution));
  const summary = summarizeRun(timeline);
  const recovery = summary.outcome === 'rolled-back' ? recoveryOf(timeline) : undefined;
  const approval = summary.stages.find((stage) => stage.approval)?.approval;
  return {
    execution,
    status: description.status,
    outcome: summary.outcome ?? null,
    stages: config.stages.map((stage) => ({
      name: stage.name,
      commit: summary.stages.find((s) => s.name === stage.name)?.commit ?? null,
    })),
    approval: approval ? { decision: approval.decision, by: approval.byName ?? approval.by } : null,
    tags: await currentTags(repoDir, branch, SANDBOX_APPS, where.repoDirOf),
    commits: (await commitLog(repoDir, branch, 10)).map(({ sha, subject }) => ({ sha, subject })),
    consoleUrl: where.consoleUrl,
    workdir: where.workdir,
    ...(recovery
      ? {
          recovery: {
            degradedAt: recovery.degradedAt,
            restoredAt: recovery.restoredAt,
            seconds: recovery.seconds,
            commit: recovery.commit,
          },
        }
      : {}),
  };
}
