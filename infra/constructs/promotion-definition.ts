/**
 * The promotion workflow's definition (Standard, JSONPath only): its states, generated from the
 * config's stages as notes/state-machine.md specifies, the payloads its tasks send (typed against
 * shared/contracts/tasks.ts, see task-payloads) and their retries (task-retries). The functions, their
 * grants, the log group and the StateMachine resource are promotion-state-machine's.
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  Pass,
  Result,
  type State,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { formatDuration } from '../../shared/config/duration.js';
import { type Config, SCAN_POLL_SECONDS, type StageConfig } from '../../shared/config/schema.js';
import type { ScanWaitInput } from '../../shared/contracts/scan-events.js';
import {
  type ApprovalRequest,
  ERRORS,
  type Notification,
  type NotificationEvent,
  type RunOutcome,
  type ScanGateInput,
  type ScanGateResult,
} from '../../shared/contracts/tasks.js';
import { argoCdCheckTask } from './argocd-check-task.js';
import { stageCommit } from './commit-task.js';
import { freezeGate } from './freeze-gate.js';
import { pullRequestStateNames, pullRequestStates } from './pull-request-states.js';
import { RollbackStates } from './rollback-states.js';
import { taskInput } from './task-payloads.js';
import { TASK_RETRIES } from './task-retries.js';

/** The result of a Pass state that ends a run with this outcome (`$.outcome`, read by the CLI and the sandbox). */
const outcomeResult = (outcome: RunOutcome) => Result.fromString(outcome);

/** `staging` → `Staging`: the prefix of a stage's state names. */
export function stageTitle(stage: string): string {
  return stage.charAt(0).toUpperCase() + stage.slice(1);
}

/** The names of a stage's states, as people read them in the console. */
export function stageStateNames(stage: string) {
  const t = stageTitle(stage);
  return {
    awaitApproval: `${t} · Await approval`,
    notifyRejected: `${t} · Notify rejected`,
    notifyExpired: `${t} · Notify expired`,
    notifyApproved: `${t} · Notify approved`,
    approvalValid: `${t} · Approved?`,
    notApproved: `${t} · Not approved`,
    noApprover: `${t} · No approver`,
    commit: `${t} · Commit new tag`,
    notifySuperseded: `${t} · Notify superseded`,
    notifyCommitted: `${t} · Notify committed`,
    startWait: `${t} · Start Argo CD wait`,
    waitForArgo: `${t} · Wait for Argo CD`,
    healthy: `${t} · Healthy?`,
    pollAgain: `${t} · Poll again`,
    countPoll: `${t} · Count poll`,
    degraded: `${t} · Degraded`,
    notifyDegraded: `${t} · Notify degraded`,
    timedOut: `${t} · Timed out`,
    notifyTimedOut: `${t} · Notify timed out`,
    notifyHealthy: `${t} · Notify healthy`,
    newerRelease: `${t} · Newer release there`,
    replaced: `${t} · Release replaced`,
    ...pullRequestStateNames(t, ''),
  } as const;
}

/** A stage's state names, for its promotion or for its manual rollback. */
export type StageStateNames = Readonly<Record<keyof ReturnType<typeof stageStateNames>, string>>;

/**
 * The names of the states a manual rollback (`shiplane rollback`) of a stage runs through: the same
 * approval, commit and Argo CD wait as the stage's promotion, named apart so the console shows a
 * rollback run's path for what it is.
 */
export function manualRollbackStateNames(stage: string): StageStateNames {
  const t = stageTitle(stage);
  return {
    awaitApproval: `${t} · Await manual rollback approval`,
    notifyRejected: `${t} · Notify manual rollback rejected`,
    notifyExpired: `${t} · Notify manual rollback expired`,
    notifyApproved: `${t} · Notify manual rollback approved`,
    approvalValid: `${t} · Manual rollback approved?`,
    notApproved: `${t} · Manual rollback not approved`,
    noApprover: `${t} · Manual rollback has no approver`,
    commit: `${t} · Commit manual rollback`,
    notifySuperseded: `${t} · Notify manual rollback superseded`,
    notifyCommitted: `${t} · Notify manual rollback committed`,
    startWait: `${t} · Start manual rollback wait`,
    waitForArgo: `${t} · Wait for manual rollback`,
    healthy: `${t} · Manual rollback healthy?`,
    pollAgain: `${t} · Poll manual rollback again`,
    countPoll: `${t} · Count manual rollback poll`,
    degraded: `${t} · Manual rollback degraded`,
    notifyDegraded: `${t} · Notify manual rollback degraded`,
    timedOut: `${t} · Manual rollback timed out`,
    notifyTimedOut: `${t} · Notify manual rollback timed out`,
    notifyHealthy: `${t} · Notify manual rollback healthy`,
    newerRelease: `${t} · Newer release over manual rollback`,
    replaced: `${t} · Manual rollback replaced`,
    ...pullRequestStateNames(t, 'manual rollback '),
  };
}

/** The states every run has, whatever its stages. */
export const RUN_STATE_NAMES = {
  prepare: 'Prepare',
  notifyStarted: 'Notify release started',
  releaseOrRollback: 'Release or manual rollback?',
  unknownRollbackStage: 'Manual rollback of an unknown stage',
  notifyDeployed: 'Notify deployed',
  notifyFailed: 'Notify failed',
  deployed: 'Deployed',
  rejected: 'Rejected',
  expired: 'Approval expired',
  superseded: 'Superseded',
  failed: 'Failed',
  /** Only when some app has `scan`: the gate before anything is committed (see scanGateStates). */
  scanGateFor: 'Scan gate?',
  scanGate: 'Scan gate',
  scanVerdict: 'Scan verdict?',
  waitForScan: 'Wait for the scan',
  /** Only when recording the wait failed: a plain wait of one poll interval instead. */
  waitForScanPoll: 'Wait for the next scan poll',
  countScanPoll: 'Count scan poll',
  notifyBlocked: 'Notify blocked',
  blocked: 'Blocked',
} as const;

/** `Start scan gate (backend)`: where an app's gate sets its poll limit. */
export const scanGateStartName = (app: string) => `Start scan gate (${app})`;

/** How many scan polls fit in an app's `scan.timeout`. */
export function maxScanPollAttempts(timeoutSeconds: number): number {
  return Math.max(1, Math.ceil(timeoutSeconds / SCAN_POLL_SECONDS));
}

/** How many Argo CD polls fit in a stage's health timeout. */
export function maxPollAttempts(stage: StageConfig): number {
  return Math.max(1, Math.ceil(stage.healthTimeout / stage.pollInterval));
}

export interface PromotionDefinitionProps {
  readonly config: Config;
  readonly commitQueue: IQueue;
  readonly argocdHealth: IFunction;
  readonly notify: IFunction;
  readonly requestApproval: IFunction | undefined;
  /** Only when some app has `scan`. */
  readonly scanGate?: IFunction | undefined;
  /** Only when some stage has `freeze` windows. */
  readonly freezeCheck?: IFunction | undefined;
  /** Only when some stage has `pullRequest`. */
  readonly pullRequest?: IFunction | undefined;
  /** Only when some app has `scan`: records a waiting run's token, woken by the scan events. */
  readonly scanEvents?: IFunction | undefined;
}

/** Which path of a stage a set of states is: its promotion, or its manual rollback. */
interface StagePath {
  readonly names: StageStateNames;
  /** Prefix of the construct ids (unique per path). */
  readonly id: string;
  /**
   * The manual rollback: the commit and the approval carry the run's `$.rollback`, and a Degraded
   * stage is left degraded and alerted, never rolled back again.
   */
  readonly manualRollback: boolean;
}

interface NotifyOptions {
  readonly stage?: string;
  /** Where the notification's `detail` comes from. @default no detail */
  readonly detailPath?: string;
}

/**
 * Builds the states. Stages are built last to first, so each stage's `Notify healthy` can point at
 * the next stage's first state.
 */
export class PromotionDefinition extends Construct {
  readonly start: State;
  private readonly props: PromotionDefinitionProps;
  private readonly failed: Fail;
  private readonly notifyFailed: State;
  private rejected: State | undefined;
  private expired: State | undefined;
  private superseded: State | undefined;
  private readonly rollbacks: RollbackStates;

  constructor(scope: Construct, id: string, props: PromotionDefinitionProps) {
    super(scope, id);
    this.props = props;

    this.failed = new Fail(this, 'failed', {
      stateName: RUN_STATE_NAMES.failed,
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    this.notifyFailed = this.notifyTask(
      'notify-failed',
      RUN_STATE_NAMES.notifyFailed,
      'failed',
      this.failed,
      {
        detailPath: '$.error',
      },
    );
    this.rollbacks = new RollbackStates(this, {
      config: props.config,
      commitQueue: props.commitQueue,
      argocdHealth: props.argocdHealth,
      notifyTask: (...args) => this.notifyTask(...args),
      failed: this.failed,
      superseded: () => this.supersededState(),
      title: stageTitle,
      maxPollAttempts,
      pullRequest: props.pullRequest,
    });

    const deployed = new Pass(this, 'deployed', {
      stateName: RUN_STATE_NAMES.deployed,
      result: outcomeResult('deployed'),
      resultPath: '$.outcome',
    });
    let next: State = this.notifyTask(
      'notify-deployed',
      RUN_STATE_NAMES.notifyDeployed,
      'deployed',
      deployed,
      {
        detailPath: '$.stages',
      },
    );
    const notifyDeployed = next;
    for (const stage of [...props.config.stages].reverse()) {
      next = this.stageStates(stage, next, {
        names: stageStateNames(stage.name),
        id: stage.name,
        manualRollback: false,
      });
    }

    // A release (not a manual rollback, which puts back a release that already ran) of an app with
    // a scan gate passes it before its first stage.
    const release = this.scanGateStates(next);

    // A run started by `shiplane rollback` takes its stage's manual rollback path and no other stage.
    const unknownStage = new Pass(this, 'unknown-rollback-stage', {
      stateName: RUN_STATE_NAMES.unknownRollbackStage,
      parameters: {
        Error: ERRORS.rollbackInvalid,
        Cause: `the run asks to roll back a stage this state machine does not have (it has ${props.config.stages.map((stage) => stage.name).join(', ')}); nothing was changed`,
      },
      resultPath: '$.error',
    });
    unknownStage.next(this.notifyFailed);
    // Rules run in order, so no rule compares a field an earlier one found missing or not a string.
    // `Not IsPresent`, not `IsPresent: false`: aws-local-stepfunctions 3.0.0 never matches the latter.
    const route = new Choice(this, 'release-or-rollback', { stateName: RUN_STATE_NAMES.releaseOrRollback })
      .when(Condition.not(Condition.isPresent('$.rollback')), release)
      .when(Condition.not(Condition.isPresent('$.rollback.stage')), unknownStage)
      .when(Condition.not(Condition.isString('$.rollback.stage')), unknownStage);
    for (const stage of props.config.stages) {
      route.when(
        Condition.stringEquals('$.rollback.stage', stage.name),
        this.stageStates(stage, notifyDeployed, {
          names: manualRollbackStateNames(stage.name),
          id: `${stage.name}-manual-rollback`,
          manualRollback: true,
        }),
      );
    }
    route.otherwise(unknownStage);

    const notifyStarted = this.notifyTask(
      'notify-started',
      RUN_STATE_NAMES.notifyStarted,
      'started',
      route,
      // The run's input: the thread says when the run is a retry (`retryOf`) or a manual rollback (`rollback`).
      { detailPath: '$' },
    );
    const prepare = new Pass(this, 'prepare', {
      stateName: RUN_STATE_NAMES.prepare,
      // Every stage gets an empty object so later ResultPaths like $.stages.staging.commit have a parent.
      result: Result.fromObject(Object.fromEntries(props.config.stages.map((stage) => [stage.name, {}]))),
      resultPath: '$.stages',
    });
    prepare.next(notifyStarted);
    this.start = prepare;
  }

  /**
   * One stage's path: optional approval, commit, Argo CD wait loop; returns its first state. The
   * promotion path and the manual rollback path of a stage share this shape (the same commit queue,
   * approval rules and health verdict) and differ only as `path` says.
   */
  private stageStates(stage: StageConfig, onHealthy: State, path: StagePath): State {
    const s = stage.name;
    const { names, id } = path;
    const at = `$.stages.${s}`;
    const maxAttempts = maxPollAttempts(stage);

    const notifyHealthy = this.notifyTask(`${id}-notify-healthy`, names.notifyHealthy, 'healthy', onHealthy, {
      stage: s,
      detailPath: `${at}.health`,
    });
    // With rollback: auto, a Degraded stage goes back to its earlier entry instead of failing here;
    // a manual rollback that turns Degraded stays, alerted (rolling back a rollback would loop).
    const rollback =
      stage.rollback === 'auto' && !path.manualRollback ? this.rollbacks.forStage(stage) : undefined;
    const afterDegraded =
      rollback?.start ??
      this.notifyTask(`${id}-notify-degraded`, names.notifyDegraded, 'degraded', this.failed, {
        stage: s,
        detailPath: '$.error',
      });
    const degraded = new Pass(this, `${id}-degraded`, {
      stateName: names.degraded,
      parameters: {
        Error: ERRORS.degraded,
        Cause: JsonPath.format(
          `${s} is Degraded at {}: {}`,
          JsonPath.stringAt(`${at}.health.revision`),
          JsonPath.stringAt(`${at}.health.message`),
        ),
      },
      resultPath: '$.error',
    });
    degraded.next(afterDegraded);
    const notifyTimedOut = this.notifyTask(
      `${id}-notify-timed-out`,
      names.notifyTimedOut,
      'timed-out',
      this.failed,
      {
        stage: s,
        detailPath: '$.error',
      },
    );
    const timedOut = new Pass(this, `${id}-timed-out`, {
      stateName: names.timedOut,
      parameters: {
        Error: ERRORS.healthTimeout,
        Cause: JsonPath.format(
          `${s} still {} after ${formatDuration(stage.healthTimeout)}: {}`,
          JsonPath.stringAt(`${at}.health.healthStatus`),
          JsonPath.stringAt(`${at}.health.message`),
        ),
      },
      resultPath: '$.error',
    });
    timedOut.next(rollback?.afterTimeout(notifyTimedOut) ?? notifyTimedOut);

    const check = argoCdCheckTask(this, `${id}-wait-for-argocd`, {
      config: this.props.config,
      stage,
      stateName: names.waitForArgo,
      argocdHealth: this.props.argocdHealth,
      commitPath: `${at}.commit`,
      // What the stage's file must still pin at the revision Argo CD reports.
      release: JsonPath.objectAt('$.release'),
      pinDigest: stage.pinDigest,
      pollPath: `${at}.poll`,
      maxAttempts,
      resultPath: `${at}.health`,
    });
    check.addCatch(this.notifyFailed, { errors: ['States.ALL'], resultPath: '$.error' });

    const countPoll = new Pass(this, `${id}-count-poll`, {
      stateName: names.countPoll,
      parameters: {
        attempt: JsonPath.mathAdd(JsonPath.numberAt(`${at}.poll.attempt`), 1),
        maxAttempts,
      },
      resultPath: `${at}.poll`,
    });
    countPoll.next(check);
    const pollAgain = new Wait(this, `${id}-poll-again`, {
      stateName: names.pollAgain,
      time: WaitTime.duration(Duration.seconds(stage.pollInterval)),
    });
    pollAgain.next(countPoll);
    // The stage's file no longer pins our release at the revision Argo CD reports (see check-health):
    // a newer release supersedes the run; anything else (a revert, a hand edit) fails it.
    const newerRelease = new Pass(this, `${id}-newer-release`, {
      stateName: names.newerRelease,
      parameters: { Error: ERRORS.superseded, Cause: JsonPath.stringAt(`${at}.health.message`) },
      resultPath: '$.error',
    });
    const replaced = new Pass(this, `${id}-replaced`, {
      stateName: names.replaced,
      parameters: { Error: ERRORS.replaced, Cause: JsonPath.stringAt(`${at}.health.message`) },
      resultPath: '$.error',
    });
    replaced.next(this.notifyFailed);
    const healthy = new Choice(this, `${id}-healthy`, { stateName: names.healthy })
      .when(Condition.stringEquals(`${at}.health.status`, 'healthy'), notifyHealthy)
      .when(Condition.stringEquals(`${at}.health.status`, 'degraded'), degraded)
      .when(Condition.stringEquals(`${at}.health.status`, 'superseded'), newerRelease)
      .when(Condition.stringEquals(`${at}.health.status`, 'replaced'), replaced)
      .when(
        Condition.numberGreaterThanEqualsJsonPath(`${at}.poll.attempt`, `${at}.poll.maxAttempts`),
        timedOut,
      )
      .otherwise(pollAgain);
    check.next(healthy);

    const startWait = new Pass(this, `${id}-start-wait`, {
      stateName: names.startWait,
      result: Result.fromObject({ attempt: 1, maxAttempts }),
      resultPath: `${at}.poll`,
    });
    startWait.next(check);
    const notifyCommitted = this.notifyTask(
      `${id}-notify-committed`,
      names.notifyCommitted,
      'committed',
      startWait,
      {
        stage: s,
        detailPath: `${at}.commit`,
      },
    );

    // A rejection or expiry (of the approval, or of the pull request) notifies once per stage path.
    let notifyRejected: State | undefined;
    let notifyExpired: State | undefined;
    const rejected = () =>
      (notifyRejected ??= this.notifyTask(
        `${id}-notify-rejected`,
        names.notifyRejected,
        'rejected',
        this.rejectedState(),
        { stage: s, detailPath: '$.error' },
      ));
    const expired = () =>
      (notifyExpired ??= this.notifyTask(
        `${id}-notify-expired`,
        names.notifyExpired,
        'expired',
        this.expiredState(),
        {
          stage: s,
          detailPath: '$.error',
        },
      ));

    // A newer release already in the stage is not a failure: the run ends Superseded, no alarm.
    const notifySuperseded = this.notifyTask(
      `${id}-notify-superseded`,
      names.notifySuperseded,
      'superseded',
      this.supersededState(),
      { stage: s, detailPath: '$.error' },
    );
    newerRelease.next(notifySuperseded);

    // A stage with `pullRequest` proposes the change through a pull request; any other commits it
    // through the commit queue.
    const change = stage.pullRequest
      ? this.pullRequestStates(stage, path, {
          onCommitted: notifyCommitted,
          onSuperseded: notifySuperseded,
          onRejected: rejected,
          onExpired: expired,
        })
      : this.commitStates(stage, path, { onCommitted: notifyCommitted, onSuperseded: notifySuperseded });

    const { approval } = stage;
    if (!approval) return this.freezeGateBefore(stage, change, path);
    const requestApproval = this.props.requestApproval;
    if (!requestApproval) {
      throw new Error(`stage ${s} has an approval but the stack created no request-approval function`);
    }
    const notifyApproved = this.notifyTask(
      `${id}-notify-approved`,
      names.notifyApproved,
      'approved',
      change,
      {
        stage: s,
        detailPath: `${at}.approval`,
      },
    );
    const awaitApproval = new LambdaInvoke(this, `${id}-await-approval`, {
      stateName: names.awaitApproval,
      lambdaFunction: requestApproval,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: taskInput<ApprovalRequest>({
        taskToken: JsonPath.taskToken,
        execution: JsonPath.stringAt('$$.Execution.Name'),
        stage: s,
        release: JsonPath.objectAt('$.release'),
        approvers: approval.approvers,
        timeoutSeconds: approval.timeout,
        stages: JsonPath.objectAt('$.stages'),
        // The approval message asks to roll back, naming from → to and the reason.
        rollback: path.manualRollback ? JsonPath.objectAt('$.rollback') : undefined,
      }),
      taskTimeout: Timeout.duration(Duration.seconds(approval.timeout)),
      resultPath: `${at}.approval`,
      retryOnServiceExceptions: false,
    });
    awaitApproval.addRetry(TASK_RETRIES.lambdaTask);
    awaitApproval.addCatch(rejected(), { errors: [ERRORS.rejected], resultPath: '$.error' });
    awaitApproval.addCatch(expired(), { errors: ['States.Timeout'], resultPath: '$.error' });
    // request-approval of a newer release of the app fails this older run's approval task.
    awaitApproval.addCatch(notifySuperseded, { errors: [ERRORS.superseded], resultPath: '$.error' });
    awaitApproval.addCatch(this.notifyFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    awaitApproval.next(this.approvalCheck(s, notifyApproved, path));
    return this.freezeGateBefore(stage, awaitApproval, path);
  }

  /** The stage's commit through the commit queue (stageCommit); returns its first state. */
  private commitStates(
    stage: StageConfig,
    path: StagePath,
    next: { readonly onCommitted: State; readonly onSuperseded: State },
  ): State {
    const s = stage.name;
    const commit = stageCommit(this, `${path.id}-commit`, {
      stateName: path.names.commit,
      commitQueue: this.props.commitQueue,
      config: this.props.config,
      stage: s,
      change: (location) => ({
        kind: 'image',
        edit: path.manualRollback ? 'manual-rollback' : 'promotion',
        stage: s,
        file: location.file,
        release: JsonPath.objectAt('$.release'),
        pinDigest: location.pinDigest,
        createIfMissing: location.createIfMissing,
        valuesPath: location.valuesPath,
        digestPath: location.digestPath,
        // The committer admits this move back only because the run's input asks for exactly it.
        manualRollback: path.manualRollback ? JsonPath.objectAt('$.rollback') : undefined,
      }),
      resultPath: `$.stages.${s}.commit`,
    });
    commit.addCatch(next.onSuperseded, { errors: [ERRORS.superseded], resultPath: '$.error' });
    commit.addCatch(this.notifyFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    commit.next(next.onCommitted);
    return commit.start;
  }

  /**
   * A stage's pull request (`stages[].pullRequest`, see pull-request-states.ts): merged goes on to
   * `Notify committed` and the Argo CD wait at the merge commit as a direct commit does; closed,
   * expired and superseded end the run through the stage's own notifications of those outcomes.
   */
  private pullRequestStates(
    stage: StageConfig,
    path: StagePath,
    next: {
      readonly onCommitted: State;
      readonly onSuperseded: State;
      readonly onRejected: () => State;
      readonly onExpired: () => State;
    },
  ): State {
    const fn = this.props.pullRequest;
    if (!fn)
      throw new Error(`stage ${stage.name} has a pullRequest but the stack created no pull-request function`);
    const s = stage.name;
    const at = `$.stages.${s}`;
    return pullRequestStates(this, {
      id: path.id,
      names: path.names,
      pullRequest: fn,
      stage: s,
      fields: {
        execution: JsonPath.stringAt('$$.Execution.Name'),
        stage: s,
        release: JsonPath.objectAt('$.release'),
        edit: path.manualRollback ? 'manual-rollback' : 'promotion',
        manualRollback: path.manualRollback ? JsonPath.objectAt('$.rollback') : undefined,
      },
      openFields: {
        // Approval comes first: the pull request's body names the approver.
        approval: stage.approval ? JsonPath.objectAt(`${at}.approval`) : undefined,
        evidence: JsonPath.objectAt('$.stages'),
      },
      answerPath: `${at}.pullRequest`,
      commitPath: `${at}.commit`,
      notify: (id, stateName, detailPath, then) =>
        this.notifyTask(id, stateName, 'pull-request', then, { stage: s, detailPath }),
      onCommitted: next.onCommitted,
      onSuperseded: { state: next.onSuperseded },
      onRejected: { state: next.onRejected() },
      onExpired: { state: next.onExpired() },
      onFailed: { state: this.notifyFailed },
    });
  }

  /**
   * A stage with `freeze` windows is entered through its freeze gate (freeze-gate.ts). A manual
   * rollback is not held: recovery must stay possible during a freeze (its approval still applies).
   */
  private freezeGateBefore(stage: StageConfig, entry: State, path: StagePath): State {
    if (stage.freeze.length === 0 || path.manualRollback) return entry;
    const { freezeCheck } = this.props;
    if (!freezeCheck) throw new Error(`stage ${stage.name} has freeze windows but no freeze-check function`);
    return freezeGate(this, `${path.id}-freeze`, {
      stage: stage.name,
      title: stageTitle(stage.name),
      freezeCheck,
      notifyFrozen: (stateName, detailPath, next) =>
        this.notifyTask(`${path.id}-notify-frozen`, stateName, 'frozen', next, {
          stage: stage.name,
          detailPath,
        }),
      next: entry,
      onError: this.notifyFailed,
    });
  }

  /**
   * Production moves only on an answer that says `decision: approved` and who approved: anything
   * else a token holder sends with SendTaskSuccess (`{}`, a commit result, a hand-written answer)
   * fails the run with an alert. Choice rules are tried in order, so each comparison runs only
   * after the rules before it established that its field is present and a string (a comparison on
   * a missing field is a States.Runtime error, which no Catch would turn into an alert); only the
   * one positive rule leads on, so a case not listed fails closed.
   */
  private approvalCheck(s: string, onApproved: State, path: StagePath): State {
    const { names, id } = path;
    const decision = `$.stages.${s}.approval.decision`;
    const by = `$.stages.${s}.approval.by`;
    const invalid = (id: string, stateName: string, cause: string) =>
      new Pass(this, id, {
        stateName,
        parameters: { Error: ERRORS.approvalInvalid, Cause: cause },
        resultPath: '$.error',
      }).next(this.notifyFailed);
    const notApproved = invalid(
      `${id}-not-approved`,
      names.notApproved,
      `${names.awaitApproval} answered without decision: approved; ${s} was not changed`,
    );
    const noApprover = invalid(
      `${id}-no-approver`,
      names.noApprover,
      `${names.awaitApproval} answered approved without an approver (by); ${s} was not changed`,
    );
    return new Choice(this, `${id}-approval-valid`, { stateName: names.approvalValid })
      .when(Condition.not(Condition.isPresent(decision)), notApproved)
      .when(Condition.not(Condition.isString(decision)), notApproved)
      .when(Condition.not(Condition.stringEquals(decision, 'approved')), notApproved)
      .when(Condition.not(Condition.isPresent(by)), noApprover)
      .when(Condition.not(Condition.isString(by)), noApprover)
      .when(
        Condition.and(
          Condition.stringEquals(decision, 'approved'),
          Condition.not(Condition.stringEquals(by, '')),
        ),
        onApproved,
      )
      .otherwise(noApprover);
  }

  /**
   * The scan gate: a Choice sends apps with `scan` to their start (the poll limit of their timeout),
   * others straight to `onPass`. `Scan gate` asks scan-gate; `pending` waits SCAN_POLL_SECONDS and
   * asks again (the function turns the last allowed poll's pending into blocked); `blocked` notifies
   * and ends the run `Blocked` (SUCCEEDED: a verdict on the image, not a pipeline failure) before
   * anything is committed. Returns `onPass` unchanged when no app has a gate.
   */
  private scanGateStates(onPass: State): State {
    const apps = Object.entries(this.props.config.apps).flatMap(([name, app]) =>
      app.scan ? [{ name, timeout: app.scan.timeout }] : [],
    );
    if (apps.length === 0) return onPass;
    const fn = this.props.scanGate;
    if (!fn) throw new Error('some app has a scan gate but the stack created no scan-gate function');
    const N = RUN_STATE_NAMES;
    const poll = '$.scan.poll';

    const blocked = new Pass(this, 'blocked', {
      stateName: N.blocked,
      result: outcomeResult('blocked'),
      resultPath: '$.outcome',
    });
    const notifyBlocked = this.notifyTask('notify-blocked', N.notifyBlocked, 'blocked', blocked, {
      detailPath: '$.scan.result',
    });
    const check = new LambdaInvoke(this, 'scan-gate', {
      stateName: N.scanGate,
      lambdaFunction: fn,
      payload: taskInput<ScanGateInput>({
        execution: JsonPath.stringAt('$$.Execution.Name'),
        release: JsonPath.objectAt('$.release'),
        attempt: JsonPath.numberAt(`${poll}.attempt`),
        maxAttempts: JsonPath.numberAt(`${poll}.maxAttempts`),
      }),
      resultSelector: {
        verdict: JsonPath.stringAt('$.Payload.verdict'),
        reason: JsonPath.stringAt('$.Payload.reason'),
        findings: JsonPath.objectAt('$.Payload.findings'),
        total: JsonPath.numberAt('$.Payload.total'),
        ignored: JsonPath.numberAt('$.Payload.ignored'),
        checkedAt: JsonPath.stringAt('$.Payload.checkedAt'),
        attempt: JsonPath.numberAt('$.Payload.attempt'),
      } satisfies Record<keyof ScanGateResult, unknown>,
      resultPath: '$.scan.result',
      retryOnServiceExceptions: false,
    });
    check.addRetry(TASK_RETRIES.lambdaTask);
    check.addCatch(this.notifyFailed, { errors: ['States.ALL'], resultPath: '$.error' });

    const countPoll = new Pass(this, 'count-scan-poll', {
      stateName: N.countScanPoll,
      parameters: {
        attempt: JsonPath.mathAdd(JsonPath.numberAt(`${poll}.attempt`), 1),
        maxAttempts: JsonPath.numberAt(`${poll}.maxAttempts`),
      },
      resultPath: poll,
    });
    countPoll.next(check);
    // While the scan is pending the run waits on a task token that scan-events keeps by image: an
    // `ECR Image Scan` / `Inspector2 Scan` event answers it early; otherwise it times out after one
    // poll interval and the run asks again (the poll is the fallback). The answer is discarded: the
    // verdict always comes from the check's DescribeImageScanFindings, never from an event.
    const events = this.props.scanEvents;
    if (!events) throw new Error('some app has a scan gate but the stack created no scan-events function');
    const pollWait = new Wait(this, 'wait-for-scan', {
      stateName: N.waitForScanPoll,
      time: WaitTime.duration(Duration.seconds(SCAN_POLL_SECONDS)),
    });
    pollWait.next(countPoll);
    const waitForScan = new LambdaInvoke(this, 'wait-for-scan-event', {
      stateName: N.waitForScan,
      lambdaFunction: events,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: taskInput<ScanWaitInput>({
        action: 'wait-for-scan',
        taskToken: JsonPath.taskToken,
        execution: JsonPath.stringAt('$$.Execution.Name'),
        app: JsonPath.stringAt('$.release.app'),
        ecrRepository: JsonPath.stringAt('$.release.ecrRepository'),
        digest: JsonPath.stringAt('$.release.digest'),
      }),
      taskTimeout: Timeout.duration(Duration.seconds(SCAN_POLL_SECONDS)),
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: false,
    });
    waitForScan.addCatch(countPoll, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });
    // The wait could not be recorded (the table, the function): wait the interval without a wake-up.
    waitForScan.addCatch(pollWait, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
    waitForScan.next(countPoll);
    // Only `pass` leads on: an answer that is neither pass nor pending (blocked, or anything else) stops the run.
    check.next(
      new Choice(this, 'scan-verdict', { stateName: N.scanVerdict })
        .when(Condition.stringEquals('$.scan.result.verdict', 'pass'), onPass)
        .when(Condition.stringEquals('$.scan.result.verdict', 'pending'), waitForScan)
        .otherwise(notifyBlocked),
    );

    const route = new Choice(this, 'scan-gate-for', { stateName: N.scanGateFor });
    for (const app of apps) {
      const start = new Pass(this, `scan-gate-start-${app.name}`, {
        stateName: scanGateStartName(app.name),
        result: Result.fromObject({ poll: { attempt: 1, maxAttempts: maxScanPollAttempts(app.timeout) } }),
        resultPath: '$.scan',
      });
      start.next(check);
      route.when(Condition.stringEquals('$.release.app', app.name), start);
    }
    return route.otherwise(onPass);
  }

  /** A notify task: never changes the run's data and never fails it (the Catch goes on to `next`). */
  private notifyTask(
    id: string,
    stateName: string,
    event: NotificationEvent,
    next: IChainable,
    options: NotifyOptions,
  ): State {
    const task = new LambdaInvoke(this, id, {
      stateName,
      lambdaFunction: this.props.notify,
      payload: taskInput<Notification>({
        event,
        execution: JsonPath.stringAt('$$.Execution.Name'),
        release: JsonPath.objectAt('$.release'),
        stage: options.stage,
        detail: options.detailPath ? JsonPath.objectAt(options.detailPath) : undefined,
      }),
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: false,
    });
    task.addRetry(TASK_RETRIES.notify);
    task.addCatch(next, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
    task.next(next);
    return task;
  }

  /** A rejection ends the run successfully: it is a decision, not a pipeline failure. */
  private rejectedState(): State {
    this.rejected ??= new Pass(this, 'rejected', {
      stateName: RUN_STATE_NAMES.rejected,
      result: outcomeResult('rejected'),
      resultPath: '$.outcome',
    });
    return this.rejected;
  }

  /** An approval nobody gave in time ends the run successfully too. */
  private expiredState(): State {
    this.expired ??= new Pass(this, 'expired', {
      stateName: RUN_STATE_NAMES.expired,
      result: outcomeResult('expired'),
      resultPath: '$.outcome',
    });
    return this.expired;
  }

  /** A change a newer release superseded ends the run successfully: nothing went wrong. */
  private supersededState(): State {
    this.superseded ??= new Pass(this, 'superseded', {
      stateName: RUN_STATE_NAMES.superseded,
      result: outcomeResult('superseded'),
      resultPath: '$.outcome',
    });
    return this.superseded;
  }
}
