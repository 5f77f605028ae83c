/**
 * A change proposed through a pull request (`stages[].pullRequest`), as states: `Open pull request`
 * → notify → `Check pull request` → `Pull request merged?`. `open` waits the answer's `waitSeconds`
 * (config/pull-request-poll.ts's backing-off schedule) and looks again; `merged` (or `unchanged`: the
 * branch already carried it) copies the answer's commit result to `commitPath`, exactly where the
 * committer's result lands, and goes on; closed, expired and superseded end where the caller says.
 * The promotion (and manual rollback) of a stage and its automatic rollback build their loops here.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Choice, Condition, JsonPath, Pass, type State, Wait, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERRORS, type PullRequestInput } from '../../shared/contracts/tasks.js';
import { type RenderedFields, taskInput } from './task-payloads.js';
import { TASK_RETRIES } from './task-retries.js';

type OpenInput = Extract<PullRequestInput, { action: 'open' }>;
type CheckInput = Extract<PullRequestInput, { action: 'check' }>;

/** The state names of one loop. */
export interface PullRequestStateNames {
  readonly openPullRequest: string;
  readonly notifyPullRequest: string;
  readonly checkPullRequest: string;
  readonly pullRequestMerged: string;
  readonly waitForPullRequest: string;
  readonly pullRequestCommit: string;
  readonly pullRequestClosed: string;
  readonly pullRequestExpired: string;
  readonly pullRequestSuperseded: string;
  readonly pullRequestInvalid: string;
}

/** Where an ending goes, and where its `{Error, Cause}` is written. */
export interface PullRequestEnding {
  readonly state: State;
  /** @default '$.error' */
  readonly resultPath?: string;
}

export interface PullRequestStatesProps {
  /** Prefix of the construct ids (unique per loop). */
  readonly id: string;
  readonly names: PullRequestStateNames;
  readonly pullRequest: IFunction;
  readonly stage: string;
  /** The fields both actions send (execution, stage, release, edit and its rollback fields). */
  readonly fields: Omit<RenderedFields<CheckInput>, 'action' | 'pullRequest'>;
  /** What `open` sends besides: the approval and the evidence for the body. */
  readonly openFields?: Pick<RenderedFields<OpenInput>, 'approval' | 'evidence'>;
  /** Where the answers are kept (`$.stages.<stage>.pullRequest`). */
  readonly answerPath: string;
  /** Where a merge's commit result goes (`$.stages.<stage>.commit`). */
  readonly commitPath: string;
  /** A notify task (never fails the run) for the pull request's link. */
  readonly notify: (id: string, stateName: string, detailPath: string, next: State) => State;
  readonly onCommitted: State;
  readonly onSuperseded: PullRequestEnding;
  readonly onRejected: PullRequestEnding;
  readonly onExpired: PullRequestEnding;
  /** A task error, and an answer the Choice does not know. */
  readonly onFailed: PullRequestEnding;
}

/** Builds the loop; returns its first state. */
export function pullRequestStates(scope: Construct, props: PullRequestStatesProps): State {
  const { id, names, answerPath: answer } = props;
  const task = (taskId: string, stateName: string, payload: ReturnType<typeof taskInput>) => {
    const invoke = new LambdaInvoke(scope, taskId, {
      stateName,
      lambdaFunction: props.pullRequest,
      payload,
      payloadResponseOnly: true,
      resultPath: answer,
      retryOnServiceExceptions: false,
    });
    invoke.addRetry(TASK_RETRIES.pullRequest);
    invoke.addCatch(props.onFailed.state, {
      errors: ['States.ALL'],
      resultPath: props.onFailed.resultPath ?? '$.error',
    });
    return invoke;
  };
  const open = task(
    `${id}-open-pull-request`,
    names.openPullRequest,
    taskInput<OpenInput>({ action: 'open', ...props.fields, ...props.openFields }),
  );
  const check = task(
    `${id}-check-pull-request`,
    names.checkPullRequest,
    taskInput<CheckInput>({ action: 'check', ...props.fields, pullRequest: JsonPath.objectAt(answer) }),
  );
  // The thread gets the pull request's link (an answer with nothing opened posts nothing).
  open.next(props.notify(`${id}-notify-pull-request`, names.notifyPullRequest, answer, check));

  const wait = new Wait(scope, `${id}-wait-for-pull-request`, {
    stateName: names.waitForPullRequest,
    time: WaitTime.secondsPath(`${answer}.waitSeconds`),
  });
  wait.next(check);
  const committed = new Pass(scope, `${id}-pull-request-commit`, {
    stateName: names.pullRequestCommit,
    inputPath: `${answer}.commit`,
    resultPath: props.commitPath,
  });
  committed.next(props.onCommitted);
  const ending = (endId: string, stateName: string, error: string, then: PullRequestEnding) =>
    new Pass(scope, `${id}-${endId}`, {
      stateName,
      parameters: { Error: error, Cause: JsonPath.stringAt(`${answer}.message`) },
      resultPath: then.resultPath ?? '$.error',
    }).next(then.state);
  const state = `${answer}.state`;
  check.next(
    new Choice(scope, `${id}-pull-request-merged`, { stateName: names.pullRequestMerged })
      .when(Condition.stringEquals(state, 'merged'), committed)
      .when(Condition.stringEquals(state, 'unchanged'), committed)
      .when(Condition.stringEquals(state, 'open'), wait)
      .when(
        Condition.stringEquals(state, 'rejected'),
        ending('pull-request-closed', names.pullRequestClosed, ERRORS.pullRequestClosed, props.onRejected),
      )
      .when(
        Condition.stringEquals(state, 'expired'),
        ending('pull-request-expired', names.pullRequestExpired, ERRORS.pullRequestExpired, props.onExpired),
      )
      .when(
        Condition.stringEquals(state, 'superseded'),
        ending('pull-request-superseded', names.pullRequestSuperseded, ERRORS.superseded, props.onSuperseded),
      )
      .otherwise(
        ending('pull-request-invalid', names.pullRequestInvalid, ERRORS.commitFailed, props.onFailed),
      ),
  );
  return open;
}

/** The loop's names with a prefix and a word for what the pull request is (`manual rollback `, `rollback `). */
export function pullRequestStateNames(
  t: string,
  what: '' | 'manual rollback ' | 'rollback ',
): PullRequestStateNames {
  const lead = what ? `${what.charAt(0).toUpperCase()}${what.slice(1)}pull request` : 'Pull request';
  return {
    openPullRequest: `${t} · Open ${what}pull request`,
    notifyPullRequest: `${t} · Notify ${what}pull request opened`,
    checkPullRequest: `${t} · Check ${what}pull request`,
    pullRequestMerged: `${t} · ${lead} merged?`,
    waitForPullRequest: `${t} · Wait for ${what}pull request`,
    pullRequestCommit: `${t} · ${lead} commit`,
    pullRequestClosed: `${t} · ${lead} closed`,
    pullRequestExpired: `${t} · ${lead} expired`,
    pullRequestSuperseded: `${t} · ${lead} superseded`,
    pullRequestInvalid: `${t} · ${lead} answer invalid`,
  };
}
