import { DescribeImageScanFindingsCommand, ECRClient, ScanNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ecrScanFindings } from '../../../../shared/adapters/aws/ecr-scan-findings.js';
import type { Config } from '../../../../shared/config/schema.js';
import { type ScanGateInput, scanGateResultSchema } from '../../../../shared/contracts/tasks.js';
import { checkScanGate, type ScanGateDeps } from '../../../../shared/steps/scan-gate/check-scan.js';
import { basicComplete, enhancedActive } from '../../../fixtures/ecr/scan-findings.js';
import { recordingReporter, release } from '../../../fixtures/slack/context.js';
import { configWith } from '../../../infra/support.js';

const ecr = mockClient(ECRClient);
const NOW = new Date('2026-11-26T13:45:00Z');

const gated = (scan: {
  maxSeverity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';
  timeout?: string;
  ignore?: string[];
}) =>
  configWith((input) => ({
    ...input,
    apps: { ...input.apps, backend: { ...input.apps.backend!, scan } },
  }));

function deps(config: Config, reporter = recordingReporter()): ScanGateDeps {
  return { config, findings: ecrScanFindings(new ECRClient({})), reporter, now: () => NOW };
}
const input = (attempt = 1, maxAttempts = 60): ScanGateInput => ({
  execution: 'backend-v1.4.2-4f2c9d1e8a7b',
  release: release(),
  attempt,
  maxAttempts,
});

beforeEach(() => {
  ecr.reset();
});

describe('checkScanGate', () => {
  it('blocks a CRITICAL enhanced finding at maxSeverity HIGH, listing it', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());
    const reporter = recordingReporter();

    const result = await checkScanGate(input(), deps(gated({ maxSeverity: 'HIGH' }), reporter));

    expect(scanGateResultSchema.parse(result)).toEqual({
      verdict: 'blocked',
      reason: '1 critical finding at or above high',
      findings: [
        {
          id: 'CVE-2024-3094',
          severity: 'CRITICAL',
          package: 'xz-utils',
          installedVersion: '5.6.0',
          fixedIn: '5.6.1+really5.4.5-1',
          url: 'https://security-tracker.debian.org/tracker/CVE-2024-3094',
        },
      ],
      total: 1,
      ignored: 0,
      checkedAt: NOW.toISOString(),
      attempt: 1,
    });
    expect(reporter.counts).toContain('ScanGate_blocked');
  });

  it('passes the same image when its CVE is ignored', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());
    const result = await checkScanGate(
      input(),
      deps(gated({ maxSeverity: 'HIGH', ignore: ['CVE-2024-3094'] })),
    );
    expect(result).toMatchObject({ verdict: 'pass', ignored: 1, findings: [], total: 0 });
  });

  it('passes a basic scan whose worst finding is below the gate', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(basicComplete());
    const result = await checkScanGate(input(), deps(gated({ maxSeverity: 'CRITICAL' })));
    expect(result).toMatchObject({ verdict: 'pass', reason: 'no critical or worse findings (2 in all)' });
  });

  it('is pending while there is no scan, and blocks on the last poll with the timeout as the reason', async () => {
    ecr.on(DescribeImageScanFindingsCommand).rejects(
      new ScanNotFoundException({
        $metadata: { httpStatusCode: 400 },
        message: 'Image scan does not exist',
      }),
    );
    const config = gated({ maxSeverity: 'HIGH', timeout: '10m' });

    expect(await checkScanGate(input(19, 20), deps(config))).toMatchObject({
      verdict: 'pending',
      reason: 'no scan of the image yet',
      attempt: 19,
    });
    expect(await checkScanGate(input(20, 20), deps(config))).toMatchObject({
      verdict: 'blocked',
      reason: 'no finished scan within 10m (no scan of the image yet)',
      findings: [],
      total: 0,
    });
  });

  it('passes an app without a gate without asking ECR', async () => {
    const other = {
      ...input(),
      release: { ...release(), app: 'frontend', ecrRepository: 'itdo-erp/frontend' },
    };
    expect(await checkScanGate(other, deps(gated({ maxSeverity: 'HIGH' })))).toMatchObject({
      verdict: 'pass',
      reason: 'app frontend has no scan gate',
    });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });

  it('fails closed on a release whose repository is not the app’s, without asking ECR', async () => {
    const forged = { ...input(), release: { ...release(), ecrRepository: 'someone/else' } };
    expect(await checkScanGate(forged, deps(gated({ maxSeverity: 'HIGH' })))).toMatchObject({
      verdict: 'blocked',
      reason: "the release's repository someone/else is not app backend's (itdo-erp/backend)",
    });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });
});
