/**
 * What the local DynamoDB (dynalite, local/dynamodb) costs the sandbox and `shiplane run`: its start
 * (import, listen, CreateTable) next to the whole sandbox start, and the round trip of an approval's
 * writes through the deployed adapter. Each figure comes from fresh processes (median of several).
 * Goal: the local DynamoDB adds ≤ 10% to the sandbox start.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, type BenchReport, median, PROJECT_ROOT, writeResults } from '../report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL_SHARE = 0.1;
const PROBE = join(BENCH_DIR, 'local-dynamo', 'probe.ts');

interface DynamoProbe {
  importMs: number;
  readyMs: number;
  closeMs: number;
  createApprovalMs: number[];
  claimDecisionMs: number[];
}
interface SandboxProbe {
  importMs: number;
  readyMs: number;
}

function probe<T>(mode: 'dynamo' | 'sandbox'): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', PROBE, mode],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`probe ${mode} failed: ${stderr || error.message}`));
        const last = stdout.trim().split('\n').at(-1) ?? '';
        resolve(JSON.parse(last) as T);
      },
    );
  });
}

const ms = (value: number) => Math.round(value);

export async function run(): Promise<BenchReport> {
  const dynamo: DynamoProbe[] = [];
  const sandbox: SandboxProbe[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    dynamo.push(await probe<DynamoProbe>('dynamo'));
    sandbox.push(await probe<SandboxProbe>('sandbox'));
  }
  const dynamoStart = median(dynamo.map((d) => d.readyMs));
  const sandboxStart = median(sandbox.map((s) => s.readyMs));
  const share = dynamoStart / sandboxStart;
  const writes = dynamo.flatMap((d) => d.createApprovalMs);
  const claims = dynamo.flatMap((d) => d.claimDecisionMs);
  const load = loadavg()[0] ?? 0;
  await writeResults('local-dynamo', {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    loadAverage: Math.round(load * 10) / 10,
    runs: RUNS,
    goalShare: GOAL_SHARE,
    medians: {
      localDynamoStartMs: dynamoStart,
      dynaliteImportMs: median(dynamo.map((d) => d.importMs)),
      sandboxStartMs: sandboxStart,
      createApprovalMs: median(writes),
      claimDecisionMs: median(claims),
      closeMs: median(dynamo.map((d) => d.closeMs)),
    },
    perRun: {
      dynamo: dynamo.map((d) => ({
        importMs: d.importMs,
        readyMs: d.readyMs,
        closeMs: d.closeMs,
        createApprovalMedianMs: median(d.createApprovalMs),
        claimDecisionMedianMs: median(d.claimDecisionMs),
      })),
      sandbox,
    },
  });
  return {
    title: `Local DynamoDB (dynalite) in the sandbox — median of ${RUNS} fresh processes`,
    rows: [
      { what: 'sandbox start (stand-ins, config, synth, runtime; no push)', ms: ms(sandboxStart) },
      {
        what: 'local DynamoDB start, measured alone (import dynalite, listen, CreateTable)',
        ms: ms(dynamoStart),
      },
      { what: '  of which: importing dynalite', ms: ms(median(dynamo.map((d) => d.importMs))) },
      { what: 'createApproval (conditional PutItem) round trip', ms: median(writes) },
      { what: 'claimDecision (conditional UpdateItem) round trip', ms: median(claims) },
      { what: 'close', ms: median(dynamo.map((d) => d.closeMs)) },
    ],
    notes: [
      `The local DynamoDB is ${Math.round(share * 1000) / 10}% of the sandbox start (goal ≤ ${GOAL_SHARE * 100}%).`,
      `Load average ${load.toFixed(1)} on ${cpus().length} cores; figures in bench/results/local-dynamo.json.`,
    ],
    failed: share > GOAL_SHARE,
  };
}
