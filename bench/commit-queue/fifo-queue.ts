/**
 * An SQS FIFO queue drained by Lambda's event source, simulated in memory as AWS documents it, so the
 * bench feeds the real committer the batches it would get:
 *
 * - ReceiveMessage takes the group of the oldest visible message and returns as many of that
 *   group's messages as it can (up to the batch size, in order); when the group has fewer, it fills
 *   the batch from the next groups, each in order ("FIFO queue delivery logic in Amazon SQS").
 * - A group with messages in flight gives none to anyone else until they are deleted or visible again.
 * - Lambda polls with several concurrent invocations; a batch item failure makes that message (and,
 *   as SQS keeps order, the rest of its group) visible again at its place; after `maxReceiveCount`
 *   receives a message moves to the dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

interface Message {
  readonly sequence: number;
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  receiveCount: number;
}

export interface DrainFigures {
  /** Handler invocations (one per batch). */
  readonly invocations: number;
  /** Batches whose messages came from more than one group. */
  readonly mixedBatches: number;
  /** Messages moved to the dead-letter queue. */
  readonly deadLettered: number;
}

export class SimulatedFifoQueue {
  private readonly visible: Message[] = [];
  private readonly lockedGroups = new Set<string>();
  private readonly wakers: Array<() => void> = [];
  private sequence = 0;
  private deadLettered = 0;

  constructor(private readonly options: { readonly queueArn: string; readonly maxReceiveCount: number }) {}

  send(body: string, groupId: string): void {
    this.visible.push({ sequence: this.sequence++, messageId: randomUUID(), body, groupId, receiveCount: 0 });
  }

  /** One ReceiveMessage call: up to `max` messages, the oldest group first and as whole as it can be. */
  receive(max: number): Message[] {
    const batch: Message[] = [];
    const taken = new Set<string>();
    while (batch.length < max) {
      const oldest = this.visible.find(
        (message) => !this.lockedGroups.has(message.groupId) && !taken.has(message.groupId),
      );
      if (!oldest) break;
      taken.add(oldest.groupId);
      for (const message of this.visible.filter((m) => m.groupId === oldest.groupId)) {
        if (batch.length >= max) break;
        batch.push(message);
      }
    }
    for (const message of batch) {
      this.visible.splice(this.visible.indexOf(message), 1);
      message.receiveCount++;
      this.lockedGroups.add(message.groupId);
    }
    return batch;
  }

  /** Deletes the handled messages; failed ones become visible again at their place (or go to the DLQ). */
  settle(batch: readonly Message[], failed: ReadonlySet<string>): void {
    for (const message of batch) {
      this.lockedGroups.delete(message.groupId);
      if (!failed.has(message.messageId)) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.deadLettered++;
        continue;
      }
      const at = this.visible.findIndex((other) => other.sequence > message.sequence);
      this.visible.splice(at < 0 ? this.visible.length : at, 0, message);
    }
    for (const wake of this.wakers.splice(0)) wake();
  }

  /** As Lambda's SQS records carry them. */
  event(batch: readonly Message[]): SQSEvent {
    return {
      Records: batch.map((message) => ({
        messageId: message.messageId,
        receiptHandle: message.messageId,
        body: message.body,
        attributes: {
          MessageGroupId: message.groupId,
          ApproximateReceiveCount: String(message.receiveCount),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: this.options.queueArn,
        awsRegion: 'eu-west-1',
      })),
    } as unknown as SQSEvent;
  }

  /**
   * Lambda's event source: `concurrency` invocations poll at once, each with batches of up to
   * `batchSize`, until the queue is empty and nothing is in flight.
   */
  async drain(
    handlers: ReadonlyArray<(event: SQSEvent) => Promise<SQSBatchResponse>>,
    batchSize = 10,
  ): Promise<DrainFigures> {
    let invocations = 0;
    let mixedBatches = 0;
    const poll = async (handler: (event: SQSEvent) => Promise<SQSBatchResponse>) => {
      for (;;) {
        const batch = this.receive(batchSize);
        if (batch.length === 0) {
          if (this.visible.length === 0 && this.lockedGroups.size === 0) return;
          // Everything visible belongs to a group in flight: wait until a batch settles.
          await new Promise<void>((resolve) => this.wakers.push(resolve));
          continue;
        }
        invocations++;
        if (new Set(batch.map((message) => message.groupId)).size > 1) mixedBatches++;
        let failed: Set<string>;
        try {
          const response = await handler(this.event(batch));
          failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        } catch {
          // A thrown handler fails the whole batch.
          failed = new Set(batch.map((message) => message.messageId));
        }
        this.settle(batch, failed);
      }
    };
    await Promise.all(handlers.map(poll));
    return { invocations, mixedBatches, deadLettered: this.deadLettered };
  }
}
