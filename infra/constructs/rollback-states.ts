/**
 * The automatic rollback of a stage (`stages[].rollback: auto`): when the stage turns Degraded at
 * the run's commit, or its health wait times out with the app Degraded, the run commits the entry
 * the stage pinned before it through the same commit queue, waits for Argo CD to report the stage
 * Synced and Healthy at that commit, tells the release thread and ends `Rolled back`
 * (FAILED, `Shiplane.RolledBack`: a failed change is a failure). A rollback that cannot be done
 * ends `Failed`, saying the stage is left degraded and why; a newer release that replaced the run's
 * entry meanwhile ends the run `Superseded` (the committer refuses to roll back over it).
 *
 * The run keeps its rollback under `$.stages.<stage>.rollback` (see rollbackProgressSchema).
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JsonPath,
  Pass,
  Result,
  type State,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { formatDuration } from '../../shared/config/duration.js';
import type { Config, StageConfig } from '../../shared/config/schema.js';
import { ERRORS, type NotificationEvent } from '../../shared/contracts/tasks.js';
import { argoCdCheckTask } from './argocd-check-task.js';
import { stageCommit } from './commit-task.js';
import { pullRequestStateNames, pullRequestStates } from './pull-request-states.js';

/** The terminal state of a rolled-back run. */
export const ROLLED_BACK_STATE_NAME = 'Rolled back';

/** The names of a stage's rollback states, as people read them in the console. */
export function rollbackStateNames(title: string) {
  return {
    degradedAtTimeout: `${title} · Degraded at timeout?`,
    canRollBack: `${title} · Roll back?`,
    planWithDigest: `${title} · Plan rollback to tag and digest`,
    planTag: `${title} · Plan rollback to tag`,
    nothingBefore: `${title} · Nothing to roll back to`,
    notifyRollingBack: `${title} · Notify rolling back`,
    commit: `${title} · Commit rollback`,
    notifySuperseded: `${title} · Notify rollback superseded`,
    newerRelease: `${title} · Newer release over rollback`,
    replaced: `${title} · Rollback replaced`,
    startWait: `${title} · Start rollback wait`,
    waitForArgo: `${title} · Wait for rollback`,
    healthy: `${title} · Rolled back?`,
    pollAgain: `${title} · Poll rollback again`,
    countPoll: `${title} · Count rollback poll`,
    degraded: `${title} · Rollback degraded`,
    timedOut: `${title} · Rollback timed out`,
    failed: `${title} · Rollback failed`,
    notifyLeftDegraded: `${title} · Notify left degraded`,
    record: `${title} · Record rollback`,
    notifyRolledBack: `${title} · Notify rolled back`,
  } as const;
}

/** Builds a notify task the way the promotion definition does (never fails the run). */
export type NotifyTaskFactory = (
  id: string,
  stateName: string,
  event: NotificationEvent,
  next: IChainable,
  options: { readonly stage?: string; readonly detailPath?: string },
) => State;

export interface RollbackStatesProps {
  readonly config: Config;
  readonly commitQueue: IQueue;
  readonly argocdHealth: IFunction;
  readonly notifyTask: NotifyTaskFactory;
  /** The run's `Failed` state (error and cause from `$.error`). */
  readonly failed: State;
  /** The run's `Superseded` state. */
  readonly superseded: () => State;
  /** The console prefix of a stage's states (`Staging`). */
  readonly title: (stage: string) => string;
  /** How many Argo CD polls fit in the stage's health timeout. */
  readonly maxPollAttempts: (stage: StageConfig) => number;
  /** Only when some stage has `pullRequest`: such a stage's rollback goes through a pull request too. */
  readonly pullRequest?: IFunction | undefined;
}

/** What the promotion definition wires to: where `Degraded` and `Timed out` lead. */
export interface StageRollback {
  /** Where the stage's `Degraded` state leads: the rollback (or the left-degraded failure). */
  readonly start: State;
  /** Where the stage's `Timed out` state leads: the rollback when Argo CD last said Degraded, else `otherwise`. */
  afterTimeout(otherwise: State): State;
}

/** The rollback states of every stage that rolls back, with the one `Rolled back` state they share. */
export class RollbackStates {
  private rolledBack: Fail | undefined;

  constructor(
    private readonly scope: Construct,
    private readonly props: RollbackStatesProps,
  ) {}

  /** The stage's rollback, entered with `$.error` saying why the stage failed. */
  forStage(stage: StageConfig): StageRollback {
    const { scope, props } = this;
    const s = stage.name;
    const names = rollbackStateNames(props.title(s));
    const at = `$.stages.${s}`;
    const rb = `${at}.rollback`;
    const maxAttempts = props.maxPollAttempts(stage);

    // Every way the rollback fails ends here: the stage keeps the run's (bad) entry, and says why.
    const notifyLeftDegraded = props.notifyTask(
      `${s}-notify-left-degraded`,
      names.notifyLeftDegraded,
      'failed',
      props.failed,
      { stage: s, detailPath: '$.error' },
    );
    const failed = new Pass(scope, `${s}-rollback-failed`, {
      stateName: names.failed,
      parameters: {
        Error: JsonPath.stringAt(`${rb}.error`),
        Cause: JsonPath.format(
          `{}; ${s} is left degraded on {}: the rollback to {} failed: {}`,
          JsonPath.stringAt(`${rb}.reason`),
          JsonPath.stringAt('$.release.tag'),
          JsonPath.stringAt(`${rb}.target.tag`),
          JsonPath.stringAt(`${rb}.failure.Cause`),
        ),
      },
      resultPath: '$.error',
    });
    failed.next(notifyLeftDegraded);
    const nothingBefore = new Pass(scope, `${s}-nothing-to-roll-back-to`, {
      stateName: names.nothingBefore,
      parameters: {
        Error: JsonPath.stringAt('$.error.Error'),
        Cause: JsonPath.format(
          `{}; ${s} is left degraded on {}: it pinned no earlier release of {} to roll back to`,
          JsonPath.stringAt('$.error.Cause'),
          JsonPath.stringAt('$.release.tag'),
          JsonPath.stringAt('$.release.app'),
        ),
      },
      resultPath: '$.error',
    });
    nothingBefore.next(notifyLeftDegraded);

    // Rolled back: the FAILED end with its own error, after the thread and the alert are told.
    const notifyRolledBack = props.notifyTask(
      `${s}-notify-rolled-back`,
      names.notifyRolledBack,
      'rolled-back',
      this.rolledBackState(),
      { stage: s, detailPath: rb },
    );
    const record = new Pass(scope, `${s}-record-rollback`, {
      stateName: names.record,
      parameters: {
        Error: ERRORS.rolledBack,
        Cause: JsonPath.format(
          `${s} was rolled back from {} to {} at {}: {}`,
          JsonPath.stringAt('$.release.tag'),
          JsonPath.stringAt(`${rb}.target.tag`),
          JsonPath.stringAt(`${rb}.commit.commit`),
          JsonPath.stringAt(`${rb}.reason`),
        ),
      },
      resultPath: '$.error',
    });
    record.next(notifyRolledBack);

    // The Argo CD wait at the rollback commit: the same verdict and loop as the stage's own wait.
    const rollbackDegraded = new Pass(scope, `${s}-rollback-degraded`, {
      stateName: names.degraded,
      parameters: {
        Error: ERRORS.degraded,
        Cause: JsonPath.format(
          'it is Degraded too at {}: {}',
          JsonPath.stringAt(`${rb}.health.revision`),
          JsonPath.stringAt(`${rb}.health.message`),
        ),
      },
      resultPath: `${rb}.failure`,
    });
    rollbackDegraded.next(failed);
    const rollbackTimedOut = new Pass(scope, `${s}-rollback-timed-out`, {
      stateName: names.timedOut,
      parameters: {
        Error: ERRORS.healthTimeout,
        Cause: JsonPath.format(
          `still {} after ${formatDuration(stage.healthTimeout)}: {}`,
          JsonPath.stringAt(`${rb}.health.healthStatus`),
          JsonPath.stringAt(`${rb}.health.message`),
        ),
      },
      resultPath: `${rb}.failure`,
    });
    rollbackTimedOut.next(failed);

    const check = argoCdCheckTask(scope, `${s}-wait-for-rollback`, {
      config: props.config,
      stage,
      stateName: names.waitForArgo,
      argocdHealth: props.argocdHealth,
      commitPath: `${rb}.commit`,
      // What the stage's file must still pin at the revision Argo CD reports: the rollback's entry.
      release: rollbackRelease(rb),
      pinDigest: `${rb}.pinDigest`,
      pollPath: `${rb}.poll`,
      maxAttempts,
      resultPath: `${rb}.health`,
    });
    check.addCatch(failed, { errors: ['States.ALL'], resultPath: `${rb}.failure` });
    const countPoll = new Pass(scope, `${s}-count-rollback-poll`, {
      stateName: names.countPoll,
      parameters: {
        attempt: JsonPath.mathAdd(JsonPath.numberAt(`${rb}.poll.attempt`), 1),
        maxAttempts,
      },
      resultPath: `${rb}.poll`,
    });
    countPoll.next(check);
    const pollAgain = new Wait(scope, `${s}-poll-rollback-again`, {
      stateName: names.pollAgain,
      time: WaitTime.duration(Duration.seconds(stage.pollInterval)),
    });
    pollAgain.next(countPoll);
    // A newer release replaced the run's entry: rolling back would undo it, and nothing is degraded of ours.
    const notifySuperseded = props.notifyTask(
      `${s}-notify-rollback-superseded`,
      names.notifySuperseded,
      'superseded',
      props.superseded(),
      { stage: s, detailPath: '$.error' },
    );
    const rollbackSuperseded = new Pass(scope, `${s}-rollback-newer-release`, {
      stateName: names.newerRelease,
      parameters: { Error: ERRORS.superseded, Cause: JsonPath.stringAt(`${rb}.health.message`) },
      resultPath: '$.error',
    });
    rollbackSuperseded.next(notifySuperseded);
    const rollbackReplaced = new Pass(scope, `${s}-rollback-replaced`, {
      stateName: names.replaced,
      parameters: { Error: ERRORS.replaced, Cause: JsonPath.stringAt(`${rb}.health.message`) },
      resultPath: `${rb}.failure`,
    });
    rollbackReplaced.next(failed);
    const healthy = new Choice(scope, `${s}-rolled-back`, { stateName: names.healthy })
      .when(Condition.stringEquals(`${rb}.health.status`, 'healthy'), record)
      .when(Condition.stringEquals(`${rb}.health.status`, 'degraded'), rollbackDegraded)
      // A newer release replaced the rollback's entry: nothing of ours runs there any more.
      .when(Condition.stringEquals(`${rb}.health.status`, 'superseded'), rollbackSuperseded)
      // A revert or hand edit replaced the rollback's entry: the stage is not where we put it.
      .when(Condition.stringEquals(`${rb}.health.status`, 'replaced'), rollbackReplaced)
      .when(
        Condition.numberGreaterThanEqualsJsonPath(`${rb}.poll.attempt`, `${rb}.poll.maxAttempts`),
        rollbackTimedOut,
      )
      .otherwise(pollAgain);
    check.next(healthy);
    const startWait = new Pass(scope, `${s}-start-rollback-wait`, {
      stateName: names.startWait,
      result: Result.fromObject({ attempt: 1, maxAttempts }),
      resultPath: `${rb}.poll`,
    });
    startWait.next(check);

    // A stage with `pullRequest` proposes its rollback as a pull request too (the stage's merge mode:
    // with `manual`, the recovery waits for a person's merge); its commit lands where the queue's would.
    const rollbackChange = {
      of: JsonPath.stringAt('$$.Execution.Name'),
      fromTag: JsonPath.stringAt('$.release.tag'),
      fromDigest: JsonPath.stringAt('$.release.digest'),
      reason: JsonPath.stringAt(`${rb}.reason`),
    };
    let change: State;
    if (stage.pullRequest) {
      if (!props.pullRequest) {
        throw new Error(`stage ${s} has a pullRequest but the stack created no pull-request function`);
      }
      const failure = { state: failed, resultPath: `${rb}.failure` };
      change = pullRequestStates(scope, {
        id: `${s}-rollback`,
        names: pullRequestStateNames(props.title(s), 'rollback '),
        pullRequest: props.pullRequest,
        stage: s,
        fields: {
          execution: JsonPath.stringAt('$$.Execution.Name'),
          stage: s,
          release: rollbackRelease(rb),
          edit: 'rollback',
          rollback: rollbackChange,
          pinDigest: JsonPath.stringAt(`${rb}.pinDigest`),
        },
        answerPath: `${rb}.pullRequest`,
        commitPath: `${rb}.commit`,
        notify: (id, stateName, detailPath, then) =>
          props.notifyTask(id, stateName, 'pull-request', then, { stage: s, detailPath }),
        onCommitted: startWait,
        onSuperseded: { state: notifySuperseded },
        onRejected: failure,
        onExpired: failure,
        onFailed: failure,
      });
    } else {
      // The rollback commit: the same queue and message group as the stage's promotion.
      const commit = stageCommit(scope, `${s}-commit-rollback`, {
        stateName: names.commit,
        commitQueue: props.commitQueue,
        config: props.config,
        stage: s,
        change: (location) => ({
          kind: 'image',
          edit: 'rollback',
          stage: s,
          file: location.file,
          // The run's release with the earlier entry's tag (and digest, when it pinned one), merged into
          // a copy: aws-local-stepfunctions merges into its first argument, which would change $.release.
          release: rollbackRelease(rb),
          pinDigest: JsonPath.stringAt(`${rb}.pinDigest`),
          createIfMissing: false,
          valuesPath: location.valuesPath,
          digestPath: location.digestPath,
          rollback: rollbackChange,
        }),
        resultPath: `${rb}.commit`,
      });
      commit.addCatch(notifySuperseded, { errors: [ERRORS.superseded], resultPath: '$.error' });
      commit.addCatch(failed, { errors: ['States.ALL'], resultPath: `${rb}.failure` });
      commit.next(startWait);
      change = commit.start;
    }

    const notifyRollingBack = props.notifyTask(
      `${s}-notify-rolling-back`,
      names.notifyRollingBack,
      'rolling-back',
      change,
      { stage: s, detailPath: rb },
    );
    const plan = (id: string, stateName: string, withDigest: boolean) => {
      const target = {
        tag: JsonPath.stringAt(`${at}.commit.previousTag`),
        ...(withDigest ? { digest: JsonPath.stringAt(`${at}.commit.previousDigest`) } : {}),
      };
      const state = new Pass(scope, id, {
        stateName,
        parameters: {
          target,
          pinDigest: withDigest,
          error: JsonPath.stringAt('$.error.Error'),
          reason: JsonPath.stringAt('$.error.Cause'),
        },
        resultPath: rb,
      });
      state.next(notifyRollingBack);
      return state;
    };
    const previousTag = `${at}.commit.previousTag`;
    const previousDigest = `${at}.commit.previousDigest`;
    const planTag = plan(`${s}-plan-rollback-tag`, names.planTag, false);
    // Rules run in order, so no rule reads a field an earlier one found missing or null. `Not IsPresent`,
    // not `IsPresent: false`: aws-local-stepfunctions 3.0.0 never matches the latter (AWS does).
    const canRollBack = new Choice(scope, `${s}-can-roll-back`, { stateName: names.canRollBack })
      .when(
        Condition.or(Condition.not(Condition.isPresent(previousTag)), Condition.isNull(previousTag)),
        nothingBefore,
      )
      // The stage already pinned this release before the run: there is no earlier entry to go to.
      .when(Condition.stringEqualsJsonPath(previousTag, '$.release.tag'), nothingBefore)
      .when(Condition.not(Condition.isPresent(previousDigest)), planTag)
      .when(Condition.isString(previousDigest), plan(`${s}-plan-rollback-digest`, names.planWithDigest, true))
      .otherwise(planTag);

    return {
      start: canRollBack,
      afterTimeout: (otherwise) =>
        new Choice(scope, `${s}-degraded-at-timeout`, { stateName: names.degradedAtTimeout })
          .when(Condition.stringEquals(`${at}.health.healthStatus`, 'Degraded'), canRollBack)
          .otherwise(otherwise),
    };
  }

  private rolledBackState(): Fail {
    this.rolledBack ??= new Fail(this.scope, 'rolled-back', {
      stateName: ROLLED_BACK_STATE_NAME,
      error: ERRORS.rolledBack,
      causePath: '$.error.Cause',
    });
    return this.rolledBack;
  }
}

/**
 * The run's release with the earlier entry's tag (and digest, when it pinned one), merged into a
 * copy: aws-local-stepfunctions merges into its first argument, which would change `$.release`.
 */
function rollbackRelease(rb: string) {
  return JsonPath.jsonMerge(
    JsonPath.stringToJson(JsonPath.jsonToString(JsonPath.objectAt('$.release'))),
    JsonPath.objectAt(`${rb}.target`),
  );
}
