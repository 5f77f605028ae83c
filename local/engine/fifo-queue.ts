/**
 * An in-process SQS FIFO queue with its Lambda event source mapping: messages of one message group are
 * delivered in order, one batch at a time (up to the mapping's batch size), as SQS-shaped events. A
 * failed message (the handler threw, or listed it in `batchItemFailures` when the mapping reports batch
 * item failures) is received again, ahead of the rest of its group, until the queue's maxReceiveCount;
 * then it moves to the dead-letter list. Content-based deduplication drops a repeat within 5 minutes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { LOCAL_AWS, type LocalQueue, type LocalQueueConsumer } from './definition.js';
import type { InvokeOutcome } from './lambda.js';

const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

/** Receives before a message is dead-lettered when the queue has no redrive policy (SQS: forever). */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
  readonly sequenceNumber: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
}

/** What the queue did, for the engine's live timeline. */
export type QueueActivity =
  | {
      readonly type: 'sent';
      readonly queue: string;
      readonly message: QueuedMessage;
      readonly duplicate: boolean;
    }
  | {
      readonly type: 'delivered';
      readonly queue: string;
      readonly groupId: string;
      readonly messageIds: readonly string[];
    }
  | {
      readonly type: 'failed';
      readonly queue: string;
      readonly groupId: string;
      readonly messageIds: readonly string[];
      readonly reason: string;
    }
  | { readonly type: 'dead-lettered'; readonly queue: string; readonly message: QueuedMessage };

export interface SendResult {
  readonly MessageId: string;
  readonly MD5OfMessageBody: string;
  readonly SequenceNumber: string;
}

export interface LocalFifoQueueOptions {
  readonly queue: LocalQueue;
  readonly consumer: LocalQueueConsumer;
  /** Calls the consumer's handler with an SQS event. */
  readonly invoke: (event: SQSEvent) => Promise<InvokeOutcome>;
  /** How long a failed message stays invisible before it is received again. @default 0 */
  readonly redeliveryDelayMs?: number;
  /** @default the queue's redrive policy, else DEFAULT_MAX_RECEIVE_COUNT */
  readonly maxReceiveCount?: number;
  readonly onActivity?: (activity: QueueActivity) => void;
}

interface Group {
  readonly messages: QueuedMessage[];
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

export class LocalFifoQueue {
  readonly deadLetters: QueuedMessage[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly deduplication = new Map<
    string,
    { messageId: string; sequenceNumber: string; until: number }
  >();
  private readonly inFlight = new Set<Promise<void>>();
  private sequence = 0n;
  private closed = false;
  private readonly maxReceiveCount: number;
  private readonly redeliveryDelayMs: number;

  constructor(private readonly options: LocalFifoQueueOptions) {
    this.maxReceiveCount =
      options.maxReceiveCount ?? options.queue.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 0;
  }

  get name(): string {
    return this.options.queue.name;
  }

  /**
   * SendMessage. Throws an error named like Step Functions reports an SQS failure when a FIFO queue gets
   * no group id, or no deduplication id without content-based deduplication.
   */
  send(message: {
    body: string;
    groupId?: string | undefined;
    deduplicationId?: string | undefined;
  }): SendResult {
    const { queue } = this.options;
    if (queue.fifo && !message.groupId) {
      throw sqsError('The request must contain the parameter MessageGroupId.');
    }
    let deduplicationId = message.deduplicationId;
    if (queue.fifo && !deduplicationId) {
      if (!queue.contentBasedDeduplication) {
        throw sqsError(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      deduplicationId = createHash('sha256').update(message.body).digest('hex');
    }
    const now = Date.now();
    for (const [id, entry] of this.deduplication) if (entry.until <= now) this.deduplication.delete(id);
    const seen = deduplicationId ? this.deduplication.get(deduplicationId) : undefined;
    if (seen) {
      return {
        MessageId: seen.messageId,
        MD5OfMessageBody: md5(message.body),
        SequenceNumber: seen.sequenceNumber,
      };
    }
    this.sequence += 1n;
    const stored: QueuedMessage = {
      messageId: randomUUID(),
      body: message.body,
      groupId: message.groupId ?? '',
      deduplicationId: deduplicationId ?? '',
      sequenceNumber: this.sequence.toString().padStart(20, '0'),
      sentAt: now,
      receiveCount: 0,
      firstReceivedAt: undefined,
    };
    if (deduplicationId) {
      this.deduplication.set(deduplicationId, {
        messageId: stored.messageId,
        sequenceNumber: stored.sequenceNumber,
        until: now + DEDUPLICATION_WINDOW_MS,
      });
    }
    this.group(stored.groupId).messages.push(stored);
    this.options.onActivity?.({ type: 'sent', queue: queue.name, message: stored, duplicate: false });
    // Like SQS, delivery happens after SendMessage has returned.
    setImmediate(() => this.pump(stored.groupId));
    return {
      MessageId: stored.messageId,
      MD5OfMessageBody: md5(message.body),
      SequenceNumber: stored.sequenceNumber,
    };
  }

  /** Messages waiting (not in flight) per group. */
  depth(): number {
    let total = 0;
    for (const group of this.groups.values()) total += group.messages.length;
    return total;
  }

  /** Resolves once no batch is in flight. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops delivering; messages still queued stay where they are. */
  async close(): Promise<void> {
    this.closed = true;
    for (const group of this.groups.values()) clearTimeout(group.timer);
    await this.settled();
  }

  private group(id: string): Group {
    let group = this.groups.get(id);
    if (!group) {
      group = { messages: [], inFlight: false, timer: undefined };
      this.groups.set(id, group);
    }
    return group;
  }

  private pump(groupId: string): void {
    const group = this.group(groupId);
    if (this.closed || group.inFlight || group.timer || group.messages.length === 0) return;
    group.inFlight = true;
    const batch = group.messages.splice(0, this.options.consumer.batchSize);
    const delivery = this.deliver(groupId, batch).finally(() => {
      group.inFlight = false;
      this.inFlight.delete(delivery);
      this.pump(groupId);
    });
    this.inFlight.add(delivery);
  }

  private async deliver(groupId: string, batch: QueuedMessage[]): Promise<void> {
    const now = Date.now();
    for (const message of batch) {
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
    }
    const { queue, consumer } = this.options;
    const event: SQSEvent = { Records: batch.map((message) => this.record(message)) };
    this.options.onActivity?.({
      type: 'delivered',
      queue: queue.name,
      groupId,
      messageIds: batch.map((m) => m.messageId),
    });
    const outcome = await this.options.invoke(event);
    let failed: QueuedMessage[];
    let reason: string;
    if (!outcome.ok) {
      failed = batch;
      reason = `${outcome.errorType}: ${outcome.errorMessage}`;
    } else if (consumer.reportBatchItemFailures) {
      const reported = readBatchItemFailures(outcome.payload);
      const ids = new Set(batch.map((m) => m.messageId));
      // Lambda treats an unreadable response, or one naming a message not in the batch, as a failed batch.
      if (reported === undefined || reported.some((id) => !ids.has(id))) {
        failed = batch;
        reason = 'the partial batch response is not valid';
      } else {
        failed = batch.filter((m) => reported.includes(m.messageId));
        reason = 'listed in batchItemFailures';
      }
    } else {
      failed = [];
      reason = '';
    }
    if (failed.length === 0) return;
    this.options.onActivity?.({
      type: 'failed',
      queue: queue.name,
      groupId,
      messageIds: failed.map((m) => m.messageId),
      reason,
    });
    const retry: QueuedMessage[] = [];
    for (const message of failed) {
      if (message.receiveCount >= this.maxReceiveCount) {
        this.deadLetters.push(message);
        this.options.onActivity?.({ type: 'dead-lettered', queue: queue.name, message });
      } else {
        retry.push(message);
      }
    }
    if (retry.length === 0) return;
    const group = this.group(groupId);
    group.messages.unshift(...retry);
    // A FIFO group stays blocked while its failed message is invisible, so order is kept.
    if (this.redeliveryDelayMs > 0 && !this.closed) {
      group.timer = setTimeout(() => {
        group.timer = undefined;
        this.pump(groupId);
      }, this.redeliveryDelayMs);
    }
  }

  private record(message: QueuedMessage): SQSRecord {
    const { queue } = this.options;
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}#${randomBytes(12).toString('base64url')}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: `AROA${LOCAL_AWS.accountId}:states`,
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
        ...(queue.fifo
          ? {
              SequenceNumber: message.sequenceNumber,
              MessageGroupId: message.groupId,
              MessageDeduplicationId: message.deduplicationId,
            }
          : {}),
      },
      messageAttributes: {},
      md5OfBody: md5(message.body),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: LOCAL_AWS.region,
    };
  }
}

function readBatchItemFailures(payload: unknown): string[] | undefined {
  // An empty or null response means every message succeeded.
  if (payload === null || payload === undefined) return [];
  if (typeof payload !== 'object') return undefined;
  const failures = (payload as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) return undefined;
  const ids: string[] = [];
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') return undefined;
    ids.push(id);
  }
  return ids;
}

function sqsError(message: string): Error {
  const error = new Error(message);
  error.name = 'SQS.AmazonSQSException';
  return error;
}
