/**
 * The pull-request task of a stage with `pullRequest` (instead of the commit queue: each release has
 * its own branch, so there is nothing to serialize).
 *
 * `open` proposes the run's change: the edit applied to the stage branch's head (proposal.ts), that
 * commit on `shiplane/<app>/<stage>/<tag>`, a pull request against the stage's branch, and older
 * open pull requests of the same app and stage closed as superseded by it. When the branch already
 * carries the release there is nothing to propose: the answer is the committer's for a change already
 * there (`unchanged`, at the commit that put it there).
 *
 * `check` looks at it once: merged → the commit result at the merge commit (what the Argo CD wait
 * reads), closed → rejected (or superseded, when Shiplane closed it for a newer release), past the
 * deadline → closed with a comment, expired. With `merge: auto` it merges at the head it proposed once
 * GitHub allows, and rebuilds the branch from the current base when it conflicts. Everything else is
 * `open`: the state machine waits `waitSeconds` and asks again.
 */
import { formatDuration } from '../../config/duration.js';
import { pullRequestPollSeconds } from '../../config/pull-request-poll.js';
import type { Config, PullRequestConfig } from '../../config/schema.js';
import { type TagLocation, tagLocation } from '../../config/tag-location.js';
import type { ImageChange, PullRequestAnswer, PullRequestInput } from '../../contracts/tasks.js';
import { supersededCause } from '../../domain/superseded.js';
import { compareReleaseTags } from '../../domain/tag-order.js';
import { TerminalError } from '../../errors.js';
import { GitHubUnavailableError, type GitOpsRepository } from '../../ports/gitops-repository.js';
import type { PullRequest, PullRequests } from '../../ports/pull-requests.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import { type Proposal, propose } from './proposal.js';
import {
  pullRequestBody,
  pullRequestBranch,
  pullRequestBranchPrefix,
  pullRequestTitle,
  rollbackBranch,
  supersededComment,
  supersededNote,
  tagOfBranch,
} from './proposal-text.js';

export interface PullRequestDeps {
  readonly config: Config;
  /** The GitOps repository `owner/name` and its pull requests, through one client. */
  readonly github: (
    fullName: string,
  ) => Promise<{ readonly repository: GitOpsRepository; readonly pullRequests: PullRequests }>;
  readonly reporter: Reporter;
  readonly now: () => Date;
}

/** The stage's settings and the change it proposes, from the config the function was deployed with. */
interface Stage {
  readonly settings: PullRequestConfig;
  readonly location: TagLocation;
  readonly change: ImageChange;
}

function stageOf(input: PullRequestInput, config: Config): Stage {
  const stage = config.stages.find((entry) => entry.name === input.stage);
  if (!stage) throw new TerminalError(`no stage ${input.stage} in the config`);
  if (!stage.pullRequest) {
    throw new TerminalError(`stage ${input.stage} has no pullRequest in the config: it commits directly`);
  }
  if (input.edit === 'manual-rollback' && !input.manualRollback) {
    throw new TerminalError('a manual rollback needs the run input’s rollback (manualRollback)');
  }
  if (input.edit === 'rollback' && !input.rollback) {
    throw new TerminalError('a rollback needs what it rolls back (rollback)');
  }
  const location = tagLocation(config, input.release.app, input.stage);
  return {
    settings: stage.pullRequest,
    location,
    change: {
      kind: 'image',
      edit: input.edit,
      stage: input.stage,
      file: location.file,
      release: input.release,
      pinDigest: input.edit === 'rollback' ? (input.pinDigest ?? location.pinDigest) : location.pinDigest,
      // A rollback puts back an entry that was there: it never adds one.
      createIfMissing: input.edit === 'rollback' ? false : stage.createIfMissing,
      ...(location.valuesPath ? { valuesPath: location.valuesPath } : {}),
      ...(location.digestPath ? { digestPath: location.digestPath } : {}),
      ...(input.manualRollback ? { manualRollback: input.manualRollback } : {}),
      ...(input.edit === 'rollback' && input.rollback ? { rollback: input.rollback } : {}),
    },
  };
}

export async function pullRequestTask(
  input: PullRequestInput,
  deps: PullRequestDeps,
): Promise<PullRequestAnswer> {
  const stage = stageOf(input, deps.config);
  const github = await deps.github(stage.location.repository);
  const answer =
    input.action === 'open'
      ? await openPullRequest(input, stage, github, deps)
      : await checkPullRequest(input, stage, github, deps);
  deps.reporter.info(`pull request: ${answer.state}: ${answer.message}`, {
    app: input.release.app,
    tag: input.release.tag,
    stage: input.stage,
    ...(answer.number ? { number: answer.number } : {}),
  });
  deps.reporter.count(`PullRequest_${answer.state}`);
  return answer;
}

type Github = Awaited<ReturnType<PullRequestDeps['github']>>;
type OpenInput = Extract<PullRequestInput, { action: 'open' }>;
type CheckInput = Extract<PullRequestInput, { action: 'check' }>;

async function openPullRequest(
  input: OpenInput,
  { settings, location, change }: Stage,
  { repository, pullRequests }: Github,
  deps: PullRequestDeps,
): Promise<PullRequestAnswer> {
  const { app, tag } = input.release;
  const now = deps.now();
  // A rollback has a branch of its own, apart from the releases' (which never close it, nor it them).
  const promotion = input.edit === 'promotion';
  const branch = promotion ? pullRequestBranch(app, input.stage, tag) : rollbackBranch(app, input.stage, tag);
  const base = {
    repository: location.repository,
    base: location.branch,
    merge: settings.merge,
    checkedAt: now.toISOString(),
    waitSeconds: 1,
  };

  // A newer release's pull request already open: proposing ours would only close it.
  const others = promotion
    ? (await pullRequests.listOpen(location.branch, pullRequestBranchPrefix(app, input.stage))).filter(
        (other) => other.head !== branch && tagOfBranch(other.head, app, input.stage) !== undefined,
      )
    : [];
  const newer = others.find(
    (other) => (compareReleaseTags(tagOfBranch(other.head, app, input.stage) ?? '', tag) ?? 0) > 0,
  );
  if (newer) {
    const newerTag = tagOfBranch(newer.head, app, input.stage);
    return {
      ...base,
      state: 'superseded',
      previousTag: null,
      previousDigest: null,
      message: supersededCause({
        image: input.release.image,
        tag,
        stage: input.stage,
        newerTag,
        detail: `#${newer.number} (${newer.url}) proposes ${newerTag} to ${location.branch} of ${location.repository}; no pull request was opened for ${tag}.`,
      }),
    };
  }

  const proposal = await propose(repository, location.branch, change, input.execution);
  if (proposal.status !== 'proposed') return settledWithoutPullRequest(proposal, base);

  await pullRequests.putBranch(branch, proposal.commit);
  const opened = await pullRequests.open({
    head: branch,
    base: location.branch,
    title: pullRequestTitle(change),
    body: pullRequestBody({
      change,
      execution: input.execution,
      approval: input.approval,
      evidence: input.evidence,
      merge: settings.merge,
    }),
    ...(settings.reviewers ? { reviewers: settings.reviewers } : {}),
  });

  // Older releases' pull requests: ours replaces them (tags without an order count as older: ours is the latest push).
  for (const other of others) {
    try {
      await pullRequests.close(other.number, supersededComment(opened.number, tag));
      await pullRequests.deleteBranch(other.head);
    } catch (error) {
      // Its own run closes it at its deadline at the latest; ours must not fail for it.
      deps.reporter.warn('could not close an older pull request as superseded', {
        number: other.number,
        ...errorAttributes(error),
      });
    }
  }

  const deadline = new Date(now.getTime() + settings.timeout * 1000);
  return {
    ...base,
    state: 'open',
    message: `#${opened.number} opened: ${opened.url}`,
    number: opened.number,
    url: opened.url,
    branch,
    headCommit: proposal.commit,
    openedAt: now.toISOString(),
    deadline: deadline.toISOString(),
    // The first look follows at once (the state machine checks right after opening).
    waitSeconds: pullRequestPollSeconds(0, settings.timeout),
    previousTag: proposal.previousTag,
    previousDigest: proposal.previousDigest,
  };
}

/** Nothing to propose: the base carries the release already, or a newer one. */
function settledWithoutPullRequest(
  proposal: Exclude<Proposal, { status: 'proposed' }>,
  base: Pick<PullRequestAnswer, 'repository' | 'base' | 'checkedAt' | 'waitSeconds'>,
): PullRequestAnswer {
  if (proposal.status === 'superseded') {
    return { ...base, state: 'superseded', message: proposal.cause, previousTag: null, previousDigest: null };
  }
  const previous = { previousTag: proposal.previousTag, previousDigest: proposal.previousDigest };
  return {
    ...base,
    ...previous,
    state: 'unchanged',
    message: `${base.base} of ${base.repository} already carries the release at ${proposal.commit.slice(0, 7)}: nothing to propose`,
    commit: { commit: proposal.commit, status: 'unchanged', ...previous },
  };
}

async function checkPullRequest(
  input: CheckInput,
  stage: Stage,
  github: Github,
  deps: PullRequestDeps,
): Promise<PullRequestAnswer> {
  const previous = input.pullRequest;
  const { number, branch, headCommit, openedAt, deadline } = previous;
  if (previous.state !== 'open') return previous;
  if (!number || !branch || !headCommit || !openedAt || !deadline) {
    throw new TerminalError(
      'an open pull request answer needs its number, branch, head commit, opening time and deadline',
    );
  }
  const now = deps.now();
  const elapsed = (now.getTime() - Date.parse(openedAt)) / 1000;
  const remaining = (Date.parse(deadline) - now.getTime()) / 1000;
  const waiting = (message: string, head = headCommit): PullRequestAnswer => ({
    ...previous,
    state: 'open',
    message,
    headCommit: head,
    waitSeconds: pullRequestPollSeconds(elapsed, remaining),
    checkedAt: now.toISOString(),
  });
  const { pullRequests } = github;

  let pullRequest: PullRequest;
  try {
    pullRequest = await pullRequests.get(number);
  } catch (error) {
    if (!(error instanceof GitHubUnavailableError)) throw error;
    // An outage is a reason to look again, within the same deadline.
    return remaining > 0
      ? waiting(`#${number}: GitHub did not answer (${error.message}); looking again`)
      : expire();
  }
  const { status } = pullRequest;

  if (status.state === 'merged') return merged(status.mergeCommit, status.mergedBy);
  if (status.state === 'closed') {
    await deleteBranch();
    const notes = await pullRequests.comments(number);
    const note = notes.map((comment) => supersededNote(comment.body)).find(Boolean);
    if (note) {
      return {
        ...settled('superseded'),
        message: supersededCause({
          image: input.release.image,
          tag: input.release.tag,
          stage: input.stage,
          newerTag: note.tag,
          detail: `#${number} was closed for #${note.number}.`,
        }),
      };
    }
    return {
      ...settled('rejected'),
      by: status.closedBy,
      message: `#${number} (${previous.url}) was closed without merging by ${status.closedBy ?? 'someone'}; ${input.stage} was not changed`,
    };
  }
  if (remaining <= 0) return expire();
  if (stage.settings.merge === 'manual') return waiting(`#${number} waits for a person to merge it`);

  // merge: auto — only the head Shiplane proposed is merged; a branch someone pushed to is theirs to merge.
  if (pullRequest.headCommit !== headCommit) {
    return waiting(
      `#${number}'s branch moved to ${pullRequest.headCommit.slice(0, 7)} (not Shiplane's ${headCommit.slice(0, 7)}): Shiplane does not merge it; merge or close it by hand`,
    );
  }
  if (status.mergeable === false || status.mergeableState === 'dirty' || status.mergeableState === 'behind') {
    return rebuild(status.mergeableState);
  }
  if (status.mergeable === null) return waiting(`#${number}: GitHub is still computing whether it can merge`);
  if (status.mergeableState === 'blocked') {
    return waiting(`#${number} is blocked: required reviews or checks have not passed yet`);
  }
  const answer = await pullRequests.merge(number, stage.settings.method, headCommit);
  if (answer.merged) return merged(answer.commit, null);
  return waiting(
    answer.reason === 'head-changed'
      ? `#${number}'s head changed while merging: reading it again`
      : `#${number} is not mergeable yet: ${answer.detail}`,
  );

  function settled(state: PullRequestAnswer['state']): PullRequestAnswer {
    return { ...previous, state, checkedAt: now.toISOString() };
  }

  async function deleteBranch(): Promise<void> {
    try {
      await pullRequests.deleteBranch(branch!);
    } catch (error) {
      deps.reporter.warn('could not delete a pull request branch', {
        number,
        branch,
        ...errorAttributes(error),
      });
    }
  }

  async function merged(commit: string, by: string | null): Promise<PullRequestAnswer> {
    await deleteBranch();
    const previousTags = { previousTag: previous.previousTag, previousDigest: previous.previousDigest };
    return {
      ...settled('merged'),
      by,
      message: `#${number} merged${by ? ` by ${by}` : ''} as ${commit.slice(0, 7)}`,
      commit: {
        commit,
        status: 'committed',
        ...previousTags,
        pullRequest: number!,
        ...(previous.url ? { pullRequestUrl: previous.url } : {}),
        ...(by ? { mergedBy: by } : {}),
      },
    };
  }

  async function expire(): Promise<PullRequestAnswer> {
    const timeout = formatDuration(stage.settings.timeout);
    await pullRequests.close(
      number!,
      `Not merged within ${timeout} (the stage's pullRequest.timeout): Shiplane closed it, and run \`${input.execution}\` ended expired.`,
    );
    // A person may have merged it between the look and the close: then it is merged, not expired.
    const after = await pullRequests.get(number!);
    if (after.status.state === 'merged') return merged(after.status.mergeCommit, after.status.mergedBy);
    await deleteBranch();
    return {
      ...settled('expired'),
      message: `#${number} (${previous.url}) was not merged within ${timeout}; Shiplane closed it and ${input.stage} was not changed`,
    };
  }

  /** A conflict (or a base that moved on where that blocks the merge): the edit again, on the current base. */
  async function rebuild(why: string): Promise<PullRequestAnswer> {
    const proposal = await propose(github.repository, stage.location.branch, stage.change, input.execution);
    if (proposal.status === 'proposed') {
      await pullRequests.putBranch(branch!, proposal.commit);
      return {
        ...waiting(
          `#${number} ${why === 'behind' ? 'was behind' : 'conflicted with'} ${stage.location.branch}: rebuilt on ${proposal.base.slice(0, 7)}`,
          proposal.commit,
        ),
        previousTag: proposal.previousTag,
        previousDigest: proposal.previousDigest,
      };
    }
    const comment =
      proposal.status === 'superseded'
        ? `${stage.location.branch} already pins a newer release (${proposal.newerTag ?? 'unknown'}): Shiplane closed this pull request.`
        : `${stage.location.branch} already carries this release: Shiplane closed this pull request.`;
    await pullRequests.close(number!, comment);
    await deleteBranch();
    return {
      ...settledWithoutPullRequest(proposal, { ...previous, checkedAt: now.toISOString() }),
      number: number!,
      ...(previous.url ? { url: previous.url } : {}),
    };
  }
}
