import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsTaskTokens } from '../../../../shared/adapters/aws/task-tokens.js';
import { approvalDecisionSchema } from '../../../../shared/contracts/tasks.js';
import type { ApprovalRecord } from '../../../../shared/ports/approvals-store.js';
import { decideApproval } from '../../../../shared/steps/approval/decide.js';
import { manualClock, recordingReporter } from '../../../fixtures/slack/context.js';
import { useLocalApprovalsTable } from '../../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();
const sfn = mockClient(SFNClient);
const clock = manualClock('2026-11-26T14:02:00Z');
const NOW = Math.floor(clock.now().getTime() / 1000);

const pending = {
  approvalId: 'a1',
  execution: 'backend-v1.4.2-4f2c9d1e8a7b',
  stage: 'production',
  taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAAW1jWm9PRmRwc0dX',
  status: 'pending',
  approvers: ['U0PLATFORM1'],
  facts: {},
  createdAt: '2026-11-26T14:00:00Z',
  deadline: NOW + 3_600,
  expiresAt: NOW + 99_999,
} as unknown as ApprovalRecord;

async function setUp(record: ApprovalRecord = pending) {
  const store = approvalsTable.store();
  await store.createApproval(record);
  const reporter = recordingReporter();
  const deps = { store, taskTokens: stepFunctionsTaskTokens(new SFNClient({})), now: clock.now, reporter };
  return { store, reporter, deps };
}

const approveBy = (by: string, extra = {}) => ({
  approvalId: 'a1',
  decision: 'approved' as const,
  by,
  via: 'slack' as const,
  ...extra,
});

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe('decideApproval', () => {
  it('approves: records who and when, and sends the decision through the task token', async () => {
    const { store, deps } = await setUp();
    const outcome = await decideApproval(approveBy('U0PLATFORM1', { byName: 'alice' }), deps);
    expect(outcome.kind).toBe('decided');
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(sent?.taskToken).toBe(pending.taskToken);
    const output = approvalDecisionSchema.parse(JSON.parse(sent?.output ?? ''));
    expect(output).toEqual({
      decision: 'approved',
      approvalId: 'a1',
      by: 'U0PLATFORM1',
      byName: 'alice',
      at: '2026-11-26T14:02:00.000Z',
      via: 'slack',
    });
    expect(await store.getApproval('a1')).toMatchObject({
      status: 'approved',
      decision: { by: 'U0PLATFORM1' },
    });
  });

  it('rejects with Shiplane.Rejected and a readable cause', async () => {
    const { deps } = await setUp();
    await decideApproval(
      {
        approvalId: 'a1',
        decision: 'rejected',
        by: 'arn:aws:iam::123456789012:user/alice',
        reason: 'freeze',
        via: 'cli',
      },
      deps,
    );
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: pending.taskToken,
      error: 'Shiplane.Rejected',
      cause: 'Rejected by arn:aws:iam::123456789012:user/alice via cli: freeze',
    });
  });

  it('decides once when two clicks race: exactly one SendTaskSuccess', async () => {
    const { deps } = await setUp();
    const outcomes = await Promise.all([
      decideApproval(approveBy('U0PLATFORM1'), deps),
      decideApproval(approveBy('U0BOB00001'), deps),
      decideApproval({ ...approveBy('U0CAROL001'), decision: 'rejected' }, deps),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['already-decided', 'already-decided', 'decided']);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('answers a second click with the first decision and sends nothing', async () => {
    const { deps } = await setUp();
    await decideApproval(approveBy('U0PLATFORM1'), deps);
    const second = await decideApproval({ ...approveBy('U0BOB00001'), decision: 'rejected' }, deps);
    expect(second).toMatchObject({
      kind: 'already-decided',
      record: { status: 'approved', decision: { by: 'U0PLATFORM1' } },
    });
    expect(sfn.calls()).toHaveLength(1);
  });

  it('marks the approval expired when Step Functions says the task timed out', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const { store, deps, reporter } = await setUp();
    const outcome = await decideApproval(approveBy('U0PLATFORM1'), deps);
    expect(outcome.kind).toBe('expired');
    expect(await store.getApproval('a1')).toMatchObject({
      status: 'expired',
      closedAt: '2026-11-26T14:02:00.000Z',
    });
    expect(reporter.lines.at(-1)).toMatchObject({
      message: 'a decision arrived after the run stopped waiting',
    });
  });

  it('refuses after the deadline without calling Step Functions', async () => {
    const { deps } = await setUp({ ...pending, deadline: NOW - 1 });
    expect((await decideApproval(approveBy('U0PLATFORM1'), deps)).kind).toBe('expired');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('puts the approval back to pending when Step Functions cannot be reached, so a retry can decide', async () => {
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const { store, deps, reporter } = await setUp();
    const first = await decideApproval(approveBy('U0PLATFORM1'), deps);
    expect(first.kind).toBe('unavailable');
    expect((await store.getApproval('a1'))?.status).toBe('pending');
    expect(reporter.counts).toEqual(['ApprovalDeliveryFailed']);
    sfn.on(SendTaskSuccessCommand).resolves({});
    expect((await decideApproval(approveBy('U0PLATFORM1'), deps)).kind).toBe('decided');
  });

  it('says superseded and not found', async () => {
    const { deps } = await setUp({ ...pending, status: 'superseded' });
    expect((await decideApproval(approveBy('U0PLATFORM1'), deps)).kind).toBe('superseded');
    expect((await decideApproval({ ...approveBy('U0PLATFORM1'), approvalId: 'nope' }, deps)).kind).toBe(
      'not-found',
    );
    expect(sfn.calls()).toHaveLength(0);
  });
});
