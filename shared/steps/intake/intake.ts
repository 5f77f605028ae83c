/**
 * The intake step: one ECR "Image Action" event (an SQS record's body) becomes one promotion run.
 * A message that cannot be parsed is refused before anything else: ECR cannot have sent it (a tag
 * outside ECR's grammar, a digest that is not `sha256:` + 64 lower-case hex), so it fails, to be
 * parked in the dead-letter queue where a person sees it. When some stage deploys by tag alone
 * (`pinDigest: false`), the released tag is claimed with its digest (one conditional write) before
 * its run starts; the same tag pushed again with another digest is refused (logged as an error,
 * RepushesRefused metric) and starts nothing.
 */
import type { Config } from '../../config/schema.js';
import { parseInput } from '../../contracts/parse.js';
import { runInputSchema } from '../../contracts/tasks.js';
import { decideRelease, type ReleaseDecision, repushRefusal, tagOnlyStages } from '../../domain/release.js';
import { InvalidInputError } from '../../errors.js';
import type { StartExecution } from '../../ports/executions.js';
import type { ReleaseClaims } from '../../ports/release-claims.js';
import type { Reporter } from '../../ports/reporter.js';
import { ecrImageActionEventSchema } from './ecr-event.js';

export interface IntakeDeps {
  readonly config: Config;
  readonly startExecution: StartExecution;
  /**
   * Where released tags are claimed. Needed only when some stage deploys by tag alone
   * (`pinDigest: false`); with digests pinned everywhere a new digest is simply a new run.
   */
  readonly releaseClaims?: ReleaseClaims;
}

/** What happened to one message; a message that must be delivered again throws instead. */
export type IntakeOutcome = 'started' | 'duplicate' | 'ignored' | 'refused';

/** One message of the intake queue. */
export interface IntakeMessage {
  readonly messageId: string;
  readonly body: string;
  /** SQS's ApproximateReceiveCount, for the log of a malformed message. */
  readonly receiveCount?: string | undefined;
}

const now = () => new Date().toISOString();

/**
 * Throws when some stage deploys by tag alone but there is nowhere to claim tags: a deployment error,
 * not a bad message, so it is checked once per batch rather than per message.
 */
export function requireReleaseClaims(deps: IntakeDeps): void {
  const tagOnly = tagOnlyStages(deps.config);
  if (tagOnly.length > 0 && !deps.releaseClaims) {
    throw new Error(
      `stages ${tagOnly.join(', ')} deploy by tag alone (pinDigest: false), so the intake must claim released tags, but it has no release claims store`,
    );
  }
}

function parseMessage(message: IntakeMessage) {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    throw new InvalidInputError('ECR event is not valid: the message body is not JSON');
  }
  return parseInput(ecrImageActionEventSchema, body, 'ECR event');
}

/** Starts the run an ECR event asks for, once. Throws when the message should be delivered again. */
export async function intakeMessage(
  message: IntakeMessage,
  deps: IntakeDeps & { readonly reporter: Reporter },
): Promise<IntakeOutcome> {
  const { reporter } = deps;
  const at = { messageId: message.messageId };
  let decision: ReturnType<typeof decideRelease>;
  let eventId: string;
  try {
    const event = parseMessage(message);
    eventId = event.id;
    decision = decideRelease(event, deps.config);
  } catch (error) {
    // Retrying cannot fix a malformed message; it fails so that SQS parks it in the DLQ for a person.
    reporter.count('MalformedEvents');
    reporter.error('malformed intake message: it will be redelivered, then moved to the dead-letter queue', {
      ...at,
      receiveCount: message.receiveCount,
      problem: (error as Error).message,
    });
    throw error;
  }
  if (decision.kind === 'ignored') {
    reporter.count('EventsIgnored');
    reporter.info(`ignored: ${decision.message}`, { ...at, eventId, reason: decision.reason });
    return 'ignored';
  }
  const outcome = await startRelease(decision, deps, { ...at, eventId });
  if (outcome === 'duplicate') reporter.count('DuplicateEvents');
  if (outcome === 'started') reporter.count('RunsStarted');
  return outcome;
}

/** What starting a decided release came to. */
export type StartOutcome = 'started' | 'duplicate' | 'refused';

/**
 * Starts the run of a release decideRelease said to start: the tag claimed first when some stage
 * deploys by tag alone, then StartExecution under the release's deterministic name. The intake and
 * the sweep both start runs through this, so a push they both see starts one run ('duplicate' for
 * the second). Throws when the start should be tried again; `at` goes into every log line.
 */
export async function startRelease(
  decision: Extract<ReleaseDecision, { kind: 'start' }>,
  deps: IntakeDeps & { readonly reporter: Reporter },
  at: Record<string, unknown>,
): Promise<StartOutcome> {
  const { reporter } = deps;
  const { release, executionName } = decision;
  const tagOnly = tagOnlyStages(deps.config);
  if (deps.releaseClaims && tagOnly.length > 0) {
    // Claimed before StartExecution: a retry after a failed start finds its own claim ('same').
    const claim = await deps.releaseClaims
      .claim({
        app: release.app,
        tag: release.tag,
        digest: release.digest,
        execution: executionName,
        at: now(),
      })
      .catch((error: unknown) => {
        reporter.warn(
          'claiming the released tag failed; the start will be tried again (message redelivered, or the next sweep)',
          {
            ...at,
            executionName,
            error: (error as Error).name,
            problem: (error as Error).message,
          },
        );
        throw error;
      });
    if (claim.status === 'conflict') {
      // Not retried: nothing a retry can change. Logged as an error and counted, so it reaches a person.
      reporter.count('RepushesRefused');
      reporter.error(
        repushRefusal(release, { digest: claim.claimedDigest, execution: claim.execution }, tagOnly),
        {
          ...at,
          reason: 'tag-pushed-again',
          app: release.app,
          tag: release.tag,
          digest: release.digest,
          releasedDigest: claim.claimedDigest,
          releasedBy: claim.execution,
        },
      );
      return 'refused';
    }
  }
  const input = parseInput(runInputSchema, { release }, 'run input');
  const result = await deps.startExecution({ name: executionName, input }).catch((error: unknown) => {
    reporter.warn(
      'StartExecution failed; the start will be tried again (message redelivered, or the next sweep)',
      {
        ...at,
        executionName,
        error: (error as Error).name,
        problem: (error as Error).message,
      },
    );
    throw error;
  });
  if (result.status === 'already-exists') {
    reporter.info(`duplicate: execution ${executionName} already exists for this release`, {
      ...at,
      executionName,
    });
    return 'duplicate';
  }
  reporter.info(`started ${executionName}`, { ...at, executionArn: result.executionArn });
  return 'started';
}
