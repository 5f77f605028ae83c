/**
 * The tag policy: which ECR pushes are releases, and what a release is. Pure: it sees the parsed
 * event and the config, and decides.
 */
import type { AppConfig, Config } from '../config/schema.js';
import { compileTagPattern } from '../config/tag-pattern.js';
import { IMAGE_DIGEST, type Release } from '../contracts/tasks.js';
import { InvalidInputError } from '../errors.js';
import { defaultTagRefusal } from './default-tags.js';
import { executionName } from './execution-name.js';

/** ECR's image tag grammar (PutImage `imageTag`): anything else did not come from ECR. */
export const ECR_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const ECR_TAG_PROBLEM = 'expected an ECR image tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
export { IMAGE_DIGEST };
export const IMAGE_DIGEST_PROBLEM = 'expected an image digest: sha256: and 64 lower-case hex digits';

/** The fields of an ECR "ECR Image Action" event the decision reads (names as ECR writes them). */
export interface ImageAction {
  readonly account: string;
  readonly region: string;
  readonly time: string;
  readonly detail: {
    readonly result: string;
    readonly 'repository-name': string;
    readonly 'image-digest'?: string | undefined;
    readonly 'action-type': string;
    readonly 'image-tag'?: string | undefined;
  };
}

/** Why an event starts no run. */
export type IgnoreReason =
  | 'not-a-push'
  | 'push-failed'
  | 'repository-not-configured'
  | 'untagged'
  | 'tag-not-a-release';

export type ReleaseDecision =
  | { readonly kind: 'start'; readonly release: Release; readonly executionName: string }
  | { readonly kind: 'ignored'; readonly reason: IgnoreReason; readonly message: string };

const ignored = (reason: IgnoreReason, message: string): ReleaseDecision => ({
  kind: 'ignored',
  reason,
  message,
});

/** Finds the app whose ECR repository this is. Apps map to distinct repositories (the config checks). */
export function appForRepository(
  config: Config,
  repository: string,
): { name: string; app: AppConfig } | undefined {
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.ecrRepository === repository) return { name, app };
  }
  return undefined;
}

/**
 * Why an app does not release `tag`, or undefined when it does. The app's `tags` pattern is an RE2
 * regular expression (linear-time matching) tested against the whole tag as written (anchor it with
 * `^…$` to match exactly); without one, only version tags are releases (domain/default-tags.ts).
 * The intake and the sweep both decide through this.
 */
export function tagRefusal(name: string, app: AppConfig, tag: string): string | undefined {
  if (app.tags === undefined) {
    const refusal = defaultTagRefusal(tag);
    return refusal && `tag ${tag} is not a release of app ${name} (no tags pattern set): ${refusal}`;
  }
  return compileTagPattern(app.tags).test(tag)
    ? undefined
    : `tag ${tag} does not match ${app.tags}, the tags of app ${name}`;
}

/** Decides whether an ECR image action starts a promotion (tags: see tagRefusal). */
export function decideRelease(event: ImageAction, config: Config): ReleaseDecision {
  const { detail } = event;
  const repository = detail['repository-name'];
  // Before anything else: a tag or digest ECR cannot produce is a forged or broken event, never a release.
  // (The event schema refuses them first; this keeps every caller of the domain honest.)
  const pushedTag = detail['image-tag'];
  if (pushedTag && !ECR_TAG.test(pushedTag)) {
    throw new InvalidInputError(`detail.image-tag: ${ECR_TAG_PROBLEM}`);
  }
  const pushedDigest = detail['image-digest'];
  if (pushedDigest !== undefined && !IMAGE_DIGEST.test(pushedDigest)) {
    throw new InvalidInputError(`detail.image-digest: ${IMAGE_DIGEST_PROBLEM}`);
  }
  if (detail['action-type'] !== 'PUSH') {
    return ignored('not-a-push', `${detail['action-type']} of ${repository} is not a push`);
  }
  if (detail.result !== 'SUCCESS') {
    return ignored('push-failed', `push to ${repository} ended with ${detail.result}`);
  }
  const match = appForRepository(config, repository);
  if (!match) {
    return ignored('repository-not-configured', `no app is configured for ECR repository ${repository}`);
  }
  const tag = detail['image-tag'];
  if (!tag) {
    return ignored('untagged', `push to ${repository} has no tag`);
  }
  const { name, app } = match;
  const refusal = tagRefusal(name, app, tag);
  if (refusal) return ignored('tag-not-a-release', refusal);
  const digest = detail['image-digest'];
  // The event schema already refuses a successful push without a digest; this keeps the domain honest.
  if (!digest) throw new InvalidInputError(`push of ${repository}:${tag} carries no image digest`);
  const release: Release = {
    app: name,
    ecrRepository: repository,
    image: app.image,
    ...(app.newName ? { newName: app.newName } : {}),
    tag,
    digest,
    registryId: event.account,
    region: event.region,
    pushedAt: event.time,
  };
  return { kind: 'start', release, executionName: executionName(name, tag, digest) };
}

/**
 * The stages that write the tag without its digest (`pinDigest: false`). Stages apply to every app, so
 * when there is one, any app's re-pushed tag could reach it with content nobody approved.
 */
export function tagOnlyStages(config: Config): string[] {
  return config.stages.filter((stage) => !stage.pinDigest).map((stage) => stage.name);
}

/** Why the intake refuses a tag pushed again with another digest, and what fixes it. */
export function repushRefusal(
  release: Pick<Release, 'app' | 'ecrRepository' | 'tag' | 'digest'>,
  claimed: { readonly digest: string; readonly execution: string | undefined },
  stages: readonly string[],
): string {
  const first = claimed.execution ? ` by ${claimed.execution}` : '';
  return (
    `refused: ${release.ecrRepository}:${release.tag} was released as ${claimed.digest}${first} and is now pushed as ${release.digest}; ` +
    `stage${stages.length === 1 ? '' : 's'} ${stages.join(', ')} deploy${stages.length === 1 ? 's' : ''} by tag alone (pinDigest: false), so the new image would run unapproved. ` +
    `Enable tag immutability on the ECR repository ${release.ecrRepository} (or set pinDigest: true), and push a new tag.`
  );
}
