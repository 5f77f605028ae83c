/**
 * One poll of a stage's Argo CD wait as a Step Functions task: the promotion's own wait and the
 * rollback's wait call the same argocd-health function with the same payload shape, so both are
 * built here and cannot drift apart.
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { JsonPath, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { StageConfig } from '../../shared/config/schema.js';

export interface ArgoCdCheckTaskProps {
  readonly stage: StageConfig;
  readonly stateName: string;
  readonly argocdHealth: IFunction;
  /** Where the commit result of the change being checked sits (`…commit`; its `.commit` is the sha). */
  readonly commitPath: string;
  /** What the stage's file must still pin at the revision Argo CD reports (a release object). */
  readonly release: unknown;
  /** Whether that release's digest must be pinned too: the stage's setting, or a path to it. */
  readonly pinDigest: boolean | string;
  /** Where the poll counter sits (`{attempt, maxAttempts}`). */
  readonly pollPath: string;
  readonly maxAttempts: number;
  /** Where the check's result goes. */
  readonly resultPath: string;
  /** Lambda errors worth a retry. */
  readonly transientErrors: readonly string[];
}

/** The argocd-health invoke with its payload, result selector and retry; Catch and Next are the caller's. */
export function argoCdCheckTask(scope: Construct, id: string, props: ArgoCdCheckTaskProps): LambdaInvoke {
  const { stage } = props;
  const task = new LambdaInvoke(scope, id, {
    stateName: props.stateName,
    lambdaFunction: props.argocdHealth,
    payload: TaskInput.fromObject({
      execution: JsonPath.stringAt('$$.Execution.Name'),
      stage: stage.name,
      argocdApp: stage.argocdApp,
      ...(stage.argocdProject ? { argocdProject: stage.argocdProject } : {}),
      ...(stage.appNamespace ? { appNamespace: stage.appNamespace } : {}),
      sync: stage.sync,
      commit: JsonPath.stringAt(`${props.commitPath}.commit`),
      release: props.release,
      file: stage.file,
      pinDigest: typeof props.pinDigest === 'string' ? JsonPath.stringAt(props.pinDigest) : props.pinDigest,
      ...(stage.valuesPath ? { valuesPath: stage.valuesPath } : {}),
      ...(stage.digestPath ? { digestPath: stage.digestPath } : {}),
      attempt: JsonPath.numberAt(`${props.pollPath}.attempt`),
      maxAttempts: props.maxAttempts,
    }),
    resultSelector: {
      status: JsonPath.stringAt('$.Payload.status'),
      message: JsonPath.stringAt('$.Payload.message'),
      revision: JsonPath.stringAt('$.Payload.revision'),
      syncStatus: JsonPath.stringAt('$.Payload.syncStatus'),
      healthStatus: JsonPath.stringAt('$.Payload.healthStatus'),
      checkedAt: JsonPath.stringAt('$.Payload.checkedAt'),
      attempt: JsonPath.numberAt('$.Payload.attempt'),
    },
    resultPath: props.resultPath,
    retryOnServiceExceptions: false,
  });
  task.addRetry({
    errors: [...props.transientErrors],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 4,
  });
  return task;
}
