/**
 * One measurement in a fresh process, printed as one JSON line (bench/local-dynamo/index.ts runs it).
 * `dynamo`: what the local DynamoDB adds to a start — importing dynalite, listening, creating the
 * table — once the AWS SDK's DynamoDB client is loaded (the handlers load it anyway), then the round
 * trip of the approval writes a run makes. `sandbox`: the whole sandbox start, as `npm start` does it
 * but without the scenario's push.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const since = (start: number) => Math.round((performance.now() - start) * 10) / 10;

async function dynamo() {
  await import('@aws-sdk/client-dynamodb');
  await import('../../shared/adapters/aws/approvals-table.js');
  const started = performance.now();
  const { startLocalDynamo } = await import('../../local/dynamodb/local-dynamo.js');
  const imported = since(started);
  const local = await startLocalDynamo();
  const ready = since(started);
  const { dynamoApprovalsStore } = await import('../../shared/adapters/aws/approvals-table.js');
  const store = dynamoApprovalsStore(local.client, local.tableName);
  const writes: number[] = [];
  const claims: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const record = {
      approvalId: `a${i}`,
      execution: `backend-v1.${i}.0-4f2c9d1e8a7b`,
      stage: 'production',
      taskToken: 'x'.repeat(1_000),
      status: 'pending' as const,
      approvers: ['U0PLATFORM1'],
      facts: {} as never,
      createdAt: new Date().toISOString(),
      deadline: Math.floor(Date.now() / 1000) + 3_600,
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
    };
    let start = performance.now();
    await store.createApproval(record);
    writes.push(since(start));
    start = performance.now();
    await store.claimDecision(
      record.approvalId,
      { status: 'approved', by: 'U0PLATFORM1', at: new Date().toISOString(), via: 'slack' },
      Math.floor(Date.now() / 1000),
    );
    claims.push(since(start));
  }
  const closing = performance.now();
  await local.close();
  return {
    importMs: imported,
    readyMs: ready,
    closeMs: since(closing),
    createApprovalMs: writes,
    claimDecisionMs: claims,
  };
}

async function sandbox() {
  const workdir = await mkdtemp(join(tmpdir(), 'shiplane-bench-sandbox-'));
  const importing = performance.now();
  const { startSandbox } = await import('../../local/sandbox/sandbox.js');
  const importMs = since(importing);
  const started = performance.now();
  const running = await startSandbox({ workdir, port: 0, scenario: false });
  const readyMs = since(started);
  await running.stop();
  await rm(workdir, { recursive: true, force: true });
  return { importMs, readyMs };
}

const mode = process.argv[2];
const result = mode === 'dynamo' ? await dynamo() : mode === 'sandbox' ? await sandbox() : undefined;
if (!result) throw new Error(`probe: unknown mode ${mode ?? '(none)'}; dynamo or sandbox`);
console.log(JSON.stringify(result));
