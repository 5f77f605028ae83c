/**
 * One image change sent to the commit queue as a Step Functions task that waits for the committer's
 * answer: the promotion's commit and the rollback's commit share the queue, the message group (one
 * writer per repository and branch), the request envelope, the timeout and the retry, so both are
 * built here and cannot drift apart.
 *
 * Where the change goes is config/tag-location.ts's answer for the run's app in the stage. When every
 * app's tag lives in one place (the usual case) that is one task, as it always was. When some app's
 * tag lives elsewhere (another repository, branch or file), a Choice on the run's app picks one task
 * per place: the message group must be known when the message is sent, and Step Functions (JSONPath)
 * cannot look a value up by the app's name, so the places are spelled out at synth, from the resolver.
 */
import { Duration } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  type CatchProps,
  Choice,
  Condition,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  type State,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { messageGroupOf, stageTagLocations, type TagLocation } from '../../shared/config/tag-location.js';
import type { CommitRequest, ImageChange, ImageEdit } from '../../shared/contracts/tasks.js';
import { type RenderedFields, taskInput } from './task-payloads.js';
import { COMMIT_TIMEOUT_SECONDS, TASK_RETRIES } from './task-retries.js';

type RenderedChange = RenderedFields<ImageChange & { readonly edit: ImageEdit }>;

export interface CommitTaskProps {
  readonly stateName: string;
  readonly commitQueue: IQueue;
  /** Where the change goes (repository and branch: the message group; file and key paths: the change). */
  readonly location: TagLocation;
  /**
   * The change the committer writes, exactly as the run check will compare it. Its `edit` is
   * required here (the contract accepts a message without one only from runs started before it
   * existed), so every commit the state machine sends says which edit it is.
   */
  readonly change: RenderedChange;
  /** Where the commit result goes. */
  readonly resultPath: string;
}

/** The commit-queue send with its envelope, timeout and retry; Catch and Next are the caller's. */
export function commitTask(scope: Construct, id: string, props: CommitTaskProps): SqsSendMessage {
  const { repository, branch } = props.location;
  const task = new SqsSendMessage(scope, id, {
    stateName: props.stateName,
    queue: props.commitQueue,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    // One writer per branch: the FIFO group serializes commits to the same repository's branch.
    messageGroupId: messageGroupOf({ repository, branch }),
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

/** A stage's commit: one task, or a Choice on the run's app and one task per place a tag lives. */
export interface StageCommit {
  /** The state the stage's path enters. */
  readonly start: State;
  addCatch(handler: IChainable, props: CatchProps): void;
  next(state: IChainable): void;
}

export interface StageCommitProps extends Omit<CommitTaskProps, 'location' | 'change'> {
  readonly config: Config;
  readonly stage: string;
  /** The change for one place (the file and Helm key paths come from it). */
  readonly change: (location: TagLocation) => RenderedChange;
}

/** State names are at most 80 characters. */
const MAX_STATE_NAME = 80;

/** The commit of `stage` for the run's app, wherever config/tag-location.ts says its tag lives. */
export function stageCommit(scope: Construct, id: string, props: StageCommitProps): StageCommit {
  const { config, stage, change, ...task } = props;
  const places = stageTagLocations(config, stage);
  const tasks = places.map(({ location, apps }, index) =>
    commitTask(scope, index === 0 ? id : `${id}-${index}`, {
      ...task,
      stateName: index === 0 ? task.stateName : placeName(task.stateName, apps),
      location,
      change: change(location),
    }),
  );
  const [first, ...others] = tasks;
  if (!first) throw new Error(`stage ${stage} has no place for its tags`);
  let start: State = first;
  if (others.length > 0) {
    const choice = new Choice(scope, `${id}-target`, { stateName: `${task.stateName} · Pick repository` });
    others.forEach((other, index) => {
      const apps = places[index + 1]?.apps ?? [];
      const conditions = apps.map((app) => Condition.stringEquals('$.release.app', app));
      choice.when(
        conditions.length === 1 && conditions[0] ? conditions[0] : Condition.or(...conditions),
        other,
      );
    });
    // The apps whose tag lives where the stage says (the intake starts runs for configured apps only).
    choice.otherwise(first);
    start = choice;
  }
  return {
    start,
    addCatch: (handler, catchProps) => {
      for (const each of tasks) each.addCatch(handler, catchProps);
    },
    next: (state) => {
      for (const each of tasks) each.next(state);
    },
  };
}

/** `Production · Commit new tag (backend)`: the task for the apps whose tag lives elsewhere. */
function placeName(stateName: string, apps: readonly string[]): string {
  const all = `${stateName} (${apps.join(', ')})`;
  return all.length <= MAX_STATE_NAME
    ? all
    : `${stateName} (${apps[0]} +${apps.length - 1})`.slice(0, MAX_STATE_NAME);
}
