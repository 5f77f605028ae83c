/**
 * The DynamoDB approvals store against a local DynamoDB (dynalite): every condition here is decided
 * by a real conditional write, as in AWS. What only the request can show (consistent reads) is in
 * approvals-table.requests.test.ts.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoApprovalsStore } from '../../../../shared/adapters/aws/approvals-table.js';
import type { Decision } from '../../../../shared/domain/approval.js';
import { newThreadState } from '../../../../shared/domain/release-thread.js';
import type { ApprovalRecord } from '../../../../shared/ports/approvals-store.js';
import { approvalRequest, release } from '../../../fixtures/slack/context.js';
import { useLocalApprovalsTable } from '../../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();

const DEADLINE = 1_795_788_000;
const record: ApprovalRecord = {
  approvalId: 'a1b2c3',
  execution: 'backend-v1.4.2-4f2c9d1e8a7b',
  stage: 'production',
  taskToken: approvalRequest().taskToken,
  status: 'pending',
  approvers: ['U0PLATFORM1', 'U0BOB00001'],
  facts: {
    approvalId: 'a1b2c3',
    execution: 'backend-v1.4.2-4f2c9d1e8a7b',
    stage: 'production',
    app: 'backend',
    tag: 'v1.4.2',
    digest: release().digest,
    ecrRepository: 'itdo-erp/backend',
    approvers: ['U0PLATFORM1', 'U0BOB00001'],
    requestedAt: '2026-11-26T14:00:00.000Z',
    deadline: '2026-11-27T14:00:00.000Z',
    history: [],
  },
  createdAt: '2026-11-26T14:00:00.000Z',
  deadline: DEADLINE,
  expiresAt: 1_796_392_800,
};
const BEFORE_DEADLINE = DEADLINE - 3_600;
const approve: Decision = {
  status: 'approved',
  by: 'U0PLATFORM1',
  at: '2026-11-26T14:02:00.000Z',
  via: 'slack',
};
const reject: Decision = {
  status: 'rejected',
  by: 'U0BOB00001',
  at: '2026-11-26T14:02:00.100Z',
  via: 'slack',
};

/** A store holding `record`, pending. */
async function withPendingApproval() {
  const store = approvalsTable.store();
  expect(await store.createApproval(record)).toBe('created');
  return store;
}

describe('dynamoApprovalsStore against a local DynamoDB', () => {
  it('stores an approval under approval#<id> once, with its TTL, and reads it back without table keys', async () => {
    const store = await withPendingApproval();

    expect(await store.createApproval({ ...record, taskToken: 'another token' })).toBe('exists');
    expect(await store.getApproval('a1b2c3')).toEqual(record);
    expect(await store.getApproval('nothing')).toBeUndefined();
    const raw = await approvalsTable.client.send(
      new GetItemCommand({ TableName: approvalsTable.tableName, Key: { pk: { S: 'approval#a1b2c3' } } }),
    );
    expect(raw.Item).toMatchObject({ kind: { S: 'approval' }, expiresAt: { N: '1796392800' } });
  });

  it('lets exactly one of two approvers clicking at once decide', async () => {
    const store = await withPendingApproval();

    const [first, second] = await Promise.all([
      store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE),
      store.claimDecision('a1b2c3', reject, BEFORE_DEADLINE),
    ]);

    const results = [first, second];
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
    const winner = first.claimed ? approve : reject;
    // The loser is told how it was decided, and the table holds the winner's decision only.
    const loser = results.find((result) => !result.claimed);
    expect(loser?.record).toMatchObject({ status: winner.status, decision: winner });
    expect(await store.getApproval('a1b2c3')).toEqual({ ...record, status: winner.status, decision: winner });
  });

  it('lets one of many concurrent decisions win, whoever sends them', async () => {
    const store = await withPendingApproval();
    const decisions = Array.from({ length: 12 }, (_, i) => ({
      ...(i % 2 ? reject : approve),
      at: `2026-11-26T14:02:${String(i).padStart(2, '0')}.000Z`,
    }));

    const results = await Promise.all(
      decisions.map((d) => store.claimDecision('a1b2c3', d, BEFORE_DEADLINE)),
    );

    const won = results.flatMap((result, i) => (result.claimed ? [decisions[i]] : []));
    expect(won).toHaveLength(1);
    expect((await store.getApproval('a1b2c3'))?.decision).toEqual(won[0]);
  });

  it('refuses a decision at or after the deadline, and on an approval that does not exist', async () => {
    const store = await withPendingApproval();

    const late = await store.claimDecision('a1b2c3', approve, DEADLINE);
    expect(late).toEqual({ claimed: false, record });
    expect((await store.claimDecision('a1b2c3', approve, DEADLINE + 1)).claimed).toBe(false);
    expect(await store.claimDecision('missing', approve, BEFORE_DEADLINE)).toEqual({
      claimed: false,
      record: undefined,
    });
    expect(await store.getApproval('missing')).toBeUndefined();
  });

  it('expires a pending approval, after which no click decides it', async () => {
    const store = await withPendingApproval();

    expect(await store.closeApproval('a1b2c3', ['pending'], 'expired', '2026-11-27T14:00:00Z')).toBe(true);

    const click = await store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE);
    expect(click).toEqual({
      claimed: false,
      record: { ...record, status: 'expired', closedAt: '2026-11-27T14:00:00Z' },
    });
    // Closing again, from a status it is no longer in, changes nothing.
    expect(await store.closeApproval('a1b2c3', ['pending'], 'superseded', 'later')).toBe(false);
    expect((await store.getApproval('a1b2c3'))?.status).toBe('expired');
  });

  it('lets either the expiry or a click win when they race, never both', async () => {
    const store = await withPendingApproval();

    const [closed, click] = await Promise.all([
      store.closeApproval('a1b2c3', ['pending'], 'expired', '2026-11-27T14:00:00Z'),
      store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE),
    ]);

    expect(closed).not.toBe(click.claimed);
    expect((await store.getApproval('a1b2c3'))?.status).toBe(closed ? 'expired' : 'approved');
  });

  it('supersedes an older approval: the newer request finds it through the stage pointer and closes it', async () => {
    const store = await withPendingApproval();
    const older = { approvalId: 'a1b2c3', tag: 'v1.4.2', execution: record.execution };
    const newer = { approvalId: 'd4e5f6', tag: 'v1.4.3', execution: 'backend-v1.4.3-5a6b7c8d9e0f' };

    expect(await store.pointToPendingApproval('backend', 'production', older, 99)).toBeUndefined();
    expect(await store.pointToPendingApproval('backend', 'production', newer, 99)).toEqual(older);
    expect(await store.pointToPendingApproval('frontend', 'production', newer, 99)).toBeUndefined();
    await store.createApproval({ ...record, approvalId: 'd4e5f6', execution: newer.execution });
    await store.noteSupersedes('d4e5f6', 'a1b2c3');
    expect(await store.closeApproval('a1b2c3', ['pending', 'approved'], 'superseded', 'now')).toBe(true);

    expect((await store.getApproval('d4e5f6'))?.supersedes).toBe('a1b2c3');
    expect(await store.getApproval('a1b2c3')).toMatchObject({ status: 'superseded', closedAt: 'now' });
    expect((await store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE)).claimed).toBe(false);
  });

  it('never creates a half item when it sets the message or the supersession of a missing approval', async () => {
    const store = approvalsTable.store();

    await expect(store.setApprovalMessage('missing', { channel: 'C0DEPLOYS1', ts: '1.1' })).rejects.toThrow(
      'The conditional request failed',
    );
    await expect(store.noteSupersedes('missing', 'older')).rejects.toThrow('The conditional request failed');
    await expect(
      store.saveThreadState('missing', newThreadState('missing', release(), new Date())),
    ).rejects.toThrow('The conditional request failed');
    expect(await store.getApproval('missing')).toBeUndefined();
    expect(await store.getThread('missing')).toBeUndefined();
  });

  it('notes where the approval message is', async () => {
    const store = await withPendingApproval();

    await store.setApprovalMessage('a1b2c3', { channel: 'C0DEPLOYS1', ts: '1795701600.000100' });

    expect(await store.getApproval('a1b2c3')).toEqual({
      ...record,
      message: { channel: 'C0DEPLOYS1', ts: '1795701600.000100' },
    });
  });

  it('releases only its own claim, back to pending with no decision', async () => {
    const store = await withPendingApproval();
    await store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE);

    expect(await store.releaseClaim('a1b2c3', { ...approve, at: 'another time' })).toBe(false);
    expect(await store.releaseClaim('a1b2c3', { ...approve, by: 'U0BOB00001' })).toBe(false);
    expect(await store.releaseClaim('a1b2c3', { ...approve, status: 'rejected' })).toBe(false);
    expect(await store.releaseClaim('a1b2c3', approve)).toBe(true);
    expect(await store.getApproval('a1b2c3')).toEqual(record);
    expect(await store.releaseClaim('a1b2c3', approve)).toBe(false);
  });

  it('replaces only its own claim with the decision the run received', async () => {
    const store = await withPendingApproval();
    await store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE);
    const earlier: Decision = { ...reject, at: '2026-11-26T14:01:00.000Z' };

    expect(await store.settleClaim('a1b2c3', { ...approve, by: 'U0BOB00001' }, earlier)).toBe(false);
    expect(await store.settleClaim('a1b2c3', approve, earlier)).toBe(true);
    expect(await store.getApproval('a1b2c3')).toEqual({ ...record, status: 'rejected', decision: earlier });
    expect(await store.settleClaim('a1b2c3', approve, earlier)).toBe(false);
  });

  it("points a run's stage at its approval and says which one it pointed at before", async () => {
    const store = approvalsTable.store();

    expect(await store.approvalIdFor('run', 'production')).toBeUndefined();
    expect(await store.pointToApproval('run', 'production', 'first', 99)).toBeUndefined();
    expect(await store.pointToApproval('run', 'production', 'second', 99)).toBe('first');
    expect(await store.approvalIdFor('run', 'production')).toBe('second');
    expect(await store.approvalIdFor('run', 'staging')).toBeUndefined();
  });

  it('keeps the first thread when two writers create one at once, and saves its state', async () => {
    const store = approvalsTable.store();
    const state = newThreadState('run', release(), new Date('2026-11-26T14:00:00Z'));
    const mine = { execution: 'run', channel: 'C0DEPLOYS1', ts: '1.000001', state };
    const theirs = { ...mine, ts: '2.000002' };

    const [a, b] = await Promise.all([store.createThread(mine, 5), store.createThread(theirs, 5)]);

    expect(a).toEqual(b);
    expect(await store.getThread('run')).toEqual(a);
    await store.saveThreadState('run', { ...state, outcome: 'deployed' });
    expect(await store.getThread('run')).toEqual({ ...a, state: { ...state, outcome: 'deployed' } });
  });

  it('records the tag last seen healthy in a stage, the newest replacing the one before', async () => {
    const store = approvalsTable.store();
    const first = { tag: 'v1.4.1', digest: release().digest, execution: 'run-1', at: '2026-11-20T10:00:00Z' };
    const second = {
      tag: 'v1.4.2',
      digest: release().digest,
      execution: 'run-2',
      at: '2026-11-26T14:30:00Z',
    };

    expect(await store.deployedTag('backend', 'production')).toBeUndefined();
    await store.recordDeployedTag('backend', 'production', first);
    expect(await store.deployedTag('backend', 'production')).toEqual(first);
    await store.recordDeployedTag('backend', 'production', second);
    expect(await store.deployedTag('backend', 'production')).toEqual(second);
    expect(await store.deployedTag('backend', 'staging')).toBeUndefined();
    expect(await store.deployedTag('frontend', 'production')).toBeUndefined();
  });

  it('lets DynamoDB errors other than a failed condition through', async () => {
    const store = dynamoApprovalsStore(approvalsTable.client, 'no-such-table');

    await expect(store.claimDecision('a1b2c3', approve, BEFORE_DEADLINE)).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(store.createApproval(record)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(store.closeApproval('a1b2c3', ['pending'], 'expired', 'now')).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
