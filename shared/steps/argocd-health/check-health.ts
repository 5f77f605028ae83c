/**
 * One poll of the Argo CD wait: read the app with a refresh, learn which reported revisions contain
 * our commit, judge, check that the stage's file at the reported revision still pins our release,
 * and — for stages that sync themselves — request the sync once. Transient trouble (Argo CD or
 * GitHub unreachable) is reported as `progressing` with a message saying so, so the wait loop keeps
 * polling until its timeout; terminal trouble (bad token, missing app, multi-source app with no
 * source in the GitOps repository) is thrown and ends the run.
 */

import { posix } from 'node:path';
import type { TagLocation } from '../../config/tag-location.js';
import type { HealthCheckInput, HealthCheckResult } from '../../contracts/tasks.js';
import { type ArgoCdVerdict, judgeApplication, revisionsToCheck } from '../../domain/argocd-verdict.js';
import { judgeStageContent, replacedMessage } from '../../domain/stage-content.js';
import { supersededCause } from '../../domain/superseded.js';
import { TerminalError } from '../../errors.js';
import type { ArgoCdClient } from '../../ports/argocd.js';
import { ArgoCdOperationInProgressError, ArgoCdUnreachableError } from '../../ports/argocd.js';
import {
  type Ancestry,
  AncestryUnavailableError,
  GitHubUnavailableError,
} from '../../ports/gitops-repository.js';
import type { RevisionFiles } from './revision-files.js';

/** One repository as the check reads it: commit ancestry and files at a revision. */
export interface CheckedRepository {
  readonly ancestry: Ancestry;
  /** Files at a revision; best cached (see cachedRevisionFiles). */
  readonly files: RevisionFiles;
}

export interface ArgoCdHealthDeps extends CheckedRepository {
  readonly argocd: ArgoCdClient;
  /**
   * The GitOps repository, `owner/name` (config `gitops.repository`), which `ancestry` and `files`
   * read: which source of a multi-source app is ours. Without it a multi-source app fails the run.
   */
  readonly repository?: string;
  /**
   * Where the run's app's tag lives in the stage: config/tag-location.ts over the deployed config.
   * Its repository is the source of the Argo CD app that is ours, and its file is what is checked.
   * Without it the input's file is checked in `repository`.
   */
  readonly locate?: (app: string, stage: string) => TagLocation;
  /** A repository other than `repository` (a stage or app that lives elsewhere). */
  readonly sources?: (repository: string) => CheckedRepository;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Runs one health check for a stage and returns what the state machine's Choice reads. */
export async function checkArgoCdHealth(
  input: HealthCheckInput,
  deps: ArgoCdHealthDeps,
): Promise<HealthCheckResult> {
  const now = deps.now ?? (() => new Date());
  const locator = {
    ...(input.argocdProject ? { project: input.argocdProject } : {}),
    ...(input.appNamespace ? { appNamespace: input.appNamespace } : {}),
  };
  const result = (verdict: Omit<ArgoCdVerdict, 'syncTo'>): HealthCheckResult => ({
    status: verdict.status,
    message: verdict.message,
    revision: verdict.revision,
    syncStatus: verdict.syncStatus,
    healthStatus: verdict.healthStatus,
    checkedAt: now().toISOString(),
    attempt: input.attempt,
  });
  const unknown = (message: string) =>
    result({
      status: 'progressing',
      message,
      revision: null,
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
    });

  let app: Awaited<ReturnType<ArgoCdClient['getApplication']>>;
  try {
    app = await deps.argocd.getApplication(input.argocdApp, { refresh: 'normal', ...locator });
  } catch (error) {
    if (error instanceof ArgoCdUnreachableError) return unknown(error.message);
    throw error;
  }

  const target = checkTarget(input, deps);
  const containing = new Set<string>();
  for (const revision of revisionsToCheck(app, input.commit, target.repository)) {
    try {
      if (await target.ancestry.contains(revision, input.commit)) containing.add(revision);
    } catch (error) {
      if (!(error instanceof AncestryUnavailableError)) throw error;
      const seen = app.status?.sync;
      return result({
        status: 'progressing',
        message: `${error.message}; will ask again`,
        revision: seen?.revision || null,
        syncStatus: seen?.status || 'Unknown',
        healthStatus: app.status?.health?.status || 'Unknown',
      });
    }
  }

  const verdict = judgeApplication({ app, commit: input.commit, containing, repository: target.repository });
  // A revision that contains our commit may still not run our release: a revert or a newer release
  // descends from it too. What the file pins there decides, whatever Argo CD says of its health.
  const { revision } = verdict;
  if (revision !== null && (revision === input.commit || containing.has(revision))) {
    const replaced = await contentVerdict(input, revision, target);
    if (replaced) return result({ ...verdict, ...replaced });
  }
  if (!input.sync || !verdict.syncTo) return result(verdict);

  try {
    await deps.argocd.syncApplication(input.argocdApp, { revision: verdict.syncTo, ...locator });
  } catch (error) {
    if (error instanceof ArgoCdOperationInProgressError) {
      return result({
        ...verdict,
        message: `${verdict.message}; another operation is running, waiting for it`,
      });
    }
    if (error instanceof ArgoCdUnreachableError) {
      return result({
        ...verdict,
        message: `${verdict.message}; sync request failed, will retry: ${error.message}`,
      });
    }
    throw error;
  }
  return result({
    ...verdict,
    message: `${verdict.message}; sync to ${verdict.syncTo.slice(0, 7)} requested`,
  });
}

/**
 * What the stage's file pins at `revision`: undefined when it is still our release, else the
 * verdict that replaces Argo CD's (superseded, replaced, or progressing while GitHub cannot answer).
 */
async function contentVerdict(
  input: HealthCheckInput,
  revision: string,
  target: CheckTarget,
): Promise<Pick<ArgoCdVerdict, 'status' | 'message'> | undefined> {
  const { file } = target;
  let text: string | null;
  try {
    text = await target.files.read(file, revision);
  } catch (error) {
    if (!(error instanceof GitHubUnavailableError)) throw error;
    return { status: 'progressing', message: `${error.message}; will ask again` };
  }
  const settings = {
    stage: input.stage,
    file,
    pinDigest: input.pinDigest,
    valuesPath: target.valuesPath,
    digestPath: target.digestPath,
  };
  const content = judgeStageContent(text, settings, input.release);
  if (content.status === 'ours') return undefined;
  if (content.status === 'newer') {
    return {
      status: 'superseded',
      message: supersededCause({
        image: input.release.image,
        tag: input.release.tag,
        stage: input.stage,
        newerTag: content.tag,
        detail: `${file} pins ${content.tag} at ${revision.slice(0, 7)}.`,
      }),
    };
  }
  let by = revision;
  try {
    by = (await target.files.lastChange(file, revision)) ?? revision;
  } catch {
    // Naming the commit is a courtesy: the revision still says where to look, and the run must end now.
  }
  return {
    status: 'replaced',
    message: replacedMessage({ stage: input.stage, release: input.release, content, by }),
  };
}

/** What one check reads: the repository our source deploys from, and the file and key paths there. */
interface CheckTarget extends CheckedRepository {
  readonly repository: string | undefined;
  readonly file: string;
  readonly valuesPath: string | undefined;
  readonly digestPath: string | undefined;
}

/**
 * Where the run's app's tag lives in the stage, as the deployed config says (deps.locate), and the
 * repository that reads it. A file the state machine names must be that file: a state machine and a
 * config that disagree would check one place and judge another, so the run ends saying so.
 */
function checkTarget(input: HealthCheckInput, deps: ArgoCdHealthDeps): CheckTarget {
  const location = deps.locate?.(input.release.app, input.stage);
  if (!location) {
    if (input.file === undefined) {
      throw new TerminalError(
        `the check of stage ${input.stage} names no file and no config says where ${input.release.app}'s tag lives`,
      );
    }
    const { file, valuesPath, digestPath } = input;
    return {
      ancestry: deps.ancestry,
      files: deps.files,
      repository: deps.repository,
      file,
      valuesPath,
      digestPath,
    };
  }
  if (input.file !== undefined && !sameFile(input.file, location.file)) {
    throw new TerminalError(
      `the run checks ${input.file} for stage ${input.stage}, but the config puts ${input.release.app}'s tag in ${location.file} (${location.repository}); the state machine and the config differ — deploy them together and start the release again`,
    );
  }
  const read =
    deps.repository !== undefined && location.repository === deps.repository
      ? deps
      : deps.sources?.(location.repository);
  if (!read) {
    throw new TerminalError(`argocd-health cannot read ${location.repository}: no GitHub client for it`);
  }
  return {
    ancestry: read.ancestry,
    files: read.files,
    repository: location.repository,
    file: location.file,
    valuesPath: location.valuesPath,
    digestPath: location.digestPath,
  };
}

/** Paths as the committer writes them (`./a//b` is `a/b`). */
function sameFile(a: string, b: string): boolean {
  return posix.normalize(a).replace(/^\.\//, '') === posix.normalize(b).replace(/^\.\//, '');
}
