/**
 * Intake: EventBridge (ECR Image Action) → SQS → this Lambda → StartExecution. Each SQS record is one
 * EventBridge event. A record that cannot be parsed or started fails alone (reportBatchItemFailures),
 * so SQS redelivers it and finally moves it to the dead-letter queue; the other records are done.
 * A tag outside ECR's grammar or a digest that is not `sha256:` + 64 lower-case hex is such a record:
 * ECR cannot have sent it, so it is refused before anything else and parked in the DLQ (3 receives,
 * then the DLQ alarm), where a person sees it; it is never retried beyond that.
 * When some stage deploys by tag alone (`pinDigest: false`), each released tag is claimed with its
 * digest (one conditional write) before its run starts; the same tag pushed again with another digest
 * is refused (logged as an error, RepushesRefused metric) and starts nothing.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseInput } from '../../shared/contracts/parse.js';
import { runInputSchema } from '../../shared/contracts/tasks.js';
import { decideRelease, repushRefusal, tagOnlyStages } from '../../shared/domain/release.js';
import { InvalidInputError } from '../../shared/errors.js';
import { ecrImageActionEventSchema } from '../../shared/steps/intake/ecr-event.js';
import { deployedIntake, type IntakeDeps } from '../../shared/wiring/intake.js';
import { lambdaHandler, logger, metrics } from '../../shared/wiring/lambda.js';

export type { IntakeDeps };

/** What happened to one record; the batch processor only sees success or a thrown error. */
export type IntakeOutcome = 'started' | 'duplicate' | 'ignored' | 'refused';

const now = () => new Date().toISOString();

function parseRecord(record: SQSRecord) {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new InvalidInputError('ECR event is not valid: the message body is not JSON');
  }
  return parseInput(ecrImageActionEventSchema, body, 'ECR event');
}

async function handleRecord(record: SQSRecord, deps: IntakeDeps): Promise<IntakeOutcome> {
  const at = { messageId: record.messageId };
  let decision: ReturnType<typeof decideRelease>;
  let eventId: string;
  try {
    const event = parseRecord(record);
    eventId = event.id;
    decision = decideRelease(event, deps.config);
  } catch (error) {
    // Retrying cannot fix a malformed message; it fails so that SQS parks it in the DLQ for a person.
    metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
    logger.error('malformed intake message: it will be redelivered, then moved to the dead-letter queue', {
      ...at,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      problem: (error as Error).message,
    });
    throw error;
  }
  if (decision.kind === 'ignored') {
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    logger.info(`ignored: ${decision.message}`, { ...at, eventId, reason: decision.reason });
    return 'ignored';
  }
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
        logger.warn('claiming the released tag failed; the message will be retried', {
          ...at,
          executionName,
          error: (error as Error).name,
          problem: (error as Error).message,
        });
        throw error;
      });
    if (claim.status === 'conflict') {
      // Not retried: nothing a retry can change. Logged as an error and counted, so it reaches a person.
      metrics.addMetric('RepushesRefused', MetricUnit.Count, 1);
      logger.error(
        repushRefusal(release, { digest: claim.claimedDigest, execution: claim.execution }, tagOnly),
        {
          ...at,
          eventId,
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
    logger.warn('StartExecution failed; the message will be retried', {
      ...at,
      executionName,
      error: (error as Error).name,
      problem: (error as Error).message,
    });
    throw error;
  });
  if (result.status === 'already-exists') {
    metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1);
    logger.info(`duplicate: execution ${executionName} already exists for this release`, {
      ...at,
      eventId,
      executionName,
    });
    return 'duplicate';
  }
  metrics.addMetric('RunsStarted', MetricUnit.Count, 1);
  logger.info(`started ${executionName}`, { ...at, eventId, executionArn: result.executionArn });
  return 'started';
}

/**
 * Builds the intake handler. `deps` may be a function, called on each invocation, so the deployed handler
 * reads its config and environment on first use rather than at import.
 */
export function createIntakeHandler(deps: IntakeDeps | (() => IntakeDeps)) {
  const resolve = typeof deps === 'function' ? deps : () => deps;
  return lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // Outside the record loop: a missing config or variable is a deployment error, not a bad message.
    const current = resolve();
    const tagOnly = tagOnlyStages(current.config);
    if (tagOnly.length > 0 && !current.releaseClaims) {
      throw new Error(
        `stages ${tagOnly.join(', ')} deploy by tag alone (pinDigest: false), so the intake must claim released tags, but it has no release claims store`,
      );
    }
    // One processor per invocation: it holds the batch's state, and local runs may overlap.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, current), processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  });
}

/**
 * The deployed handler: config from SHIPLANE_CONFIG (tag patterns checked with RE2), state machine
 * from STATE_MACHINE_ARN, and, when some stage deploys by tag alone, release claims in the
 * APPROVALS_TABLE (the stack sets it only then).
 */
export const handler = createIntakeHandler(deployedIntake());
