import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, Decision } from '../../../shared/adapters/aws/approvals-table.js';
import { memoryApprovalsStore } from '../../../shared/approvals/memory-store.js';
import { newThreadState } from '../../../shared/domain/release-thread.js';
import { release } from '../../fixtures/slack/context.js';

const record = {
  approvalId: 'a1',
  execution: 'run',
  stage: 'production',
  taskToken: 'token',
  status: 'pending',
  approvers: ['U0PLATFORM1'],
  facts: {},
  createdAt: '2026-11-26T14:00:00Z',
  deadline: 1_000,
  expiresAt: 2_000,
} as unknown as ApprovalRecord;
const approve: Decision = { status: 'approved', by: 'U0PLATFORM1', at: '2026-11-26T14:02:00Z', via: 'slack' };

describe('memoryApprovalsStore', () => {
  it('creates an approval once', async () => {
    const store = memoryApprovalsStore();
    expect(await store.createApproval(record)).toBe('created');
    expect(await store.createApproval(record)).toBe('exists');
  });

  it('lets exactly one of two concurrent decisions claim a pending approval', async () => {
    const store = memoryApprovalsStore();
    await store.createApproval(record);
    const reject: Decision = { ...approve, status: 'rejected', by: 'U0BOB00001' };
    const [a, b] = await Promise.all([
      store.claimDecision('a1', approve, 500),
      store.claimDecision('a1', reject, 500),
    ]);
    expect([a.claimed, b.claimed]).toEqual([true, false]);
    expect(b.record?.status).toBe('approved');
  });

  it('refuses a claim at or after the deadline', async () => {
    const store = memoryApprovalsStore();
    await store.createApproval(record);
    expect((await store.claimDecision('a1', approve, 1_000)).claimed).toBe(false);
    expect((await store.claimDecision('missing', approve, 1)).record).toBeUndefined();
  });

  it('releases only the claim it made, back to pending', async () => {
    const store = memoryApprovalsStore();
    await store.createApproval(record);
    await store.claimDecision('a1', approve, 1);
    expect(await store.releaseClaim('a1', { ...approve, at: 'another time' })).toBe(false);
    expect(await store.releaseClaim('a1', approve)).toBe(true);
    expect(await store.getApproval('a1')).toEqual(record);
  });

  it('closes from the given statuses only', async () => {
    const store = memoryApprovalsStore();
    await store.createApproval(record);
    expect(await store.closeApproval('a1', ['approved'], 'expired', 't')).toBe(false);
    expect(await store.closeApproval('a1', ['pending'], 'superseded', 't')).toBe(true);
    expect((await store.getApproval('a1'))?.status).toBe('superseded');
  });

  it('hands out copies, so callers cannot change what is stored', async () => {
    const store = memoryApprovalsStore();
    await store.createApproval(record);
    const copy = (await store.getApproval('a1')) as { status: string };
    copy.status = 'approved';
    expect((await store.getApproval('a1'))?.status).toBe('pending');
  });

  it('keeps pointers, threads and deployed tags', async () => {
    const store = memoryApprovalsStore();
    expect(await store.pointToApproval('run', 'production', 'a1', 1)).toBeUndefined();
    expect(await store.pointToApproval('run', 'production', 'a2', 1)).toBe('a1');
    expect(await store.approvalIdFor('run', 'production')).toBe('a2');
    const state = newThreadState('run', release(), new Date());
    const thread = { execution: 'run', channel: 'C0DEPLOYS1', ts: '1.000001', state };
    expect(await store.createThread(thread, 1)).toEqual(thread);
    expect(await store.createThread({ ...thread, ts: '2.000002' }, 1)).toEqual(thread);
    await store.saveThreadState('run', { ...state, outcome: 'deployed' });
    expect((await store.getThread('run'))?.state.outcome).toBe('deployed');
    await store.recordDeployedTag('backend', 'production', {
      tag: 'v1',
      digest: 'd',
      execution: 'run',
      at: 't',
    });
    expect((await store.deployedTag('backend', 'production'))?.tag).toBe('v1');
    await store.recordDeployedTag('backend', 'production', {
      tag: 'v2',
      digest: 'd2',
      execution: 'run2',
      at: 't2',
    });
    await store.recordPinnedTag('backend', 'production', { tag: 'v3-bad', execution: 'run3', at: 't3' });
    expect(await store.stageTags('backend', 'production')).toEqual({
      healthy: [
        { tag: 'v1', digest: 'd', execution: 'run', at: 't' },
        { tag: 'v2', digest: 'd2', execution: 'run2', at: 't2' },
      ],
      pinned: { tag: 'v3-bad', execution: 'run3', at: 't3' },
    });
    expect(await store.stageTags('backend', 'staging')).toBeUndefined();
  });
});
