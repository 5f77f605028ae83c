import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { LocalFunction, LocalQueue } from '../../../local/engine/definition.js';
import {
  LocalFifoQueue,
  type LocalFifoQueueOptions,
  type QueueActivity,
} from '../../../local/engine/fifo-queue.js';
import type { InvokeOutcome } from '../../../local/engine/lambda.js';

const committer: LocalFunction = {
  logicalId: 'committerfunctionE0A4D7B9',
  handler: 'committer',
  name: 'committer',
  arn: 'arn:aws:lambda:local:000000000000:function:committer',
  timeoutSeconds: 120,
  memorySizeMb: 512,
};

const commitQueue: LocalQueue = {
  logicalId: 'commitqueueD3327AA2',
  role: 'commit',
  name: 'shiplane-commit.fifo',
  url: 'https://sqs.local.amazonaws.com/000000000000/shiplane-commit.fifo',
  arn: 'arn:aws:sqs:local:000000000000:shiplane-commit.fifo',
  fifo: true,
  contentBasedDeduplication: true,
  maxReceiveCount: 3,
  consumer: undefined,
};

const GROUP = 'itdo-erp/itdo-erp-infrastructure#main';

/** Successful handler outcome with a payload. */
const ok = (payload: unknown = null): InvokeOutcome => ({ ok: true, requestId: 'r', payload });
const thrown = (message: string): InvokeOutcome => ({
  ok: false,
  requestId: 'r',
  errorType: 'HttpError',
  errorMessage: message,
  trace: [],
});

/** A queue whose consumer runs `consume` and records every batch (bodies and receive counts). */
function queueWith(
  consume: (event: SQSEvent, batchNumber: number) => Promise<InvokeOutcome> | InvokeOutcome,
  options: Partial<LocalFifoQueueOptions> & { batchSize?: number; reportBatchItemFailures?: boolean } = {},
) {
  const batches: Array<Array<{ body: string; receives: string; group: string | undefined }>> = [];
  const activity: QueueActivity[] = [];
  const queue = new LocalFifoQueue({
    queue: commitQueue,
    consumer: {
      function: committer,
      batchSize: options.batchSize ?? 10,
      reportBatchItemFailures: options.reportBatchItemFailures ?? true,
    },
    invoke: async (event) => {
      batches.push(
        event.Records.map((r) => ({
          body: r.body,
          receives: r.attributes.ApproximateReceiveCount,
          group: r.attributes.MessageGroupId,
        })),
      );
      return consume(event, batches.length);
    },
    onActivity: (a) => activity.push(a),
    ...options,
  });
  return { queue, batches, activity };
}

/** Lets pending deliveries start and finish, without waiting for invisible messages. */
async function quiet(queue: LocalFifoQueue): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await queue.settled();
  await new Promise((resolve) => setImmediate(resolve));
}

/** Waits until the queue has nothing queued and nothing in flight. */
async function drained(queue: LocalFifoQueue): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    await queue.settled();
    await new Promise((resolve) => setImmediate(resolve));
    if (queue.depth() === 0) {
      await queue.settled();
      return;
    }
  }
}

describe('LocalFifoQueue', () => {
  it('delivers the messages of a group in order, in batches up to the batch size, one batch at a time', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const { queue, batches } = queueWith(
      async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return ok();
      },
      { batchSize: 2 },
    );

    // Act
    for (const body of ['m1', 'm2', 'm3', 'm4', 'm5']) queue.send({ body, groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches.map((batch) => batch.map((m) => m.body))).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
    expect(maxInFlight).toBe(1);
  });

  it('delivers another group while one group has a batch in flight', async () => {
    // Prepare: the infrastructure batch only finishes once the charts batch has been delivered.
    let chartsDelivered: () => void = () => undefined;
    const charts = new Promise<void>((resolve) => {
      chartsDelivered = resolve;
    });
    const { queue, batches } = queueWith(async (event) => {
      if (event.Records[0]?.attributes.MessageGroupId === 'itdo-erp/charts#main') chartsDelivered();
      else await charts;
      return ok();
    });

    // Act
    queue.send({ body: 'infra-1', groupId: 'itdo-erp/itdo-erp-infrastructure#main' });
    queue.send({ body: 'charts-1', groupId: 'itdo-erp/charts#main' });
    await drained(queue);

    // Assess
    expect(batches.flatMap((b) => b.map((m) => `${m.group}:${m.body}`))).toEqual([
      'itdo-erp/itdo-erp-infrastructure#main:infra-1',
      'itdo-erp/charts#main:charts-1',
    ]);
  });

  it('redelivers only the messages listed in batchItemFailures, ahead of later messages', async () => {
    // Prepare
    const { queue, batches } = queueWith(
      (event, n) =>
        n === 1
          ? ok({ batchItemFailures: [{ itemIdentifier: event.Records[1]?.messageId }] })
          : ok({ batchItemFailures: [] }),
      { batchSize: 3 },
    );

    // Act
    for (const body of ['m1', 'm2', 'm3']) queue.send({ body, groupId: GROUP });
    await drained(queue);
    queue.send({ body: 'm4', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches.map((b) => b.map((m) => `${m.body}#${m.receives}`))).toEqual([
      ['m1#1', 'm2#1', 'm3#1'],
      ['m2#2'],
      ['m4#1'],
    ]);
  });

  it('redelivers the whole batch when the handler throws', async () => {
    // Prepare
    const { queue, batches } = queueWith((_, n) => (n === 1 ? thrown('GitHub answered 502') : ok()));

    // Act
    queue.send({ body: 'm1', groupId: GROUP });
    queue.send({ body: 'm2', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches.map((b) => b.map((m) => `${m.body}#${m.receives}`))).toEqual([
      ['m1#1', 'm2#1'],
      ['m1#2', 'm2#2'],
    ]);
  });

  it('treats a partial batch response naming an unknown message as a failed batch, like Lambda', async () => {
    // Prepare
    const { queue, batches } = queueWith((_, n) =>
      n === 1 ? ok({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }) : ok(),
    );

    // Act
    queue.send({ body: 'm1', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches.map((b) => b.map((m) => m.receives))).toEqual([['1'], ['2']]);
  });

  it('ignores batchItemFailures when the mapping does not report batch item failures', async () => {
    // Prepare
    const { queue, batches } = queueWith(
      (event) => ok({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] }),
      { reportBatchItemFailures: false },
    );

    // Act
    queue.send({ body: 'm1', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches).toHaveLength(1);
  });

  it('moves a message to the dead letters after maxReceiveCount receives', async () => {
    // Prepare
    const { queue, batches, activity } = queueWith(() => thrown('GitHub answered 502'));

    // Act
    queue.send({ body: 'm1', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(batches).toHaveLength(3);
    expect(queue.deadLetters.map((m) => [m.body, m.receiveCount])).toEqual([['m1', 3]]);
    expect(activity.map((a) => a.type)).toEqual([
      'sent',
      'delivered',
      'failed',
      'delivered',
      'failed',
      'delivered',
      'failed',
      'dead-lettered',
    ]);
  });

  it('drops a repeat of the same body within the deduplication window and answers with the first message id', async () => {
    // Prepare
    const { queue, batches } = queueWith(() => ok());

    // Act
    const first = queue.send({ body: '{"taskToken":"t1"}', groupId: GROUP });
    const repeat = queue.send({ body: '{"taskToken":"t1"}', groupId: GROUP });
    const other = queue.send({ body: '{"taskToken":"t2"}', groupId: GROUP });
    await drained(queue);

    // Assess
    expect(repeat.MessageId).toBe(first.MessageId);
    expect(other.MessageId).not.toBe(first.MessageId);
    expect(BigInt(other.SequenceNumber)).toBeGreaterThan(BigInt(first.SequenceNumber));
    expect(batches.flat().map((m) => m.body)).toEqual(['{"taskToken":"t1"}', '{"taskToken":"t2"}']);
  });

  it('refuses a message without a group id, as SQS does for a FIFO queue', () => {
    const { queue } = queueWith(() => ok());
    expect(() => queue.send({ body: 'm1' })).toThrow(
      expect.objectContaining({
        name: 'SQS.AmazonSQSException',
        message: 'The request must contain the parameter MessageGroupId.',
      }),
    );
  });

  it('keeps a failed message invisible for redeliveryDelayMs, blocking its group', async () => {
    // Prepare: only setTimeout is faked, so delivery (setImmediate) still runs.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { queue, batches } = queueWith((_, n) => (n === 1 ? thrown('conflict') : ok()), {
        redeliveryDelayMs: 30_000,
      });

      // Act
      queue.send({ body: 'm1', groupId: GROUP });
      await quiet(queue);
      queue.send({ body: 'm2', groupId: GROUP });
      await quiet(queue);
      const whileInvisible = batches.length;
      vi.advanceTimersByTime(29_999);
      await quiet(queue);
      const justBefore = batches.length;
      vi.advanceTimersByTime(1);
      await drained(queue);

      // Assess
      expect([whileInvisible, justBefore]).toEqual([1, 1]);
      expect(batches.map((b) => b.map((m) => m.body))).toEqual([['m1'], ['m1', 'm2']]);
    } finally {
      vi.useRealTimers();
    }
  });
});
