/**
 * One image change sent to the commit queue as a Step Functions task that waits for the committer's
 * answer: the promotion's commit and the rollback's commit share the queue, the message group (one
 * writer per branch), the request envelope, the timeout and the retry, so both are built here and
 * cannot drift apart.
 */
import { Duration } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { IntegrationPattern, JsonPath, Timeout } from 'aws-cdk-lib/aws-stepfunctions';
import { SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import type { CommitRequest, ImageChange, ImageEdit } from '../../shared/contracts/tasks.js';
import { type RenderedFields, taskInput } from './task-payloads.js';
import { COMMIT_TIMEOUT_SECONDS, TASK_RETRIES } from './task-retries.js';

export interface CommitTaskProps {
  readonly stateName: string;
  readonly commitQueue: IQueue;
  readonly gitops: Config['gitops'];
  /**
   * The change the committer writes, exactly as the run check will compare it. Its `edit` is
   * required here (the contract accepts a message without one only from runs started before it
   * existed), so every commit the state machine sends says which edit it is.
   */
  readonly change: RenderedFields<ImageChange & { readonly edit: ImageEdit }>;
  /** Where the commit result goes. */
  readonly resultPath: string;
}

/** The commit-queue send with its envelope, timeout and retry; Catch and Next are the caller's. */
export function commitTask(scope: Construct, id: string, props: CommitTaskProps): SqsSendMessage {
  const { repository, branch } = props.gitops;
  const task = new SqsSendMessage(scope, id, {
    stateName: props.stateName,
    queue: props.commitQueue,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    // One writer per branch: the FIFO group serializes commits to the same branch.
    messageGroupId: `${repository}#${branch}`,
    messageBody: taskInput<CommitRequest>({
      taskToken: JsonPath.taskToken,
      execution: JsonPath.stringAt('$$.Execution.Name'),
      repository,
      branch,
      change: props.change,
    }),
    taskTimeout: Timeout.duration(Duration.seconds(COMMIT_TIMEOUT_SECONDS)),
    resultPath: props.resultPath,
  });
  task.addRetry(TASK_RETRIES.commitMessage);
  return task;
}
