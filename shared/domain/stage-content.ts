/**
 * Whether a stage's file at a revision still pins our release. Ancestry tells that a revision
 * contains our commit, not that a later commit left our entry alone: a revert, a hand edit and a
 * newer release all descend from our commit too. Pure: the caller reads the file.
 */
import type { Release } from '../contracts/tasks.js';
import { readHelmValue, resolveKeyPath } from './helm-values.js';
import { readKustomizeImage } from './kustomize-image.js';
import { compareReleaseTags } from './tag-order.js';
import { ManifestEditError } from './yaml-edit.js';

/** Where and how a stage pins an app's image: the same settings the commit used. */
export interface StageFileSettings {
  readonly stage: string;
  readonly file: string;
  readonly pinDigest: boolean;
  /** Helm values key path of the tag (may hold `{app}`); absent for a kustomization. */
  readonly valuesPath?: string | undefined;
  readonly digestPath?: string | undefined;
}

/** The parts of the release the stage's file pins. */
export type PinnedRelease = Pick<Release, 'app' | 'image' | 'newName' | 'tag' | 'digest'>;

/**
 * - `ours`: the file pins our tag (and our digest where the stage has one).
 * - `newer`: a newer release (by tag order) replaced ours: the run is superseded.
 * - `changed`: anything else replaced it: an older tag, another digest, a removed entry or file.
 *   `problem` is set when the file is gone or unreadable, as words that follow the commit.
 */
export type StageContent =
  | { readonly status: 'ours' }
  | { readonly status: 'newer'; readonly tag: string }
  | {
      readonly status: 'changed';
      readonly tag: string | null;
      readonly digest: string | null;
      readonly newName: string | null;
      readonly problem?: string;
    };

interface Pinned {
  readonly tag: string | null;
  readonly digest: string | null;
  /** Whether the file has a place for a digest (kustomize always, Helm with a digestPath). */
  readonly digestKnown: boolean;
  readonly newName: string | null;
}

/** Judges the stage's file text at a revision (null: no such file there) against our release. */
export function judgeStageContent(
  text: string | null,
  settings: StageFileSettings,
  release: PinnedRelease,
): StageContent {
  if (text === null) {
    return { status: 'changed', tag: null, digest: null, newName: null, problem: `deleted ${settings.file}` };
  }
  let pinned: Pinned;
  try {
    pinned = readPinned(text, settings, release);
  } catch (error) {
    if (!(error instanceof ManifestEditError)) throw error;
    return {
      status: 'changed',
      tag: null,
      digest: null,
      newName: null,
      problem: `left ${settings.file} unreadable (${error.message})`,
    };
  }
  if (
    pinned.tag === release.tag &&
    digestMatches(pinned, settings, release) &&
    newNameMatches(pinned, release)
  ) {
    return { status: 'ours' };
  }
  if (pinned.tag !== null && (compareReleaseTags(pinned.tag, release.tag) ?? 0) > 0) {
    return { status: 'newer', tag: pinned.tag };
  }
  return { status: 'changed', tag: pinned.tag, digest: pinned.digest, newName: pinned.newName };
}

function readPinned(text: string, settings: StageFileSettings, release: PinnedRelease): Pinned {
  if (settings.valuesPath !== undefined) {
    const digestPath = settings.digestPath;
    return {
      tag: readHelmValue(settings.file, text, resolveKeyPath(settings.valuesPath, release.app)),
      digest:
        digestPath === undefined
          ? null
          : readHelmValue(settings.file, text, resolveKeyPath(digestPath, release.app)),
      digestKnown: digestPath !== undefined,
      newName: null,
    };
  }
  const entry = readKustomizeImage(settings.file, text, release.image);
  return {
    tag: entry?.newTag ?? null,
    digest: entry?.digest ?? null,
    digestKnown: true,
    newName: entry?.newName ?? null,
  };
}

/**
 * Pinning stages must pin our digest. Others must pin none but ours: a digest overrides the tag, so
 * a hand-added one would run another image under our tag.
 */
function digestMatches(pinned: Pinned, settings: StageFileSettings, release: PinnedRelease): boolean {
  if (!pinned.digestKnown) return true;
  if (settings.pinDigest) return pinned.digest === release.digest;
  return pinned.digest === null || pinned.digest === release.digest;
}

/** The committer writes `newName` only when the app configures one; only then is it ours to check. */
function newNameMatches(pinned: Pinned, release: PinnedRelease): boolean {
  return release.newName === undefined || pinned.newName === release.newName;
}

export interface ReplacementFacts {
  readonly stage: string;
  readonly release: PinnedRelease;
  readonly content: Extract<StageContent, { status: 'changed' }>;
  /** The commit that changed the entry (or the revision, when that is not known), shortened here. */
  readonly by: string;
}

/** `staging no longer runs backend v2.2.0: 1a2b3c4 changed it to v2.1.5`. */
export function replacedMessage({ stage, release, content, by }: ReplacementFacts): string {
  const lead = `${stage} no longer runs ${release.app} ${release.tag}: ${short(by)}`;
  if (content.problem !== undefined) return `${lead} ${content.problem}`;
  if (content.tag === null) return `${lead} removed its entry`;
  const name =
    content.newName !== null && release.newName !== undefined && content.newName !== release.newName
      ? `${content.newName}:`
      : '';
  const digest =
    content.digest !== null && content.digest !== release.digest
      ? `@${content.digest}`
      : content.tag === release.tag && content.digest === null
        ? ' without its digest'
        : '';
  return `${lead} changed it to ${name}${content.tag}${digest}`;
}

function short(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}
