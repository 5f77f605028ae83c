/**
 * `shiplane metrics` against a deployed stack, with the AWS SDK mocked: the run records table found
 * by name, one Query of its end-time index per app, the figures printed beside their targets.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { showMetrics } from '../../cli/commands/metrics.js';
import { pushToSandbox } from '../../cli/commands/push.js';
import type { Io } from '../../cli/io.js';
import type { DeliveryReport } from '../../shared/domain/delivery-metrics.js';

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

const docMock = mockClient(DynamoDBDocumentClient);
const ddbMock = mockClient(DynamoDBClient);
const NOW = new Date('2026-12-02T12:00:00Z');
const deps = { dynamo: new DynamoDBClient({ region: 'ap-northeast-1' }), now: () => NOW, env: {} };
const options = { since: '7d', config: 'shiplane.config.yaml' };
const DIGEST = `sha256:${'c'.repeat(64)}`;
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

/** A backend release deployed to both stages a day ago, and a bad one rolled back in staging. */
const RECORDS = [
  {
    app: 'backend',
    execution: 'backend-v2.1.6-cccccccccccc',
    tag: 'v2.1.6',
    digest: DIGEST,
    pushedAt: hoursAgo(25),
    kind: 'promotion',
    startedAt: hoursAgo(24.9),
    endedAt: hoursAgo(24),
    outcome: 'deployed',
    milestones: [
      { event: 'committed', stage: 'staging', at: hoursAgo(24.8), changed: true },
      { event: 'healthy', stage: 'staging', at: hoursAgo(24.7) },
      { event: 'approval-requested', stage: 'production', at: hoursAgo(24.7) },
      { event: 'approved', stage: 'production', at: hoursAgo(24.5) },
      { event: 'committed', stage: 'production', at: hoursAgo(24.4), changed: true },
      { event: 'healthy', stage: 'production', at: hoursAgo(24) },
      { event: 'deployed', at: hoursAgo(24) },
    ],
    expiresAt: 1,
  },
  {
    app: 'backend',
    execution: 'backend-v2.1.7-bad-dddddddddddd',
    tag: 'v2.1.7-bad',
    digest: DIGEST,
    pushedAt: hoursAgo(3),
    kind: 'promotion',
    startedAt: hoursAgo(2.9),
    endedAt: hoursAgo(2.5),
    outcome: 'rolled-back',
    milestones: [
      { event: 'committed', stage: 'staging', at: hoursAgo(2.8), changed: true },
      { event: 'rolling-back', stage: 'staging', at: hoursAgo(2.75) },
      { event: 'rolled-back', stage: 'staging', at: hoursAgo(2.5) },
    ],
    expiresAt: 1,
  },
];

beforeEach(() => {
  docMock.reset();
  ddbMock.reset();
  ddbMock
    .on(ListTablesCommand)
    .resolves({ TableNames: ['Shiplane-approvalstable1', 'Shiplane-runrecordstableAB12'] });
  docMock
    .on(QueryCommand, { ExpressionAttributeValues: { ':app': 'backend' } }, false)
    .resolves({ Items: RECORDS });
  docMock
    .on(QueryCommand, { ExpressionAttributeValues: { ':app': 'frontend' } }, false)
    .resolves({ Items: [] });
});

describe('shiplane metrics (deployed stack)', () => {
  it('--json: the report per app and stage, read with one Query per app of the table found by name', async () => {
    const io = capture();
    expect(await showMetrics({ ...options, json: true }, io, deps)).toBe(0);
    const report = JSON.parse(io.lines.join('')) as DeliveryReport;
    expect(report).toMatchObject({ until: NOW.toISOString(), days: 7 });
    const of = (app: string, stage: string) =>
      report.figures.find((f) => f.app === app && f.stage === stage)!;
    expect(of('backend', 'production').deploymentFrequency.runs).toBe(1);
    expect(of('backend', 'production').leadTime).toMatchObject({ value: 3600, status: 'met' });
    expect(of('backend', 'production').changeFailureRate).toMatchObject({ value: 0, runs: 1 });
    expect(of('backend', 'staging').changeFailureRate).toMatchObject({
      value: 0.5,
      status: 'missed',
      runs: 2,
    });
    expect(of('backend', 'staging').timeToRestore).toMatchObject({ value: 15 * 60, status: 'met' });
    expect(of('frontend', 'staging').deploymentFrequency).toMatchObject({ value: 0, runs: 0 });
    // Day by day for the console's chart: 7 days ending now; staging's deployment (24.7 hours ago)
    // falls on the day before the last, the bad change on the last.
    const daily = of('backend', 'staging').daily;
    expect(daily).toHaveLength(7);
    expect(daily.at(-1)).toEqual({
      start: hoursAgo(24),
      end: NOW.toISOString(),
      deployments: 0,
      changes: 1,
      failures: 1,
    });
    expect(daily.at(-2)).toMatchObject({ deployments: 1, changes: 1, failures: 0 });

    const queries = docMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries.map((q) => q.ExpressionAttributeValues?.[':app']).sort()).toEqual(['backend', 'frontend']);
    expect(queries[0]).toMatchObject({
      TableName: 'Shiplane-runrecordstableAB12',
      IndexName: 'by-end',
      // One window's length back too: incidents that began before the window.
      ExpressionAttributeValues: { ':since': '2026-11-18T12:00:00.000Z', ':until': NOW.toISOString() },
    });
  });

  it('prints each figure beside its target with met or MISSED and what it counted', async () => {
    const io = capture();
    expect(await showMetrics({ ...options, app: 'backend', table: 'runs' }, io, deps)).toBe(0);
    const text = io.lines.join('\n');
    expect(text).toContain('backend · production (production)');
    expect(text).toMatch(
      /lead time\s+1h\s+target < 2h\s+met\s+median of 1: 0 from the image build, 1 from the push/,
    );
    expect(text).toMatch(/change failure rate\s+50%\s+target < 5%\s+MISSED\s+1 of 2 changes failed/);
    expect(text).toMatch(/approval wait\s+12m\s+no target\s+median of 1 decided/);
    expect(ddbMock.commandCalls(ListTablesCommand)).toHaveLength(0);
    expect(docMock.commandCalls(QueryCommand)[0]?.args[0].input.TableName).toBe('runs');
  });

  it('an unknown app or stage, or a window that is no duration: exit 2 before any AWS call', async () => {
    for (const bad of [{ app: 'billing' }, { stage: 'qa' }, { since: 'a month' }, { since: '0d' }]) {
      const io = capture();
      expect(await showMetrics({ ...options, ...bad }, io, deps), JSON.stringify(bad)).toBe(2);
      expect(io.errors.join('')).toMatch(/unknown app billing|unknown stage qa|is not a duration/);
      expect(io.lines).toEqual([]);
    }
    expect(docMock.calls()).toHaveLength(0);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('a window longer than the records are kept (or than a date can go back): exit 2 before any AWS call', async () => {
    for (const since of ['401d', '99999999999d']) {
      const io = capture();
      expect(await showMetrics({ ...options, since }, io, deps), since).toBe(2);
      expect(io.errors.join('')).toMatch(/longer than the 400d the run records are kept/);
      expect(io.lines).toEqual([]);
    }
    expect(docMock.calls()).toHaveLength(0);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('no table to be found: says how to name it, exit 1', async () => {
    ddbMock.on(ListTablesCommand).resolves({ TableNames: ['other'] });
    const io = capture();
    expect(await showMetrics(options, io, deps)).toBe(1);
    expect(io.errors.join('')).toContain('pass --table NAME or set SHIPLANE_RUN_RECORDS_TABLE');
  });
});

describe('shiplane push', () => {
  it('refuses without --sandbox: in AWS an image is pushed to ECR', async () => {
    const io = capture();
    expect(await pushToSandbox('backend', 'v2.1.7', {}, io)).toBe(1);
    expect(io.errors.join('')).toContain('pass --sandbox');
  });
});
