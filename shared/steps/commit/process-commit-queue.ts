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
 * - Only the change a run waits for is written: an image change whose run is not RUNNING, promotes
 *   another release, or is not waiting for exactly this change (its pending commit task, with this
 *   task token, as the state machine rendered it; see run-check.ts) is refused alone (logged,
 *   alerted, nothing written) and its message is deleted: asking again would get the same answer. A
 *   message someone forged, and one redelivered after its run failed, never reach the branch.
 * - Time: every wait (GitHub rate limits, conflict back-off) fits before the function's deadline and
 *   before each waiting run's task times out; what does not fit goes back to SQS untouched. A message
 *   whose run already stopped waiting for it (task timed out) is skipped.
 * Redelivery is safe: re-applying a change that is already in the file is `unchanged`.
 */

import { type CommitRequest, type CommitResult, commitRequestSchema, ERRORS } from '../../contracts/tasks.js';
import type { AcceptChange } from '../../domain/allowed-changes.js';
import { OlderReleaseError } from '../../domain/apply-change.js';
import { describeChange } from '../../domain/commit-message.js';
import { refuseSecretsFile } from '../../domain/external-secrets-file.js';
import type { Alert } from '../../domain/release-thread.js';
import { supersededCause } from '../../domain/superseded.js';
import { TerminalError } from '../../errors.js';
import { withGitHubDeadline } from '../../ports/deadline.js';
import type { GitOpsRepository } from '../../ports/gitops-repository.js';
import type { RunStatusReader } from '../../ports/run-status.js';
import type { TaskTokens } from '../../ports/task-tokens.js';
import {
  type CommitBatchOptions,
  type CommitItem,
  commitBatch,
  type ItemOutcome,
  ReplacedInBatchError,
} from './commit-batch.js';
import { type CheckRun, runChecker } from './run-check.js';

/** The part of an SQS record the committer reads. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: {
    /** When the message was sent (epoch ms, as text): when its run started waiting. */
    readonly SentTimestamp?: string;
    readonly ApproximateReceiveCount?: string;
  };
}

/** How much time a batch has. */
export interface TimeBudget {
  /** Epoch ms by which the batch must be done: the function's end less a margin. */
  readonly deadline: number;
  /**
   * How long a run waits for the committer's answer (the commit task's timeout), in ms. With a
   * message's SentTimestamp it says when the run stops waiting: nothing is written after that.
   * @default no limit besides `deadline`
   */
  readonly taskTimeoutMs?: number;
  /** Kept free before a run stops waiting, to answer it. @default 10_000 */
  readonly marginMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A batch could not be done in the time left; it is handed back to SQS. */
export class OutOfTimeError extends Error {
  override name = 'OutOfTimeError';
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
  /** Looks up the run an image change names and its pending commit (once per run per batch). */
  readonly runs: RunStatusReader;
  /**
   * Tells people about a refused change at once (the local runtime's console). The deployed committer
   * has none: its `refused` and `invalid` counts are metrics a CloudWatch alarm sends to the alert
   * topic (infra/constructs/alerting.ts), and a waiting run it fails is alerted by notify. A failure
   * to alert is logged only.
   */
  readonly alert?: (alert: Alert) => Promise<void>;
  /** @default no deadline */
  readonly time?: TimeBudget;
}

export interface CommitQueueSummary {
  /** SQS partial batch response: these messages are redelivered. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly commits: number;
  readonly committed: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly conflicts: number;
  /** Changes refused by the run check (not written, not redelivered). */
  readonly refused: number;
  /**
   * Messages that are not a valid commit request, or one the config or the secrets-file rule refuses
   * (not written; redelivered, then the DLQ). Counted at every receive.
   */
  readonly invalid: number;
  /** Changes whose run had stopped waiting for them (task timed out): not written, not redelivered. */
  readonly expired: number;
}

/** Step Functions answers these when the run is gone (timed out, stopped): nothing left to tell it. */
const RUN_GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

const silent: QueueLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Parsed {
  readonly record: QueueRecord;
  readonly request: CommitRequest;
  /** When the run waiting for it stops waiting (epoch ms), when known. */
  readonly runStopsWaiting?: number;
}

const DEFAULT_MARGIN_MS = 10_000;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Alerts (SNS subject ≤ 100 characters) never carry the task token. */
function refusalAlert(record: QueueRecord, request: CommitRequest | undefined, reason: string): Alert {
  const what = request
    ? `${describeChange(request.change)} in ${request.repository} (branch ${request.branch}, file ${request.change.file})`
    : 'a commit queue message';
  return {
    subject: 'Shiplane refused a commit request',
    message: [
      `The committer refused ${what}; nothing was written for it.`,
      `Reason: ${reason}`,
      ...(request?.execution ? [`Execution: ${request.execution}`] : []),
      `SQS message: ${record.messageId}`,
      'Only the promotion state machine and secret sync send to the commit queue: a refusal means a message was forged, stale, or not what the run approved.',
    ].join('\n'),
  };
}

export async function processCommitQueue(
  records: readonly QueueRecord[],
  deps: CommitQueueDeps,
): Promise<CommitQueueSummary> {
  const log = deps.log ?? silent;
  const failures = new Set<string>();
  const counts = {
    commits: 0,
    committed: 0,
    unchanged: 0,
    failed: 0,
    conflicts: 0,
    refused: 0,
    invalid: 0,
    expired: 0,
  };
  const now = deps.time?.now ?? Date.now;
  const margin = deps.time?.marginMs ?? DEFAULT_MARGIN_MS;
  const checkRun: CheckRun = runChecker(deps.runs);
  const alert = async (record: QueueRecord, request: CommitRequest | undefined, reason: string) => {
    if (!deps.alert) return;
    try {
      await deps.alert(refusalAlert(record, request, reason));
    } catch (error) {
      log.warn('could not publish the alert for a refused change', {
        messageId: record.messageId,
        error: (error as Error).name,
      });
    }
  };

  const groups = new Map<string, Parsed[]>();
  for (const record of records) {
    const parsed = await parseRecord(record, deps.taskTokens, log, deps.accept, alert);
    if (!parsed) {
      counts.invalid++;
      failures.add(record.messageId);
      continue;
    }
    const admitted = await admit(parsed);
    if (!admitted) continue;
    const key = `${parsed.request.repository}#${parsed.request.branch}`;
    groups.set(key, [...(groups.get(key) ?? []), admitted]);
  }

  /**
   * Whether a parsed change may be written: its run is RUNNING, promotes this release and waits for
   * exactly this change. Refused and expired changes are handled here (never redelivered); a run
   * that could not be looked up sends the message back.
   */
  async function admit(parsed: Parsed): Promise<Parsed | undefined> {
    const { record, request } = parsed;
    const sent = Number(record.attributes?.SentTimestamp);
    const taskTimeoutMs = deps.time?.taskTimeoutMs;
    const runStopsWaiting =
      taskTimeoutMs !== undefined && Number.isFinite(sent) && sent > 0 && request.taskToken
        ? sent + taskTimeoutMs
        : undefined;
    if (runStopsWaiting !== undefined && runStopsWaiting - margin <= now()) {
      counts.expired++;
      // The run's commit task timed out: it sent the change again (a newer message) or it failed.
      log.warn('the run stopped waiting for this change (its commit task timed out); skipped, not written', {
        messageId: record.messageId,
        execution: request.execution,
        sentAt: new Date(sent).toISOString(),
      });
      return undefined;
    }
    let check: Awaited<ReturnType<CheckRun>>;
    try {
      check = await checkRun(request);
    } catch (error) {
      failures.add(record.messageId);
      log.error('could not look up the run of a change; the message will be redelivered', {
        messageId: record.messageId,
        execution: request.execution,
        error: (error as Error).name,
        reason: (error as Error).message,
      });
      return undefined;
    }
    if (check.verdict === 'allowed') {
      return runStopsWaiting === undefined ? parsed : { ...parsed, runStopsWaiting };
    }
    counts.refused++;
    log.error(
      'a change was refused: its run may not write it; nothing is written and the message is dropped',
      {
        messageId: record.messageId,
        execution: request.execution,
        change: describeChange(request.change),
        reason: check.reason,
      },
    );
    await alert(record, request, check.reason);
    if (!check.finished && request.taskToken) {
      // The run's pending commit task waits on this very token: tell it now rather than let it time out.
      await deps.taskTokens
        .fail(request.taskToken, ERRORS.commitFailed, `the commit request was refused: ${check.reason}`)
        .catch((error: Error) =>
          log.warn('could not fail the run of a refused change', {
            messageId: record.messageId,
            error: error.name,
          }),
        );
    }
    return undefined;
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
    // Nothing may be written after the function ends or after any of these runs stops waiting.
    const deadline = Math.min(
      deps.time?.deadline ?? Number.POSITIVE_INFINITY,
      ...parsedItems.map((item) => (item.runStopsWaiting ?? Number.POSITIVE_INFINITY) - margin),
    );
    const sleep = deps.commit?.sleep ?? defaultSleep;
    let outcomes: readonly ItemOutcome[];
    try {
      const repository = await deps.repository(first.repository);
      const run = () =>
        commitBatch(repository, first.branch, items, {
          ...deps.commit,
          onConflict: (attempt) => {
            counts.conflicts++;
            log.warn('the branch moved while committing; re-reading and re-applying', { group, attempt });
            deps.commit?.onConflict?.(attempt);
          },
          sleep: async (ms) => {
            if (now() + ms >= deadline) {
              throw new OutOfTimeError(
                `no time left to wait ${ms} ms before committing to ${group} again; the changes will be retried`,
              );
            }
            await sleep(ms);
          },
        });
      const outcome = Number.isFinite(deadline) ? await withGitHubDeadline(deadline, run) : await run();
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
        // The error's name tells a credentials problem from the rest (see shared/domain/next-step.ts).
        const cause = `${describeChange(request.change)} in ${request.repository} (branch ${request.branch}) failed with ${(error as Error).name}: ${(error as Error).message}`;
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

/** Whole-file writes come from secret sync: only the ExternalSecrets it renders, whatever the config. */
function refuseContent(request: CommitRequest): string | undefined {
  const { change } = request;
  if (change.kind !== 'file' || change.content === null) return undefined;
  return refuseSecretsFile(change.file, change.content);
}

/**
 * Parses a message body; a bad one is logged (never its token), alerted on its first receive and, if
 * it carries a token, its run is failed.
 */
async function parseRecord(
  record: QueueRecord,
  taskTokens: TaskTokens,
  log: QueueLog,
  accept: AcceptChange | undefined,
  alert: (record: QueueRecord, request: CommitRequest | undefined, reason: string) => Promise<void>,
): Promise<Parsed | undefined> {
  const firstReceive = (record.attributes?.ApproximateReceiveCount ?? '1') === '1';
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    log.error('commit queue message is not JSON; it goes back to the queue (and on to the DLQ)', {
      messageId: record.messageId,
    });
    if (firstReceive) await alert(record, undefined, 'the message is not JSON');
    return undefined;
  }
  const result = commitRequestSchema.safeParse(body);
  const refused = result.success ? (accept?.(result.data) ?? refuseContent(result.data)) : undefined;
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
  if (firstReceive) {
    await alert(record, result.success ? result.data : undefined, problems.join('; '));
  }
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
