/**
 * The scan gate's wake-up, both halves. While a run's scan is pending, `Wait for the scan` hands its
 * task token to `recordScanWait`, which keeps it by image; the task times out after one poll interval
 * and the run asks again, so a wake-up that never comes costs nothing. When ECR or Amazon Inspector
 * says an image's scan ended, `wakeScanWaiters` answers every run waiting for that image at once.
 * The answer carries no verdict: the woken run reads the findings through its check
 * (DescribeImageScanFindings), as every poll does (see domain/scan-event.ts).
 */
import type { Config } from '../../config/schema.js';
import type { ScanWaitInput, ScanWaitRecorded, ScanWakeUp } from '../../contracts/scan-events.js';
import { scanEventMeaning } from '../../domain/scan-event.js';
import { InvalidInputError } from '../../errors.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { ScanWaits } from '../../ports/scan-waits.js';
import type { TaskTokens } from '../../ports/task-tokens.js';

/** How long a wait record is kept (TTL): its token is dead after one poll; this only bounds leftovers. */
export const SCAN_WAIT_RETENTION_SECONDS = 3_600;

/** Step Functions' answers for a token the run no longer waits on: it moved on (its poll, its end). */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface ScanWakeDeps {
  readonly config: Config;
  readonly waits: ScanWaits;
  readonly taskTokens: TaskTokens;
  readonly reporter: Reporter;
  readonly now: () => Date;
}

/** The repositories whose apps have a scan gate: the only ones a wait or a wake-up may be about. */
export function gatedRepositories(config: Config): string[] {
  return [...new Set(Object.values(config.apps).flatMap((app) => (app.scan ? [app.ecrRepository] : [])))];
}

/**
 * Keeps a waiting run's token under its image. Refuses (the task fails, and the run falls back to a
 * plain wait) a wait for an app without a gate or a repository that is not the app's.
 */
export async function recordScanWait(input: ScanWaitInput, deps: ScanWakeDeps): Promise<ScanWaitRecorded> {
  const app = deps.config.apps[input.app];
  if (!app?.scan)
    throw new InvalidInputError(
      `app ${input.app} has no scan gate in the config; nothing waits for its scan`,
    );
  if (app.ecrRepository !== input.ecrRepository) {
    throw new InvalidInputError(
      `the wait names repository ${input.ecrRepository}, but app ${input.app}'s is ${app.ecrRepository}`,
    );
  }
  const expiresAt = new Date(deps.now().getTime() + SCAN_WAIT_RETENTION_SECONDS * 1000);
  await deps.waits.add(
    { repository: input.ecrRepository, digest: input.digest },
    { execution: input.execution, token: input.taskToken },
    expiresAt,
  );
  return { waiting: true, expiresAt: expiresAt.toISOString() };
}

export interface ScanWakeResult {
  /** `ignored`: the event wakes nobody (why: `reason`). */
  readonly outcome: 'woken' | 'ignored';
  readonly reason?: string;
  /** Runs answered. */
  readonly woken: readonly string[];
  /** Runs whose token Step Functions no longer knew: they had moved on; their records are gone too. */
  readonly gone: readonly string[];
  /** Runs SendTaskSuccess failed for otherwise; their poll wakes them, the record stays for the next event. */
  readonly failed: readonly string[];
}

/** Answers every run waiting for the scan `event` says ended, and forgets their tokens. */
export async function wakeScanWaiters(event: unknown, deps: ScanWakeDeps): Promise<ScanWakeResult> {
  const meaning = scanEventMeaning(event, gatedRepositories(deps.config));
  if (meaning.kind === 'ignored') {
    deps.reporter.warn(`scan event ignored: ${meaning.reason}`);
    deps.reporter.count('ScanEventIgnored');
    return { outcome: 'ignored', reason: meaning.reason, woken: [], gone: [], failed: [] };
  }
  const image = { repository: meaning.repository, digest: meaning.digest };
  const waiters = await deps.waits.waiting(image);
  const woken: string[] = [];
  const gone: string[] = [];
  const failed: string[] = [];
  for (const waiter of waiters) {
    try {
      await deps.taskTokens.succeed(waiter.token, meaning.wakeUp satisfies ScanWakeUp);
      woken.push(waiter.execution);
    } catch (error) {
      if (!GONE.has((error as { name?: string } | null)?.name ?? '')) {
        deps.reporter.error(`scan event: could not wake ${waiter.execution}; its next poll will`, {
          execution: waiter.execution,
          ...errorAttributes(error),
        });
        failed.push(waiter.execution);
        continue;
      }
      gone.push(waiter.execution);
    }
    await deps.waits.remove(image, waiter);
  }
  deps.reporter.info(
    `${meaning.wakeUp.wokenBy} (${meaning.wakeUp.scanStatus}) for ${image.repository}@${image.digest}`,
    {
      eventId: meaning.wakeUp.eventId,
      woken,
      gone,
      failed,
    },
  );
  if (woken.length > 0) deps.reporter.count('ScanWaitWoken');
  if (failed.length > 0) deps.reporter.count('ScanWakeUpFailed');
  return { outcome: 'woken', woken, gone, failed };
}
