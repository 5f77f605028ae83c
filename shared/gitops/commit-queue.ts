/**
 * The commit queue's consumer: a batch of SQS FIFO messages (up to ten; one message group per
 * repository#branch) becomes one commit per branch, and every waiting run is answered through its
 * task token.
 *
 * - A malformed message is logged and reported as a batch item failure; it never stops the batch.
 * - A change that cannot be applied fails only its own run (`Shiplane.CommitFailed`, with a cause
 *   that says what to fix); the rest of the batch commits. A change a newer release superseded (the
 *   stage already pins a newer one, or a later change in the batch replaced it) answers
 *   `Shiplane.Superseded` instead: nothing is wrong, so the run ends without the failure alarm.
 * - GitHub unavailable (after the client's retries) or a branch that keeps moving: the group's
 *   messages are batch item failures, so SQS redelivers them; the branch was not touched.
 * - Credentials or repository wrong (terminal): each waiting run fails with the reason.
 * Redelivery is safe: re-applying a change that is already in the file is `unchanged`.
 */

import type { TaskTokens } from '../adapters/aws/task-tokens.js';
import type { GitOpsRepository } from '../adapters/github/repository.js';
import { type CommitRequest, type CommitResult, commitRequestSchema, ERRORS } from '../contracts/tasks.js';
import { describeChange } from '../domain/commit-message.js';
import { supersededCause } from '../domain/superseded.js';
import { TerminalError } from '../errors.js';
import type { AcceptChange } from './allowed-changes.js';
import { OlderReleaseError } from './apply-change.js';
import {
  type CommitBatchOptions,
  type CommitItem,
  commitBatch,
  type ItemOutcome,
  ReplacedInBatchError,
} from './commit-batch.js';

/** The part of an SQS record the committer reads. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

/** Structured logging, as Powertools' Logger offers it. */
export interface QueueLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface CommitQueueDeps {
  /** The GitOps repository by `owner/name`. */
  readonly repository: (fullName: string) => GitOpsRepository | Promise<GitOpsRepository>;
  readonly taskTokens: TaskTokens;
  readonly log?: QueueLog;
  readonly commit?: CommitBatchOptions;
  /**
   * Refuses a request whose target the config does not name (see configuredChanges): it is handled
   * like a malformed message, so it never reaches GitHub.
   */
  readonly accept?: AcceptChange;
}

export interface CommitQueueSummary {
  /** SQS partial batch response: these messages are redelivered. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly commits: number;
  readonly committed: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly conflicts: number;
}

/** Step Functions answers these when the run is gone (timed out, stopped): nothing left to tell it. */
const RUN_GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

const silent: QueueLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Parsed {
  readonly record: QueueRecord;
  readonly request: CommitRequest;
}

export async function processCommitQueue(
  records: readonly QueueRecord[],
  deps: CommitQueueDeps,
): Promise<CommitQueueSummary> {
  const log = deps.log ?? silent;
  const failures = new Set<string>();
  const counts = { commits: 0, committed: 0, unchanged: 0, failed: 0, conflicts: 0 };

  const groups = new Map<string, Parsed[]>();
  for (const record of records) {
    const parsed = await parseRecord(record, deps.taskTokens, log, deps.accept);
    if (!parsed) {
      failures.add(record.messageId);
      continue;
    }
    const key = `${parsed.request.repository}#${parsed.request.branch}`;
    groups.set(key, [...(groups.get(key) ?? []), parsed]);
  }

  /** Answers a waiting run; false when the answer did not get through and the message should come back. */
  const answer = async (
    token: string | undefined,
    send: (token: string) => Promise<void>,
    messageId: string,
  ) => {
    if (!token) return true;
    try {
      await send(token);
      return true;
    } catch (error) {
      const name = (error as Error).name;
      if (RUN_GONE.has(name)) {
        log.warn('the run waiting for this change is gone; nothing to answer', { messageId, error: name });
        return true;
      }
      log.error('could not answer the waiting run; the message will be redelivered', {
        messageId,
        error: (error as Error).message,
      });
      return false;
    }
  };

  for (const [group, parsedItems] of groups) {
    const first = parsedItems[0]!.request;
    const items: CommitItem[] = parsedItems.map(({ record, request }) => ({
      id: record.messageId,
      execution: request.execution,
      change: request.change,
    }));
    let outcomes: readonly ItemOutcome[];
    try {
      const repository = await deps.repository(first.repository);
      const outcome = await commitBatch(repository, first.branch, items, {
        ...deps.commit,
        onConflict: (attempt) => {
          counts.conflicts++;
          log.warn('the branch moved while committing; re-reading and re-applying', { group, attempt });
          deps.commit?.onConflict?.(attempt);
        },
      });
      outcomes = outcome.items;
      if (outcome.commit) counts.commits++;
      log.info('commit queue batch applied', {
        group,
        commit: outcome.commit,
        head: outcome.head,
        attempts: outcome.attempts,
        changes: outcome.items.map((item) => ({ messageId: item.id, status: item.status })),
      });
    } catch (error) {
      const terminal = error instanceof TerminalError;
      log.error(
        terminal ? 'the batch cannot be committed' : 'the batch was not committed; it will be retried',
        {
          group,
          error: (error as Error).name,
          reason: (error as Error).message,
        },
      );
      for (const { record, request } of parsedItems) {
        if (!terminal || !request.taskToken) {
          failures.add(record.messageId);
          continue;
        }
        counts.failed++;
        const cause = `${describeChange(request.change)} in ${request.repository} (branch ${request.branch}) failed: ${(error as Error).message}`;
        const ok = await answer(
          request.taskToken,
          (token) => deps.taskTokens.fail(token, ERRORS.commitFailed, cause),
          record.messageId,
        );
        if (!ok) failures.add(record.messageId);
      }
      continue;
    }

    for (const [index, outcome] of outcomes.entries()) {
      const { record, request } = parsedItems[index]!;
      if (outcome.status === 'failed') {
        counts.failed++;
        const { error } = outcome;
        const superseded =
          (error instanceof OlderReleaseError || error instanceof ReplacedInBatchError) &&
          request.change.kind === 'image';
        const cause =
          superseded && request.change.kind === 'image'
            ? supersededCause({
                image: request.change.release.image,
                tag: request.change.release.tag,
                stage: request.change.stage,
                newerTag: error.newerTag,
                detail: `${error.message} (${request.repository}, branch ${request.branch})`,
              })
            : `${describeChange(request.change)} in ${request.repository} (branch ${request.branch}) cannot be applied: ${error.message}`;
        if (superseded) {
          log.info('a newer release superseded a change; its run ends Superseded', {
            messageId: record.messageId,
            group,
            reason: error.message,
          });
        } else {
          log.error('a change cannot be applied', {
            messageId: record.messageId,
            group,
            reason: error.message,
          });
        }
        const ok = await answer(
          request.taskToken,
          (token) => deps.taskTokens.fail(token, superseded ? ERRORS.superseded : ERRORS.commitFailed, cause),
          record.messageId,
        );
        if (!ok) failures.add(record.messageId);
        continue;
      }
      counts[outcome.status]++;
      const result: CommitResult = {
        commit: outcome.commit,
        status: outcome.status,
        previousTag: outcome.previousTag,
        previousDigest: outcome.previousDigest,
      };
      const ok = await answer(
        request.taskToken,
        (token) => deps.taskTokens.succeed(token, result),
        record.messageId,
      );
      if (!ok) failures.add(record.messageId);
    }
  }

  return {
    batchItemFailures: records
      .filter((r) => failures.has(r.messageId))
      .map((r) => ({ itemIdentifier: r.messageId })),
    ...counts,
  };
}

/** Parses a message body; a bad one is logged (never its token) and, if it carries a token, its run is failed. */
async function parseRecord(
  record: QueueRecord,
  taskTokens: TaskTokens,
  log: QueueLog,
  accept: AcceptChange | undefined,
): Promise<Parsed | undefined> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    log.error('commit queue message is not JSON; it goes back to the queue (and on to the DLQ)', {
      messageId: record.messageId,
    });
    return undefined;
  }
  const result = commitRequestSchema.safeParse(body);
  const refused = result.success ? accept?.(result.data) : undefined;
  if (result.success && refused === undefined) return { record, request: result.data };
  const problems = result.success
    ? [refused as string]
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
  log.error(
    'commit queue message is not a valid commit request; it goes back to the queue (and on to the DLQ)',
    {
      messageId: record.messageId,
      problems,
    },
  );
  const token = (body as { taskToken?: unknown } | null)?.taskToken;
  if (typeof token === 'string' && token !== '') {
    // The run would otherwise wait for its timeout: tell it now why nothing was committed.
    await taskTokens
      .fail(token, ERRORS.commitFailed, `the commit request is not valid: ${problems.join('; ')}`)
      .catch((error: Error) =>
        log.warn('could not fail the run of a malformed message', { error: error.name }),
      );
  }
  return undefined;
}
