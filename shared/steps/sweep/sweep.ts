/**
 * The sweep: every `intake.sweep` period, list the recent pushes of each configured ECR repository
 * and start the runs the intake would have started. EventBridge delivery is best effort; a rule may
 * be briefly disabled, or the stack deployed after a push. Each (image, tag) becomes the ECR event
 * the intake would have received and goes through the same decision (decideRelease: repository →
 * app, tag filter, execution name) and the same start (startRelease: claim, StartExecution under the
 * deterministic name). A push the intake already started is therefore found ('duplicate', Step
 * Functions' ExecutionAlreadyExists) and never started twice.
 */
import type { Config } from '../../config/schema.js';
import { decideRelease, type ImageAction } from '../../domain/release.js';
import type { RecentImages } from '../../ports/recent-images.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import { type IntakeDeps, type StartOutcome, startRelease } from '../intake/intake.js';

/**
 * Looked back beyond one period: a scheduled invocation may start late, and the previous one may have
 * listed just before a push landed. Larger than SWEEP_GRACE, so consecutive sweeps overlap.
 */
export const SWEEP_MARGIN_SECONDS = 5 * 60;
/**
 * Pushes younger than this are left to the intake (EventBridge → queue → intake takes seconds); the
 * next sweep still covers them if the event never comes.
 */
export const SWEEP_GRACE_SECONDS = 2 * 60;

export interface SweepDeps extends IntakeDeps {
  readonly recentImages: RecentImages;
  readonly reporter: Reporter;
  readonly now?: () => Date;
}

export interface SweepResult {
  /** Pushes the intake had missed, now started. */
  readonly started: number;
  /** Pushes whose run already existed (the intake started them). */
  readonly alreadyStarted: number;
  /** Tags that are not releases (the app's tag filter). */
  readonly ignored: number;
  /** Re-pushed tags refused (pinDigest: false), as the intake refuses them. */
  readonly refused: number;
  /** Repositories that could not be listed, or starts that failed. */
  readonly failed: number;
}

/** The window a sweep lists: pushed in [now − period − margin, now − grace]. */
export function sweepWindow(
  periodSeconds: number,
  now: Date,
): { readonly since: Date; readonly until: Date } {
  return {
    since: new Date(now.getTime() - (periodSeconds + SWEEP_MARGIN_SECONDS) * 1000),
    until: new Date(now.getTime() - SWEEP_GRACE_SECONDS * 1000),
  };
}

/**
 * Runs one sweep. Every repository and every push is tried even when one fails; then, if any failed,
 * it throws (the function's error alarm fires, and the next sweep tries them again).
 */
export async function sweepRecentPushes(deps: SweepDeps): Promise<SweepResult> {
  const { config, reporter } = deps;
  const period = config.intake.sweep;
  if (period === 'off') {
    reporter.info('intake.sweep is off; nothing to do');
    return { started: 0, alreadyStarted: 0, ignored: 0, refused: 0, failed: 0 };
  }
  const { since, until } = sweepWindow(period, (deps.now ?? (() => new Date()))());
  const counts = { started: 0, alreadyStarted: 0, ignored: 0, refused: 0, failed: 0 };
  const tally: Record<StartOutcome, keyof typeof counts> = {
    started: 'started',
    duplicate: 'alreadyStarted',
    refused: 'refused',
  };
  for (const [app, { ecrRepository }] of Object.entries(config.apps)) {
    let images: Awaited<ReturnType<RecentImages>>;
    try {
      images = await deps.recentImages(ecrRepository, since);
    } catch (error) {
      counts.failed += 1;
      reporter.count('SweepFailures');
      reporter.error(`sweep: listing the images of ${ecrRepository} failed`, {
        app,
        repository: ecrRepository,
        ...errorAttributes(error),
      });
      continue;
    }
    for (const image of images) {
      if (image.pushedAt > until) continue;
      for (const tag of image.tags) {
        const outcome = await sweepTag(config, deps, image, tag).catch((error: unknown) => {
          reporter.count('SweepFailures');
          reporter.error(`sweep: starting ${ecrRepository}:${tag} failed`, {
            app,
            repository: ecrRepository,
            tag,
            digest: image.digest,
            ...errorAttributes(error),
          });
          return 'failed' as const;
        });
        if (outcome === 'failed') counts.failed += 1;
        else if (outcome === 'ignored') counts.ignored += 1;
        else counts[tally[outcome]] += 1;
      }
    }
  }
  if (counts.started > 0) reporter.count('MissedPushesStarted');
  reporter.info(
    `sweep of pushes since ${since.toISOString()}: ${counts.started} missed push(es) started, ${counts.alreadyStarted} already started`,
    { ...counts, since: since.toISOString(), until: until.toISOString() },
  );
  if (counts.failed > 0) {
    throw new Error(
      `sweep: ${counts.failed} repository listing(s) or start(s) failed (see the log); the next sweep tries them again`,
    );
  }
  return counts;
}

/** One tag of one image: the intake's decision and start, as if its event had arrived. */
async function sweepTag(
  config: Config,
  deps: SweepDeps,
  image: Awaited<ReturnType<RecentImages>>[number],
  tag: string,
): Promise<StartOutcome | 'ignored'> {
  const event: ImageAction = {
    account: image.registryId,
    region: image.region,
    time: image.pushedAt.toISOString(),
    detail: {
      result: 'SUCCESS',
      'repository-name': image.repository,
      'image-digest': image.digest,
      'action-type': 'PUSH',
      'image-tag': tag,
    },
  };
  const decision = decideRelease(event, config);
  if (decision.kind === 'ignored') return 'ignored';
  const outcome = await startRelease(decision, deps, { sweep: true, pushedAt: event.time });
  if (outcome === 'started') {
    deps.reporter.warn(
      `sweep started ${decision.executionName}: the intake never saw the push of ${image.repository}:${tag}`,
      { executionName: decision.executionName, pushedAt: event.time },
    );
  }
  return outcome;
}
