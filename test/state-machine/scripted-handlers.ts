/**
 * Scripted stand-ins for the four handlers the promotion state machine calls. Each parses its input with
 * the task contract (so a test fails if the synthesized definition sends the wrong shape), records what
 * it saw, and answers as the test scripted it. The committer answers its runs through the engine's task
 * tokens, as the real one does through SendTaskSuccess / SendTaskFailure.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LocalEngine } from '../../local/engine/engine.js';
import type { LocalHandlers } from '../../local/engine/lambda.js';
import { type FreezeCheck, type FreezeStatus, freezeCheckSchema } from '../../shared/contracts/freeze.js';
import {
  type ApprovalDecision,
  type ApprovalRequest,
  approvalRequestSchema,
  type CommitRequest,
  type CommitResult,
  commitRequestSchema,
  type HealthCheckInput,
  type HealthCheckResult,
  healthCheckInputSchema,
  healthCheckResultSchema,
  type Notification,
  notificationSchema,
} from '../../shared/contracts/tasks.js';
import { Inbox } from '../local/engine/inbox.js';

/** What the committer does with one received message. */
export type CommitAnswer =
  | { readonly succeed: CommitResult }
  | { readonly fail: { readonly error: string; readonly cause: string } }
  /** Report the message in batchItemFailures: it is received again. */
  | { readonly retryLater: true };

/** A health answer without the fields the script need not repeat. */
export type HealthAnswer = Omit<HealthCheckResult, 'attempt' | 'checkedAt'>;

export interface Script {
  /** Decides each received commit message; `receive` counts from 1 per message. */
  commit?(request: CommitRequest, receive: number): CommitAnswer;
  /** Per stage, the health answers in order (an Error is thrown); the last one repeats. */
  health?: Record<string, ReadonlyArray<HealthAnswer | Error>>;
  /** Throw from request-approval instead of posting. */
  approvalThrows?: Error;
  /** Throw from notify for these events (a notification must never fail the run). */
  notifyThrows?(notification: Notification): Error | undefined;
  /** Answers each freeze check (`seen` counts from 1 per stage); open when absent. Throw to fail it. */
  freeze?(check: FreezeCheck, seen: number): FreezeStatus;
}

export interface Recorded {
  /** Every commit message as received, with its receive count. */
  readonly commits: Array<{ request: CommitRequest; receive: number }>;
  readonly healthChecks: HealthCheckInput[];
  readonly approvals: Inbox<ApprovalRequest>;
  readonly notifications: Notification[];
  readonly freezeChecks: FreezeCheck[];
}

export const sha = (seed: string) => seed.repeat(40).slice(0, 40);

/** Builds the handlers; `engine` is read lazily because the engine needs the handlers first. */
export function scriptedHandlers(
  script: Script,
  engine: () => LocalEngine,
): { handlers: LocalHandlers; recorded: Recorded } {
  const recorded: Recorded = {
    commits: [],
    healthChecks: [],
    approvals: new Inbox(),
    notifications: [],
    freezeChecks: [],
  };
  const handlers: LocalHandlers = {
    committer: async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const request = commitRequestSchema.parse(JSON.parse(record.body));
        const receive = Number(record.attributes.ApproximateReceiveCount);
        recorded.commits.push({ request, receive });
        const answer = script.commit?.(request, receive) ?? {
          succeed: {
            commit: sha(request.change.stage === 'staging' ? 'a1' : 'b2'),
            status: 'committed',
            previousTag: 'v2.1.5',
            previousDigest: null,
          },
        };
        if ('retryLater' in answer) {
          batchItemFailures.push({ itemIdentifier: record.messageId });
        } else if ('succeed' in answer) {
          await engine().taskTokens.succeed(request.taskToken ?? '', answer.succeed);
        } else {
          await engine().taskTokens.fail(request.taskToken ?? '', answer.fail.error, answer.fail.cause);
        }
      }
      return { batchItemFailures };
    },
    'argocd-health': async (event: unknown): Promise<HealthCheckResult> => {
      const input = healthCheckInputSchema.parse(event);
      recorded.healthChecks.push(input);
      const answers = script.health?.[input.stage] ?? [];
      const seen = recorded.healthChecks.filter((check) => check.stage === input.stage).length;
      const answer = answers[Math.min(seen, answers.length) - 1] ?? {
        status: 'healthy',
        message: 'Synced and Healthy',
        revision: input.commit,
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
      };
      if (answer instanceof Error) throw answer;
      return healthCheckResultSchema.parse({
        ...answer,
        checkedAt: new Date().toISOString(),
        attempt: input.attempt,
      });
    },
    'request-approval': async (event: unknown) => {
      recorded.approvals.push(approvalRequestSchema.parse(event));
      if (script.approvalThrows) throw script.approvalThrows;
      return { posted: true };
    },
    'freeze-check': async (event: unknown) => {
      const check = freezeCheckSchema.parse(event);
      recorded.freezeChecks.push(check);
      const seen = recorded.freezeChecks.filter((c) => c.stage === check.stage).length;
      return script.freeze?.(check, seen) ?? { status: 'open', checkedAt: new Date().toISOString() };
    },
    notify: async (event: unknown) => {
      const notification = notificationSchema.parse(event);
      recorded.notifications.push(notification);
      const error = script.notifyThrows?.(notification);
      if (error) throw error;
      return { slack: 'posted', alert: 'skipped' };
    },
  };
  return { handlers, recorded };
}

/** An error with a name, as a handler's error classes have. */
export function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** The decision the Slack interaction handler sends when someone approves. */
export function approval(by: string): ApprovalDecision {
  return {
    decision: 'approved',
    approvalId: 'apr_7Qk2xN',
    by,
    byName: 'Aiko Tanaka',
    at: '2026-11-26T14:02:11Z',
    via: 'slack',
  };
}
