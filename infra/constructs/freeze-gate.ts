/**
 * A stage's change-freeze gate, in front of its approval (or its commit, without one): ask whether
 * the stage is frozen (the freeze-check function answers), and while it is, say so in the thread,
 * wait until the freeze's end and ask again — a window that opened meanwhile is seen, so the run goes
 * on only when the stage is open. Built only for stages with `freeze` windows.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Choice, Condition, JsonPath, type State, Wait, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { FreezeCheck } from '../../shared/contracts/freeze.js';
import { taskInput } from './task-payloads.js';
import { TASK_RETRIES } from './task-retries.js';

/** The names of a stage's freeze states, as people read them in the console. */
export function freezeStateNames(title: string) {
  return {
    checkFreeze: `${title} · Check freeze`,
    frozen: `${title} · Frozen?`,
    notifyFrozen: `${title} · Notify frozen`,
    waitForFreeze: `${title} · Wait for freeze to end`,
  } as const;
}

export interface FreezeGateProps {
  /** The stage's name. */
  readonly stage: string;
  /** `Production`: the prefix of the state names. */
  readonly title: string;
  /** The freeze-check function (it answers the check). */
  readonly freezeCheck: IFunction;
  /**
   * The notify task that posts the answer (at `$.stages.<stage>.freeze`) in the thread, then goes on
   * to `next` — whatever Slack says.
   */
  readonly notifyFrozen: (stateName: string, detailPath: string, next: State) => State;
  /** Where the stage opens onto: its approval, or its commit. */
  readonly next: State;
  /** Where a check that cannot answer goes (the run fails closed, alerted). */
  readonly onError: State;
}

/** Builds the gate; returns its first state. The check's result is at `$.stages.<stage>.freeze`. */
export function freezeGate(scope: Construct, id: string, props: FreezeGateProps): State {
  const names = freezeStateNames(props.title);
  const at = `$.stages.${props.stage}.freeze`;
  const check = new LambdaInvoke(scope, `${id}-check-freeze`, {
    stateName: names.checkFreeze,
    lambdaFunction: props.freezeCheck,
    payload: taskInput<FreezeCheck>({
      check: 'freeze',
      execution: JsonPath.stringAt('$$.Execution.Name'),
      release: JsonPath.objectAt('$.release'),
      stage: props.stage,
    }),
    // The function's answer itself (contracts/freeze.ts), not the Lambda envelope.
    payloadResponseOnly: true,
    resultPath: at,
    retryOnServiceExceptions: false,
  });
  check.addRetry(TASK_RETRIES.lambdaTask);
  check.addCatch(props.onError, { errors: ['States.ALL'], resultPath: '$.error' });
  const wait = new Wait(scope, `${id}-wait-for-freeze`, {
    stateName: names.waitForFreeze,
    time: WaitTime.timestampPath(`${at}.until`),
  });
  wait.next(check);
  // Only `open` goes on: any other answer waits (or, without an end to wait for, fails at the Wait).
  const frozen = new Choice(scope, `${id}-frozen`, { stateName: names.frozen })
    .when(Condition.stringEquals(`${at}.status`, 'open'), props.next)
    .otherwise(props.notifyFrozen(names.notifyFrozen, at, wait));
  check.next(frozen);
  return check;
}
