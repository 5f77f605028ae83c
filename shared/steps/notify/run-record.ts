/**
 * Keeps the run's record (shared/domain/run-record.ts) in step with its events: each notification
 * adds a milestone, and the one that ends the run seals the record and sends the run's delivery
 * metrics — once, however often notify is retried. On a promotion's `started` event the image's OCI
 * labels are read (once per run, whoever started it: intake, sweep or `shiplane retry`), so lead time
 * can count from the build; a label that cannot be read only leaves lead time counting from the push.
 */
import type { Notification, Release } from '../../contracts/tasks.js';
import { runMetricPoints } from '../../domain/delivery-metrics.js';
import { imageBuildOf } from '../../domain/image-build.js';
import { type ImageBuild, milestoneOf, runHeaderOf, runOutcomeOfEvent } from '../../domain/run-record.js';
import type { DeliveryMetricsSink } from '../../ports/delivery-metrics.js';
import type { ImageLabelsSource } from '../../ports/image-labels.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RecordedAs, RunRecordStore } from '../../ports/run-records.js';

export interface RunRecordDeps {
  readonly runs: RunRecordStore;
  readonly deliveryMetrics?: DeliveryMetricsSink;
  /** The configured stage names, in order. */
  readonly stageOrder: readonly string[];
  /** Where the image's labels are read; absent, lead time counts from the push. */
  readonly imageLabels?: ImageLabelsSource;
  /** Says when the labels could not be read or used. */
  readonly reporter?: Reporter;
}

/** The image's build from its labels, or undefined — saying why when the labels were there but unusable. */
async function readImageBuild(
  release: Release,
  source: ImageLabelsSource,
  reporter: Reporter | undefined,
): Promise<ImageBuild | undefined> {
  const context = { app: release.app, tag: release.tag, digest: release.digest };
  let labels: Readonly<Record<string, string>>;
  try {
    labels = await source(release);
  } catch (error) {
    reporter?.warn("could not read the image's OCI labels; lead time counts from the push", {
      ...context,
      ...errorAttributes(error),
    });
    reporter?.count('ImageLabelsUnread');
    return undefined;
  }
  const { build, problems } = imageBuildOf(labels);
  if (problems.length > 0) {
    reporter?.warn("the image's OCI labels are not usable as they are; lead time counts from the push", {
      ...context,
      problems,
    });
  }
  if (!build?.createdAt && problems.length === 0) {
    reporter?.info(
      'the image has no org.opencontainers.image.created label; lead time counts from the push',
      context,
    );
  }
  return build;
}

export async function recordRunEvent(
  notification: Notification,
  deps: RunRecordDeps,
  now: Date,
): Promise<RecordedAs> {
  const header = runHeaderOf(notification);
  // A manual rollback re-deploys an older image: no lead time is counted for it.
  const build =
    notification.event === 'started' && header.kind === 'promotion' && deps.imageLabels
      ? await readImageBuild(notification.release, deps.imageLabels, deps.reporter)
      : undefined;
  const recorded = await deps.runs.record(
    build ? { ...header, build } : header,
    milestoneOf(notification, now),
    runOutcomeOfEvent(notification.event),
  );
  if (recorded.record && deps.deliveryMetrics) {
    deps.deliveryMetrics(runMetricPoints(recorded.record, deps.stageOrder));
  }
  return recorded.status;
}
