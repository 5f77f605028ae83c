/**
 * Secret sync: renders each ExternalSecret file from what Secrets Manager holds now and hands it
 * to the commit queue. The desired file is rebuilt in full every time, from Secrets Manager state
 * alone (which secrets exist, their AWSCURRENT version, their key names), never from git; the
 * committer's unchanged-content check turns an identical render into "no commit", and the queue's
 * deduplication id collapses identical renders sent close together.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretSelection, StageConfig } from '../../config/schema.js';
import {
  type ExternalSecretSource,
  hasNoListedKey,
  renderExternalSecretsFile,
} from '../../domain/external-secret.js';
import {
  listQuery,
  mayContain,
  SECRET_TAGS,
  type SecretMetadata,
  type SyncTarget,
  selectionFor,
  syncTargets,
} from '../../domain/secret-selection.js';
import type { CommitQueue } from '../../ports/commit-queue.js';
import { SecretAccessDeniedError, type SecretsInventory } from '../../ports/secrets-inventory.js';
import type { SecretEventName, SyncTrigger } from './events.js';

/** The part of the config secret sync reads. */
export interface SecretSyncConfig {
  readonly gitops: { readonly repository: string; readonly branch: string };
  readonly stages: ReadonlyArray<Pick<StageConfig, 'name' | 'file'>>;
  readonly secrets: readonly SecretSelection[];
  /** `interval`: seconds between scheduled reconciles. */
  readonly secretSync: { readonly interval: number };
}

export interface SecretSyncDeps {
  readonly config: SecretSyncConfig;
  readonly inventory: SecretsInventory;
  readonly queue: CommitQueue;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface FileSyncResult {
  readonly file: string;
  readonly stage: string;
  /** ExternalSecrets in the rendered file. */
  readonly secrets: number;
  /** Secrets this sync saw change (see `changedCount`). */
  readonly changed: number;
  readonly summary: string;
  readonly status: 'queued';
  readonly messageId: string;
}

export interface SecretSyncResult {
  readonly trigger: 'schedule' | SecretEventName | 'ignored';
  readonly secret?: string;
  readonly status: 'queued' | 'skipped';
  readonly reason?: string;
  readonly files: FileSyncResult[];
}

/** Scheduled runs may start a little late; the change window overlaps the previous run by this much. */
const SCHEDULE_SLACK_SECONDS = 60;
/** GetSecretValue calls in flight at once. */
const READ_CONCURRENCY = 8;

/** A Kubernetes namespace name (RFC 1123 label). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `Sync external secrets for production (2 changed)`; a reconcile that saw no recent change says so. */
export function syncSummary(stage: string, changed: number): string {
  return changed > 0
    ? `Sync external secrets for ${stage} (${changed} changed)`
    : `Sync external secrets for ${stage} (scheduled reconcile)`;
}

interface Selected {
  readonly secret: SecretMetadata;
  readonly selection: SecretSelection;
}

/** The event's secret as Secrets Manager knows it now; undefined when it is gone or no longer ours. */
interface Touched {
  readonly name: string;
  readonly current: SecretMetadata | undefined;
}

async function describeTouched(
  trigger: Extract<SyncTrigger, { kind: 'secret-event' }>,
  deps: SecretSyncDeps,
): Promise<Touched> {
  try {
    const current = await deps.inventory.describe(trigger.secretId);
    return { name: current?.name ?? trigger.name, current };
  } catch (error) {
    // Tag-scoped permissions end with the tag (UntagResource): the secret left every entry.
    if (error instanceof SecretAccessDeniedError) {
      deps.logger.warn('cannot describe the secret; treating it as no longer selected', {
        secret: trigger.name,
        error: error.message,
      });
      return { name: trigger.name, current: undefined };
    }
    throw error;
  }
}

/**
 * The secrets of one file: every entry's candidates from ListSecrets, filtered exactly, with the
 * event's secret replaced by its fresh DescribeSecret state (ListSecrets may lag five minutes).
 * Secrets scheduled for deletion are left out; `deleted` keeps them for the change count.
 */
async function selectSecrets(target: SyncTarget, deps: SecretSyncDeps, touched: Touched | undefined) {
  const selected = new Map<string, Selected>();
  const deleted = new Map<string, SecretMetadata>();
  for (const selection of target.selections) {
    for (const secret of await deps.inventory.list(listQuery(selection))) {
      if (selected.has(secret.name) || selectionFor(target, secret) !== selection) continue;
      if (secret.deletedAt) deleted.set(secret.name, secret);
      else selected.set(secret.name, { secret, selection });
    }
  }
  if (touched) {
    selected.delete(touched.name);
    const current = touched.current;
    const selection = current && !current.deletedAt ? selectionFor(target, current) : undefined;
    if (current && selection) selected.set(current.name, { secret: current, selection });
  }
  return { selected: [...selected.values()], deleted: [...deleted.values()] };
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The namespace a secret's `shiplane:namespace` tag asks for, if the config allows it. Anyone who
 * may tag a secret would otherwise choose where its ExternalSecret (and so the Secret) is created,
 * and a malformed name would make the whole file fail to apply. An ignored tag leaves the
 * namespace to kustomize.
 */
function namespaceOf(
  secret: SecretMetadata,
  selection: SecretSelection,
  deps: SecretSyncDeps,
): string | undefined {
  const namespace = secret.tags[SECRET_TAGS.namespace] || undefined;
  if (namespace === undefined) return undefined;
  if (!NAMESPACE.test(namespace)) {
    deps.logger.warn('ignoring a namespace tag that is not a Kubernetes namespace name', {
      secret: secret.name,
      tag: SECRET_TAGS.namespace,
    });
    return undefined;
  }
  const allowed = selection.namespaces ?? [];
  if (!allowed.includes(namespace)) {
    deps.logger.warn('ignoring a namespace tag the config does not allow (secrets[].namespaces)', {
      secret: secret.name,
      tag: SECRET_TAGS.namespace,
      namespace,
      allowed,
    });
    return undefined;
  }
  return namespace;
}

/** Configured keys a JSON secret does not have (config text, never the secret's own key names). */
function missingKeys(source: ExternalSecretSource): string[] {
  if (source.shape.kind !== 'json' || !source.keys) return [];
  const present = new Set(source.shape.keys);
  return source.keys.filter((key) => !present.has(key));
}

async function sourcesFor(
  selected: readonly Selected[],
  deps: SecretSyncDeps,
): Promise<ExternalSecretSource[]> {
  const sources = await mapLimited(selected, READ_CONCURRENCY, async ({ secret, selection }) => {
    if (!secret.currentVersionId) {
      deps.logger.info('secret has no current version yet; no manifest until it has a value', {
        secret: secret.name,
      });
      return undefined;
    }
    const shape = await deps.inventory.shape({ arn: secret.arn, versionId: secret.currentVersionId });
    if (!shape) {
      deps.logger.info('secret disappeared while it was read; no manifest', { secret: secret.name });
      return undefined;
    }
    const source: ExternalSecretSource = {
      secretName: secret.name,
      versionId: secret.currentVersionId,
      shape,
      secretStore: selection.secretStore,
      refreshInterval: selection.refreshInterval,
      namespace: namespaceOf(secret, selection, deps),
      ...(selection.keys ? { keys: selection.keys } : {}),
    };
    if (hasNoListedKey(source)) {
      deps.logger.warn('secret has none of the keys its secrets entry lists; no manifest', {
        secret: secret.name,
        keys: selection.keys,
      });
      return undefined;
    }
    const missing = missingKeys(source);
    if (missing.length > 0) {
      deps.logger.warn('secret lacks some of the keys its secrets entry lists; they are left out', {
        secret: secret.name,
        missing,
      });
    }
    return source;
  });
  return sources.filter((source): source is ExternalSecretSource => source !== undefined);
}

/**
 * How many secrets this sync saw change. An event names one secret. A scheduled run cannot
 * compare with git, so it counts the secrets Secrets Manager reports changed or scheduled for
 * deletion since the previous run: exactly the changes whose events were missed.
 */
function changedCount(
  trigger: Exclude<SyncTrigger, { kind: 'ignored' }>,
  interval: number,
  selected: readonly Selected[],
  deleted: readonly SecretMetadata[],
): number {
  if (trigger.kind === 'secret-event') return 1;
  const since = trigger.at.getTime() - (interval + SCHEDULE_SLACK_SECONDS) * 1000;
  const recent = (date: Date | undefined) => date !== undefined && date.getTime() >= since;
  return (
    selected.filter(({ secret }) => recent(secret.lastChangedAt)).length +
    deleted.filter((secret) => recent(secret.deletedAt)).length
  );
}

/** Runs one sync for a trigger: every file on a schedule, the files the secret may belong to on an event. */
export async function syncSecrets(trigger: SyncTrigger, deps: SecretSyncDeps): Promise<SecretSyncResult> {
  if (trigger.kind === 'ignored') {
    deps.logger.info('event ignored', { reason: trigger.reason });
    return { trigger: 'ignored', status: 'skipped', reason: trigger.reason, files: [] };
  }
  const label = trigger.kind === 'schedule' ? 'schedule' : trigger.eventName;
  const all = syncTargets(deps.config);
  const targets =
    trigger.kind === 'schedule'
      ? all
      : all.filter((target) => target.selections.some((selection) => mayContain(selection, trigger.name)));
  if (targets.length === 0) {
    const reason =
      trigger.kind === 'schedule'
        ? 'the config has no secrets entries'
        : `no secrets entry can select ${trigger.name}`;
    deps.logger.info('nothing to sync', { trigger: label, reason });
    return {
      trigger: label,
      ...(trigger.kind === 'secret-event' ? { secret: trigger.name } : {}),
      status: 'skipped',
      reason,
      files: [],
    };
  }

  const touched = trigger.kind === 'secret-event' ? await describeTouched(trigger, deps) : undefined;
  const files: FileSyncResult[] = [];
  for (const target of targets) {
    const { selected, deleted } = await selectSecrets(target, deps, touched);
    const sources = await sourcesFor(selected, deps);
    const changed = changedCount(trigger, deps.config.secretSync.interval, selected, deleted);
    const summary = syncSummary(target.stage, changed);
    const queued = await deps.queue.send({
      repository: target.repository,
      branch: target.branch,
      change: {
        kind: 'file',
        stage: target.stage,
        file: target.file,
        content: renderExternalSecretsFile(sources),
        summary,
      },
    });
    deps.logger.info('external secrets file queued for commit', {
      file: target.file,
      stage: target.stage,
      secrets: sources.map((source) => source.secretName),
      changed,
      messageId: queued.messageId,
    });
    files.push({
      file: target.file,
      stage: target.stage,
      secrets: sources.length,
      changed,
      summary,
      status: 'queued',
      messageId: queued.messageId,
    });
  }
  return {
    trigger: label,
    ...(touched ? { secret: touched.name } : {}),
    status: 'queued',
    files,
  };
}
