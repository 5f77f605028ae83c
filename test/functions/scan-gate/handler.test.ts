import { DescribeImageScanFindingsCommand, ECRClient } from '@aws-sdk/client-ecr';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createScanGateHandler } from '../../../functions/scan-gate/handler.js';
import { CONFIG_ENV, serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { scanGateResultSchema } from '../../../shared/contracts/tasks.js';
import { InvalidInputError } from '../../../shared/errors.js';
import { deployedScanGate, scanGateDeps } from '../../../shared/wiring/scan-gate.js';
import { enhancedActive } from '../../fixtures/ecr/scan-findings.js';
import { recordingReporter, release } from '../../fixtures/slack/context.js';
import { configWith } from '../../infra/support.js';

const ecr = mockClient(ECRClient);
const context = {
  functionName: 'shiplane-scan-gate',
  awsRequestId: '0b7e4f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const config = configWith((input) => ({
  ...input,
  apps: { ...input.apps, backend: { ...input.apps.backend!, scan: { maxSeverity: 'HIGH' } } },
}));
const event = { execution: 'backend-v1.4.2-4f2c9d1e8a7b', release: release(), attempt: 1, maxAttempts: 60 };

beforeEach(() => {
  ecr.reset();
});

describe('scan-gate handler', () => {
  it('answers the verdict the state machine reads, through the wiring a platform passes its ECRClient to', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());
    const handler = createScanGateHandler(
      scanGateDeps({ config, ecr: new ECRClient({}), reporter: recordingReporter(), now: () => new Date(0) }),
    );
    const result = scanGateResultSchema.parse(await handler(event, context));
    expect(result).toMatchObject({ verdict: 'blocked', total: 1, findings: [{ id: 'CVE-2024-3094' }] });
  });

  it('reads its config from SHIPLANE_CONFIG when deployed', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());
    const env = { [CONFIG_ENV]: serializeConfigInput(toConfigInput(config)) };
    const handler = createScanGateHandler(deployedScanGate(env));
    expect(await handler(event, context)).toMatchObject({ verdict: 'blocked' });
  });

  it('refuses a malformed input, naming the field, without asking ECR', async () => {
    const handler = createScanGateHandler(
      scanGateDeps({ config, ecr: new ECRClient({}), reporter: recordingReporter() }),
    );
    await expect(handler({ ...event, attempt: 0 }, context)).rejects.toThrow(InvalidInputError);
    await expect(handler({ ...event, release: { ...release(), digest: 'latest' } }, context)).rejects.toThrow(
      /release\.digest/,
    );
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  });
});
