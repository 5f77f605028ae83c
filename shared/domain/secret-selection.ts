/**
 * Which Secrets Manager secrets belong in which ExternalSecret file. Pure: the config's `secrets`
 * entries and secret metadata in, decisions out. The adapter lists candidates with a coarse
 * server-side filter (`listQuery`); `selects` is the exact rule.
 */
import { posix } from 'node:path';
import type { SecretSelection, StageConfig } from '../config/schema.js';
import { messageGroupOf, type RepositoryBranch, secretsTarget } from '../config/tag-location.js';

/** The tags a `secrets` entry can select on. */
export const SECRET_TAGS = {
  environment: 'shiplane:environment',
  namespace: 'shiplane:namespace',
} as const;

/** What Shiplane knows about a secret. Never its value. */
export interface SecretMetadata {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The version labelled AWSCURRENT; absent while the secret has no value yet. */
  readonly currentVersionId?: string | undefined;
  /** Last change of any kind (value, description, tags), as Secrets Manager reports it. */
  readonly lastChangedAt?: Date | undefined;
  /** Set while the secret is scheduled for deletion. */
  readonly deletedAt?: Date | undefined;
}

/** One ExternalSecret file and the entries that feed it, in config order (the first match wins). */
export interface SyncTarget {
  /** Where the file is written: the entries' repository and branch, or the gitops ones. */
  readonly repository: string;
  readonly branch: string;
  readonly file: string;
  readonly stage: string;
  readonly selections: readonly SecretSelection[];
}

/** A coarse server-side filter for ListSecrets: every selected secret passes it, others may too. */
export interface ListQuery {
  /** Case-sensitive name prefix: the glob up to its first `*`. */
  readonly namePrefix?: string;
  /** Tag key/value pairs the secret must carry. */
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `*` matches any run of characters, `/` included; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
}

const requiredTags = (selection: SecretSelection) =>
  Object.entries(selection.tags ?? {})
    .filter((entry): entry is [keyof typeof SECRET_TAGS, string] => entry[1] !== undefined)
    .map(([field, value]) => ({ key: SECRET_TAGS[field], value }));

/** True when the entry takes this secret: its name matches `match` (if set) and it carries every tag. */
export function selects(selection: SecretSelection, secret: Pick<SecretMetadata, 'name' | 'tags'>): boolean {
  if (selection.match !== undefined && !globToRegExp(selection.match).test(secret.name)) return false;
  return requiredTags(selection).every(({ key, value }) => secret.tags[key] === value);
}

/**
 * True when a secret of this name could belong to the entry, whatever its tags. Tags can change
 * (UntagResource), so an event about a secret concerns every tag-only entry.
 */
export function mayContain(selection: SecretSelection, name: string): boolean {
  return selection.match === undefined || globToRegExp(selection.match).test(name);
}

export function listQuery(selection: SecretSelection): ListQuery {
  const prefix = selection.match?.split('*')[0] ?? '';
  return { ...(prefix ? { namePrefix: prefix } : {}), tags: requiredTags(selection) };
}

/**
 * The stage an ExternalSecret file belongs to: the stage whose file lives in the same directory,
 * else the directory's name (`environments/production/x.yaml` → `production`).
 */
export function stageForFile(
  file: string,
  stages: ReadonlyArray<Pick<StageConfig, 'name' | 'file'>>,
): string {
  const dir = posix.dirname(file);
  const owner = stages.find((stage) => posix.dirname(stage.file) === dir);
  if (owner) return owner.name;
  const base = posix.basename(dir);
  return base && base !== '.' && base !== '/' ? base : posix.basename(file, posix.extname(file));
}

/** Groups the config's `secrets` entries by repository, branch and file, in the order the files first appear. */
export function syncTargets(config: {
  readonly gitops: { readonly repository: string; readonly branch: string };
  readonly stages: ReadonlyArray<Pick<StageConfig, 'name' | 'file'>>;
  readonly secrets: readonly SecretSelection[];
}): SyncTarget[] {
  const byFile = new Map<string, { target: RepositoryBranch; file: string; selections: SecretSelection[] }>();
  for (const selection of config.secrets) {
    const target = secretsTarget(config, selection);
    const key = `${messageGroupOf(target)}\0${selection.file}`;
    const entry = byFile.get(key) ?? { target, file: selection.file, selections: [] };
    entry.selections.push(selection);
    byFile.set(key, entry);
  }
  return [...byFile.values()].map(({ target, file, selections }) => ({
    ...target,
    file,
    stage: stageForFile(file, config.stages),
    selections,
  }));
}

/** The first entry of the target that takes this secret, if any. */
export function selectionFor(
  target: SyncTarget,
  secret: Pick<SecretMetadata, 'name' | 'tags'>,
): SecretSelection | undefined {
  return target.selections.find((selection) => selects(selection, secret));
}

const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)$/;

/**
 * The secret name a CloudTrail `secretId` most likely stands for. A full ARN ends in `-` and six
 * random characters, which are dropped; a name is returned as it is. A partial ARN whose name
 * happens to end in `-xxxxxx` is ambiguous, so callers prefer the name DescribeSecret returns.
 */
export function nameFromSecretId(secretId: string): string {
  const match = SECRET_ARN.exec(secretId);
  if (!match?.[1]) return secretId;
  return match[1].replace(/-[A-Za-z0-9]{6}$/, '');
}

/**
 * The IAM resource name pattern (after `secret:`) that covers exactly the entry's `match` glob:
 * the random ARN suffix needs `-??????` unless the glob already ends in `*`. Tag-only entries have
 * no name pattern (grant them with a `secretsmanager:ResourceTag/…` condition instead).
 */
export function iamSecretNamePattern(selection: SecretSelection): string | undefined {
  if (selection.match === undefined) return undefined;
  return selection.match.endsWith('*') ? selection.match : `${selection.match}-??????`;
}
