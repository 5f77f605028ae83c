/**
 * Step Functions execution histories for tests that mock the SDK: events shaped as
 * GetExecutionHistory returns them for the promotion state machine (TaskStateEntered, TaskScheduled
 * with the rendered parameters, TaskStarted, TaskSubmitted, TaskSucceeded, …), and a mocked
 * GetExecutionHistory that pages them the way the API does (reverseOrder, maxResults, nextToken,
 * includeExecutionData).
 */
import {
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  type HistoryEventType,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { CommitRequest, Release } from '../../../../shared/contracts/tasks.js';

export const COMMIT_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo';
const REGION = 'eu-west-1';

type Step = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'> & { type: HistoryEventType };

/** How a task ended; absent while it still waits. */
export type TaskEnd = 'TaskSucceeded' | 'TaskFailed' | 'TaskTimedOut';

/** One execution's history, oldest event first, built state by state. */
export class RunHistory {
  private readonly steps: Step[] = [];

  constructor(release: Release) {
    this.steps.push({
      type: 'ExecutionStarted',
      executionStartedEventDetails: {
        input: JSON.stringify({ release }),
        inputDetails: { truncated: false },
        roleArn: 'arn:aws:iam::123456789012:role/ShiplanePromotionRole',
      },
    });
  }

  /** A Pass, Choice or Wait state, entered and exited. */
  state(name: string, type: 'Pass' | 'Choice' | 'Wait' = 'Pass'): this {
    this.steps.push(
      { type: `${type}StateEntered`, stateEnteredEventDetails: { name, input: '{}' } },
      { type: `${type}StateExited`, stateExitedEventDetails: { name, output: '{}' } },
    );
    return this;
  }

  /**
   * A `Commit …` state: SQS sendMessage.waitForTaskToken with `request` as its MessageBody, as Step
   * Functions resolves the state's Parameters. `parameters` replaces the rendered text (cut short,
   * absent); `end` closes the task (the committer answered, or it timed out).
   */
  commit(
    name: string,
    request: CommitRequest,
    options: { end?: TaskEnd; parameters?: string | null } = {},
  ): this {
    const rendered = JSON.stringify({
      QueueUrl: COMMIT_QUEUE_URL,
      MessageGroupId: `${request.repository}#${request.branch}`,
      MessageBody: request,
    });
    const parameters = options.parameters === undefined ? rendered : options.parameters;
    return this.task(name, 'sqs', 'sendMessage.waitForTaskToken', parameters, options.end, {
      MessageId: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff',
      MD5OfMessageBody: '0123456789abcdef0123456789abcdef',
      SequenceNumber: '18891049683529516288',
    });
  }

  /** An `Await approval` state: lambda invoke.waitForTaskToken with the approval payload. */
  approval(name: string, taskToken: string, options: { end?: TaskEnd } = {}): this {
    const parameters = JSON.stringify({
      FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shiplane-request-approval',
      Payload: { taskToken, stage: 'production' },
    });
    return this.task(name, 'lambda', 'invoke.waitForTaskToken', parameters, options.end, {
      StatusCode: 202,
    });
  }

  /** A plain Lambda task (notify, argocd-health) that succeeded. */
  lambda(name: string): this {
    return this.task(name, 'lambda', 'invoke', JSON.stringify({ Payload: {} }), 'TaskSucceeded', {});
  }

  /** `polls` rounds of a stage's Argo CD wait loop: about ten events each. */
  argoWait(title: string, polls: number): this {
    this.state(`${title} · Start Argo CD wait`);
    for (let poll = 1; poll <= polls; poll++) {
      this.lambda(`${title} · Wait for Argo CD`).state(`${title} · Healthy?`, 'Choice');
      if (poll < polls) this.state(`${title} · Poll again`, 'Wait').state(`${title} · Count poll`);
    }
    return this;
  }

  /** The events, oldest first, with ids and timestamps as GetExecutionHistory gives them. */
  events(): HistoryEvent[] {
    const start = Date.parse('2026-11-26T13:40:02Z');
    return this.steps.map((step, index) => ({
      ...step,
      id: index + 1,
      previousEventId: index,
      timestamp: new Date(start + index * 10),
    }));
  }

  private task(
    name: string,
    resourceType: string,
    resource: string,
    parameters: string | null,
    end: TaskEnd | undefined,
    submitted: object,
  ): this {
    this.steps.push(
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: '{}' } },
      {
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType,
          resource,
          region: REGION,
          // Required by the API; a reply without it is what a cut-off or filtered history looks like.
          parameters: parameters ?? undefined,
          timeoutInSeconds: 900,
        },
      },
      { type: 'TaskStarted', taskStartedEventDetails: { resourceType, resource } },
    );
    if (resource.endsWith('.waitForTaskToken')) {
      this.steps.push({
        type: 'TaskSubmitted',
        taskSubmittedEventDetails: { resourceType, resource, output: JSON.stringify(submitted) },
      });
    }
    if (!end) return this;
    if (end === 'TaskSucceeded') {
      this.steps.push({
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { resourceType, resource, output: '{}' },
      });
    } else if (end === 'TaskFailed') {
      this.steps.push({
        type: 'TaskFailed',
        taskFailedEventDetails: { resourceType, resource, error: 'Shiplane.CommitFailed', cause: '' },
      });
    } else {
      this.steps.push({
        type: 'TaskTimedOut',
        taskTimedOutEventDetails: { resourceType, resource, error: 'States.Timeout' },
      });
    }
    if (end === 'TaskSucceeded') {
      this.steps.push({ type: 'TaskStateExited', stateExitedEventDetails: { name, output: '{}' } });
    }
    return this;
  }
}

/** What a test sees of the mocked GetExecutionHistory: every request, in order. */
export interface ServedHistory {
  readonly requests: GetExecutionHistoryCommandInput[];
}

/**
 * Answers GetExecutionHistory from `histories` (by execution ARN), paging like the API: newest first
 * with reverseOrder, `maxResults` per page (default 100), an opaque nextToken while events remain,
 * task parameters and state data only with includeExecutionData. An unknown ARN is ExecutionDoesNotExist.
 */
export function serveHistory(
  sfn: AwsClientStub<SFNClient>,
  histories: ReadonlyMap<string, HistoryEvent[]>,
): ServedHistory {
  const requests: GetExecutionHistoryCommandInput[] = [];
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    requests.push(input);
    const events = histories.get(input.executionArn ?? '');
    if (!events) {
      throw new ExecutionDoesNotExist({
        message: `Execution Does Not Exist: '${input.executionArn}'`,
        $metadata: {},
      });
    }
    const ordered = input.reverseOrder ? [...events].reverse() : events;
    const size = input.maxResults || 100;
    const start = input.nextToken ? Number(Buffer.from(input.nextToken, 'base64').toString()) : 0;
    const page = ordered
      .slice(start, start + size)
      .map((event) => (input.includeExecutionData === false ? withoutData(event) : event));
    const next =
      start + size < ordered.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
    return { events: page, ...(next ? { nextToken: next } : {}) };
  });
  return { requests };
}

/** An event as GetExecutionHistory returns it with includeExecutionData: false. */
function withoutData(event: HistoryEvent): HistoryEvent {
  const { taskScheduledEventDetails, ...rest } = event;
  if (!taskScheduledEventDetails) return event;
  const { parameters: _parameters, ...details } = taskScheduledEventDetails;
  return { ...rest, taskScheduledEventDetails: { ...details, parameters: undefined } };
}
