/**
 * Intake: EventBridge (ECR Image Action) → SQS → this Lambda → StartExecution (the intake step,
 * shared/steps/intake/intake.ts). Each SQS record is one EventBridge event. A record that cannot be
 * parsed or started fails alone (reportBatchItemFailures), so SQS redelivers it and finally moves it
 * to the dead-letter queue; the other records are done. A tag outside ECR's grammar or a digest that
 * is not `sha256:` + 64 lower-case hex is such a record: ECR cannot have sent it, so it is refused
 * before anything else and parked in the DLQ (3 receives, then the DLQ alarm), where a person sees
 * it; it is never retried beyond that. When some stage deploys by tag alone (`pinDigest: false`),
 * each released tag is claimed with its digest (one conditional write) before its run starts; the
 * same tag pushed again with another digest is refused (logged as an error, RepushesRefused metric)
 * and starts nothing.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type IntakeDeps, intakeMessage, requireReleaseClaims } from '../../shared/steps/intake/intake.js';
import { deployedIntake } from '../../shared/wiring/intake.js';
import { lambdaHandler, lambdaReporter } from '../../shared/wiring/lambda.js';

export type { IntakeDeps, IntakeOutcome } from '../../shared/steps/intake/intake.js';

/**
 * Builds the intake handler. `deps` may be a function, called on each invocation, so the deployed handler
 * reads its config and environment on first use rather than at import.
 */
export function createIntakeHandler(deps: IntakeDeps | (() => IntakeDeps)) {
  const resolve = typeof deps === 'function' ? deps : () => deps;
  return lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // Outside the record loop: a missing config or variable is a deployment error, not a bad message.
    const current = resolve();
    requireReleaseClaims(current);
    const stepDeps = { ...current, reporter: lambdaReporter() };
    // One processor per invocation: it holds the batch's state, and local runs may overlap.
    const processor = new BatchProcessor(EventType.SQS);
    const handleRecord = (record: SQSRecord) =>
      intakeMessage(
        {
          messageId: record.messageId,
          body: record.body,
          receiveCount: record.attributes?.ApproximateReceiveCount,
        },
        stepDeps,
      );
    return processPartialResponse(event, handleRecord, processor, {
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
