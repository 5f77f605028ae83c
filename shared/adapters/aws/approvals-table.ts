/**
 * The approvals table (DynamoDB, one table, partition key `pk`, TTL attribute `expiresAt` in epoch
 * seconds). Items:
 * - `approval#<id>`: one approval request: the task token (never leaves AWS), the message facts,
 *   where the Slack message is, its status and who decided. The decision is exactly-once: a
 *   conditional update from `pending`.
 * - `execution#<name>#<stage>`: the approval id of a run's stage, for the CLI and for `expired`.
 * - `thread#<execution>`: the release's Slack thread (channel, parent ts) and its per-stage status.
 * - `deployed#<app>#<stage>`: the tag last seen healthy in a stage (top-level, shown as "from" in
 *   approvals), the last few tags seen healthy there (`history`, newest last, capped) and the entry
 *   Shiplane last committed there (`pinned`): what `shiplane rollback` chooses from. Written with
 *   a read, then a put conditional on the item's `revision`, so concurrent notifications never drop
 *   each other's entries.
 * - `pending#<app>#<stage>`: the approval an app's stage was last asked for (any run), so a newer
 *   release's request can close an older run's approval as superseded.
 * - `release#<app>#<tag>`: the digest a tag was released with (release-claims.ts; the intake's only items).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ThreadState } from '../../domain/release-thread.js';
import {
  type DeployedTag,
  EMPTY_STAGE_TAGS,
  type PinnedTag,
  type StageTags,
  withHealthy,
  withPinned,
} from '../../domain/stage-tags.js';
import type { ApprovalRecord, ApprovalsStore, ThreadRecord } from '../../ports/approvals-store.js';

export type { DeployedTag, PinnedTag, StageTags };

/** How often a history write re-reads and tries again when another writer got in between. */
const STAGE_TAGS_ATTEMPTS = 5;

export const approvalKey = (approvalId: string) => `approval#${approvalId}`;
export const pointerKey = (execution: string, stage: string) => `execution#${execution}#${stage}`;
export const threadKey = (execution: string) => `thread#${execution}`;
export const deployedKey = (app: string, stage: string) => `deployed#${app}#${stage}`;
export const pendingKey = (app: string, stage: string) => `pending#${app}#${stage}`;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

function toApproval(item: Record<string, unknown> | undefined): ApprovalRecord | undefined {
  if (item?.kind !== 'approval') return undefined;
  const { pk: _pk, kind: _kind, ...record } = item;
  return record as unknown as ApprovalRecord;
}

/** The DynamoDB implementation. */
export function dynamoApprovalsStore(client: DynamoDBClient, tableName: string): ApprovalsStore {
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const TableName = tableName;
  const get = async (pk: string) =>
    (await doc.send(new GetCommand({ TableName, Key: { pk }, ConsistentRead: true }))).Item;
  /** Sets one attribute of an item that must already exist (never creates a half item). */
  const setAttribute = async (pk: string, name: string, value: unknown) => {
    await doc.send(
      new UpdateCommand({
        TableName,
        Key: { pk },
        UpdateExpression: 'SET #name = :value',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#name': name },
        ExpressionAttributeValues: { ':value': value },
      }),
    );
  };
  const getThread = async (execution: string): Promise<ThreadRecord | undefined> => {
    const item = await get(threadKey(execution));
    if (item?.kind !== 'thread') return undefined;
    return {
      execution,
      channel: String(item.channel),
      ts: String(item.ts),
      state: item.state as ThreadState,
    };
  };

  return {
    async createApproval(record) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: approvalKey(record.approvalId), kind: 'approval', ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'created';
      } catch (error) {
        if (isConditionFailure(error)) return 'exists';
        throw error;
      }
    },

    async getApproval(approvalId) {
      return toApproval(await get(approvalKey(approvalId)));
    },

    async setApprovalMessage(approvalId, message) {
      await setAttribute(approvalKey(approvalId), 'message', message);
    },

    async noteSupersedes(approvalId, olderId) {
      await setAttribute(approvalKey(approvalId), 'supersedes', olderId);
    },

    async claimDecision(approvalId, decision, nowSeconds) {
      try {
        const result = await doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: approvalKey(approvalId) },
            UpdateExpression: 'SET #status = :decided, #decision = :decision',
            ConditionExpression: '#status = :pending AND #deadline > :now',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#decision': 'decision',
              '#deadline': 'deadline',
            },
            ExpressionAttributeValues: {
              ':decided': decision.status,
              ':decision': decision,
              ':pending': 'pending',
              ':now': nowSeconds,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const record = toApproval(result.Attributes);
        if (!record) throw new Error(`approval ${approvalId} has no attributes after the update`);
        return { claimed: true, record };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return { claimed: false, record: toApproval(await get(approvalKey(approvalId))) };
      }
    },

    async releaseClaim(approvalId, decision) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: approvalKey(approvalId) },
            UpdateExpression: 'SET #status = :pending REMOVE #decision',
            ConditionExpression: '#status = :decided AND #decision.#at = :at AND #decision.#by = :by',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#decision': 'decision',
              '#at': 'at',
              '#by': 'by',
            },
            ExpressionAttributeValues: {
              ':pending': 'pending',
              ':decided': decision.status,
              ':at': decision.at,
              ':by': decision.by,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async settleClaim(approvalId, claimed, actual) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: approvalKey(approvalId) },
            UpdateExpression: 'SET #status = :actual, #decision = :decision',
            ConditionExpression: '#status = :claimed AND #decision.#at = :at AND #decision.#by = :by',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#decision': 'decision',
              '#at': 'at',
              '#by': 'by',
            },
            ExpressionAttributeValues: {
              ':actual': actual.status,
              ':decision': actual,
              ':claimed': claimed.status,
              ':at': claimed.at,
              ':by': claimed.by,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async closeApproval(approvalId, from, to, at) {
      const names = from.map((_, i) => `:from${i}`);
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: approvalKey(approvalId) },
            UpdateExpression: 'SET #status = :to, #closedAt = :at',
            ConditionExpression: `#status IN (${names.join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status', '#closedAt': 'closedAt' },
            ExpressionAttributeValues: {
              ':to': to,
              ':at': at,
              ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async pointToApproval(execution, stage, approvalId, expiresAt) {
      const result = await doc.send(
        new PutCommand({
          TableName,
          Item: { pk: pointerKey(execution, stage), kind: 'pointer', approvalId, expiresAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = result.Attributes?.approvalId;
      return typeof previous === 'string' ? previous : undefined;
    },

    async approvalIdFor(execution, stage) {
      const item = await get(pointerKey(execution, stage));
      return typeof item?.approvalId === 'string' ? item.approvalId : undefined;
    },

    async pointToPendingApproval(app, stage, pointer, expiresAt) {
      const result = await doc.send(
        new PutCommand({
          TableName,
          Item: {
            pk: pendingKey(app, stage),
            kind: 'pending',
            approvalId: pointer.approvalId,
            tag: pointer.tag,
            execution: pointer.execution,
            expiresAt,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = result.Attributes;
      if (old?.kind !== 'pending' || typeof old.approvalId !== 'string') return undefined;
      return { approvalId: old.approvalId, tag: String(old.tag), execution: String(old.execution) };
    },

    getThread,

    async createThread(thread, expiresAt) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { pk: threadKey(thread.execution), kind: 'thread', ...thread, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return thread;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const existing = await getThread(thread.execution);
        if (!existing) throw error;
        return existing;
      }
    },

    async saveThreadState(execution, state) {
      await setAttribute(threadKey(execution), 'state', state);
    },

    async recordDeployedTag(app, stage, tag) {
      await updateStageTags(app, stage, (tags) => withHealthy(tags, tag));
    },

    async deployedTag(app, stage) {
      const item = await get(deployedKey(app, stage));
      if (item?.kind !== 'deployed' || typeof item.tag !== 'string') return undefined;
      return {
        tag: String(item.tag),
        digest: String(item.digest),
        execution: String(item.execution),
        at: String(item.at),
      };
    },

    async recordPinnedTag(app, stage, pinned) {
      await updateStageTags(app, stage, (tags) => withPinned(tags, pinned));
    },

    async stageTags(app, stage) {
      const item = await get(deployedKey(app, stage));
      return item?.kind === 'deployed' ? stageTagsOf(item) : undefined;
    },
  };

  /**
   * Read, change, put back only if nobody wrote in between (`revision`); else read again. The
   * top-level fields stay the newest healthy tag, as readers of the item before the history expect.
   */
  async function updateStageTags(app: string, stage: string, change: (tags: StageTags) => StageTags) {
    const pk = deployedKey(app, stage);
    for (let attempt = 1; ; attempt++) {
      const item = await get(pk);
      const current = item?.kind === 'deployed' ? stageTagsOf(item) : EMPTY_STAGE_TAGS;
      const next = change(current);
      const revision = typeof item?.revision === 'number' ? item.revision : undefined;
      const newest = next.healthy.at(-1);
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: {
              pk,
              kind: 'deployed',
              ...(newest ? flatTag(newest) : {}),
              history: next.healthy,
              ...(next.pinned ? { pinned: next.pinned } : {}),
              revision: (revision ?? 0) + 1,
            },
            ...(item === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : revision === undefined
                ? {
                    ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#revision)',
                    ExpressionAttributeNames: { '#revision': 'revision' },
                  }
                : {
                    ConditionExpression: '#revision = :revision',
                    ExpressionAttributeNames: { '#revision': 'revision' },
                    ExpressionAttributeValues: { ':revision': revision },
                  }),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= STAGE_TAGS_ATTEMPTS) throw error;
      }
    }
  }
}

/** The newest healthy tag as the item's top-level fields (what `deployedTag` reads). */
function flatTag(tag: DeployedTag): Record<string, unknown> {
  return {
    tag: tag.tag,
    digest: tag.digest,
    execution: tag.execution,
    at: tag.at,
    ...(tag.commit ? { commit: tag.commit } : {}),
  };
}

/** The history of a `deployed#` item; an item written before the history has its one tag. */
function stageTagsOf(item: Record<string, unknown>): StageTags {
  const history = Array.isArray(item.history)
    ? (item.history as DeployedTag[])
    : typeof item.tag === 'string'
      ? [
          {
            tag: item.tag,
            digest: String(item.digest),
            execution: String(item.execution),
            at: String(item.at),
          },
        ]
      : [];
  const pinned =
    typeof item.pinned === 'object' && item.pinned !== null ? (item.pinned as PinnedTag) : undefined;
  return { healthy: history, ...(pinned ? { pinned } : {}) };
}
