/**
 * Keeps the run's record (shared/domain/run-record.ts) in step with its events: each notification
 * adds a milestone, and the one that ends the run seals the record and sends the run's delivery
 * metrics — once, however often notify is retried.
 */
import type { Notification } from '../../contracts/tasks.js';
import { runMetricPoints } from '../../domain/delivery-metrics.js';
import { milestoneOf, runHeaderOf, runOutcomeOfEvent } from '../../domain/run-record.js';
import type { DeliveryMetricsSink } from '../../ports/delivery-metrics.js';
import type { RecordedAs, RunRecordStore } from '../../ports/run-records.js';

export interface RunRecordDeps {
  readonly runs: RunRecordStore;
  readonly deliveryMetrics?: DeliveryMetricsSink;
  /** The configured stage names, in order. */
  readonly stageOrder: readonly string[];
}

export async function recordRunEvent(
  notification: Notification,
  deps: RunRecordDeps,
  now: Date,
): Promise<RecordedAs> {
  const recorded = await deps.runs.record(
    runHeaderOf(notification),
    milestoneOf(notification, now),
    runOutcomeOfEvent(notification.event),
  );
  if (recorded.record && deps.deliveryMetrics) {
    deps.deliveryMetrics(runMetricPoints(recorded.record, deps.stageOrder));
  }
  return recorded.status;
}
