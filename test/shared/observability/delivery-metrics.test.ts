import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { powertoolsDeliveryMetrics } from '../../../shared/observability/delivery-metrics.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

interface Emf {
  readonly _aws: { readonly CloudWatchMetrics: ReadonlyArray<Record<string, unknown>> };
  readonly [key: string]: unknown;
}

describe('powertoolsDeliveryMetrics', () => {
  it('publishes each point as EMF in the Shiplane namespace with the dimensions app and stage', () => {
    // Tests switch metrics off (test/setup.ts); here they are the subject. In dev mode Powertools
    // writes EMF through the global console.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const metrics = new Metrics({ namespace: 'Shiplane', serviceName: 'shiplane' });
    powertoolsDeliveryMetrics(metrics)([
      { name: 'Deployments', unit: 'Count', value: 1, app: 'backend', stage: 'production' },
      { name: 'LeadTime', unit: 'Seconds', value: 4200, app: 'backend', stage: 'production' },
      { name: 'ChangeFailures', unit: 'Count', value: 1, app: 'frontend', stage: 'staging' },
    ]);
    const emf = lines.map((line) => JSON.parse(line) as Emf);
    expect(emf).toHaveLength(3);
    const [deployments, leadTime, failures] = emf;
    expect(deployments?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Shiplane',
      Dimensions: [expect.arrayContaining(['service', 'app', 'stage'])],
      Metrics: [{ Name: 'Deployments', Unit: 'Count' }],
    });
    expect(deployments).toMatchObject({ app: 'backend', stage: 'production', Deployments: 1 });
    expect(leadTime?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'LeadTime', Unit: 'Seconds' }]);
    expect(leadTime).toMatchObject({ LeadTime: 4200, app: 'backend', stage: 'production' });
    // Another app's point carries its own dimensions, never the previous point's.
    expect(failures).toMatchObject({ app: 'frontend', stage: 'staging', ChangeFailures: 1 });
  });
});
