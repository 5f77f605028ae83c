/**
 * One poll of a stage's Argo CD wait as a Step Functions task: the promotion's own wait and the
 * rollback's wait call the same argocd-health function with the same payload shape, so both are
 * built here and cannot drift apart.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { JsonPath } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Config, StageConfig } from '../../shared/config/schema.js';
import { stageTagLocations } from '../../shared/config/tag-location.js';
import type { HealthCheckInput, HealthCheckResult, Release } from '../../shared/contracts/tasks.js';
import { type Rendered, taskInput } from './task-payloads.js';
import { TASK_RETRIES } from './task-retries.js';

export interface ArgoCdCheckTaskProps {
  readonly config: Config;
  readonly stage: StageConfig;
  readonly stateName: string;
  readonly argocdHealth: IFunction;
  /** Where the commit result of the change being checked sits (`…commit`; its `.commit` is the sha). */
  readonly commitPath: string;
  /** What the stage's file must still pin at the revision Argo CD reports (a release object). */
  readonly release: Rendered<Release>;
  /** Whether that release's digest must be pinned too: the stage's setting, or a path to it. */
  readonly pinDigest: boolean | string;
  /** Where the poll counter sits (`{attempt, maxAttempts}`). */
  readonly pollPath: string;
  readonly maxAttempts: number;
  /** Where the check's result goes. */
  readonly resultPath: string;
}

/** The argocd-health invoke with its payload, result selector and retry; Catch and Next are the caller's. */
export function argoCdCheckTask(scope: Construct, id: string, props: ArgoCdCheckTaskProps): LambdaInvoke {
  const { stage } = props;
  // Where the stage's tags live, when that is one place; otherwise argocd-health asks per app.
  const places = stageTagLocations(props.config, stage.name);
  const only = places.length === 1 ? places[0]?.location : undefined;
  const task = new LambdaInvoke(scope, id, {
    stateName: props.stateName,
    lambdaFunction: props.argocdHealth,
    payload: taskInput<HealthCheckInput>({
      execution: JsonPath.stringAt('$$.Execution.Name'),
      stage: stage.name,
      argocdApp: stage.argocdApp,
      argocdProject: stage.argocdProject,
      appNamespace: stage.appNamespace,
      sync: stage.sync,
      commit: JsonPath.stringAt(`${props.commitPath}.commit`),
      release: props.release,
      file: only?.file,
      pinDigest: typeof props.pinDigest === 'string' ? JsonPath.stringAt(props.pinDigest) : props.pinDigest,
      valuesPath: only?.valuesPath,
      digestPath: only?.digestPath,
      attempt: JsonPath.numberAt(`${props.pollPath}.attempt`),
      maxAttempts: props.maxAttempts,
    }),
    // Every field of the check's result, picked from the Lambda's answer.
    resultSelector: {
      status: JsonPath.stringAt('$.Payload.status'),
      message: JsonPath.stringAt('$.Payload.message'),
      revision: JsonPath.stringAt('$.Payload.revision'),
      syncStatus: JsonPath.stringAt('$.Payload.syncStatus'),
      healthStatus: JsonPath.stringAt('$.Payload.healthStatus'),
      checkedAt: JsonPath.stringAt('$.Payload.checkedAt'),
      attempt: JsonPath.numberAt('$.Payload.attempt'),
    } satisfies Record<keyof HealthCheckResult, string | number>,
    resultPath: props.resultPath,
    retryOnServiceExceptions: false,
  });
  task.addRetry(TASK_RETRIES.lambdaTask);
  return task;
}
