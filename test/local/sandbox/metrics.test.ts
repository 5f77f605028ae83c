/**
 * `shiplane push --sandbox` and `shiplane metrics --sandbox` end to end: a sandbox that deploys
 * backend v2.1.6 through both stages, then a pushed v2.1.7-bad that turns Degraded in staging and is
 * rolled back; the report, read from the sandbox's run records, shows the production deployment,
 * the staging change failure and the time to restore once the rollback landed.
 */
import { describe, expect, it } from 'vitest';
import { showMetrics } from '../../../cli/commands/metrics.js';
import { pushToSandbox } from '../../../cli/commands/push.js';
import type { DeliveryReport } from '../../../shared/domain/delivery-metrics.js';
import { capture, outcomeOf, useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('metrics', {
  approve: 'auto',
  timeoutMs: 300_000,
  ready: async ({ sandbox }) => {
    expect(await outcomeOf(sandbox, sandbox.scenarioExecution ?? '')).toBe('deployed');
  },
});

describe('shiplane metrics --sandbox', () => {
  it('reports 1 production deployment, the staging change failure and its time to restore', async () => {
    const pushed = capture();
    expect(
      await pushToSandbox('backend', 'v2.1.7-bad', { sandbox: fixture.sandbox.url, json: true }, pushed),
    ).toBe(0);
    const { execution } = JSON.parse(pushed.lines.join('')) as { execution: string };
    expect(await outcomeOf(fixture.sandbox, execution)).toBe('Shiplane.RolledBack');

    const io = capture();
    expect(
      await showMetrics({ since: '1d', app: 'backend', json: true, sandbox: fixture.sandbox.url }, io),
    ).toBe(0);
    const report = JSON.parse(io.lines.join('')) as DeliveryReport;
    const production = report.figures.find((f) => f.stage === 'production')!;
    const staging = report.figures.find((f) => f.stage === 'staging')!;

    expect(production.deploymentFrequency).toMatchObject({ value: 1, runs: 1 });
    expect(production.changeFailureRate).toMatchObject({ value: 0, runs: 1, status: 'met' });
    expect(production.leadTime).toMatchObject({ status: 'met', from: { build: 1, push: 0 } });
    expect(staging.changeFailureRate).toMatchObject({ value: 0.5, runs: 2, status: 'missed' });
    expect(staging.timeToRestore).toMatchObject({ runs: 1, open: 0, status: 'met' });
    expect(staging.timeToRestore.value).toBeGreaterThan(0);
    expect(staging.rollbackSuccessRate).toMatchObject({ value: 1, runs: 1 });

    // The same report, as people read it.
    const human = capture();
    expect(
      await showMetrics(
        { since: '1d', app: 'backend', stage: 'staging', sandbox: fixture.sandbox.url },
        human,
      ),
    ).toBe(0);
    expect(human.lines.join('\n')).toMatch(
      /change failure rate\s+50%\s+target < 5%\s+MISSED\s+1 of 2 changes failed/,
    );
  }, 300_000);

  it('an unknown stage: exit 2 with what the config has', async () => {
    const io = capture();
    expect(await showMetrics({ since: '1d', stage: 'qa', sandbox: fixture.sandbox.url }, io)).toBe(2);
    expect(io.errors.join('')).toContain('unknown stage qa; the config has staging, production');
  });

  it('a window longer than the run records are kept: 400 from GET /api/metrics, saying so', async () => {
    for (const since of ['401d', '99999999999d']) {
      const answer = await fetch(`${fixture.sandbox.url}/api/metrics?since=${since}`);
      expect(answer.status, since).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toContain(
        'longer than the 400d the run records are kept',
      );
    }
  });

  it('push of an app the sandbox does not have: exit 1, nothing started', async () => {
    const io = capture();
    expect(await pushToSandbox('billing', 'v1.0.0', { sandbox: fixture.sandbox.url }, io)).toBe(1);
    expect(io.errors.join('')).toContain('no app billing');
  });
});
