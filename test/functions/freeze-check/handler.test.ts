import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createFreezeCheckHandler } from '../../../functions/freeze-check/handler.js';
import { createNotifyHandler } from '../../../functions/notify/handler.js';
import { CONFIG_ENV, serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { freezeStatusSchema } from '../../../shared/contracts/freeze.js';
import { InvalidInputError } from '../../../shared/errors.js';
import { deployedFreezeCheck, freezeCheckDeps } from '../../../shared/wiring/freeze-check.js';
import { recordingReporter, release } from '../../fixtures/slack/context.js';
import { configWith } from '../../infra/support.js';

const context = {
  functionName: 'shiplane-freeze-check',
  awsRequestId: '0b7e4f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const config = configWith((input) => ({
  ...input,
  stages: input.stages.map((stage) =>
    stage.name === 'production'
      ? {
          ...stage,
          freeze: [{ cron: '0 18 * * 5', duration: '60h', timezone: 'Asia/Tokyo', reason: 'release freeze' }],
        }
      : stage,
  ),
}));
const event = {
  check: 'freeze',
  execution: 'backend-v1.4.2-4f2c9d1e8a7b',
  release: release(),
  stage: 'production',
};
const saturday = () => new Date('2026-11-28T03:00:00Z');

describe('freeze-check handler', () => {
  it('answers the status the state machine reads, through the wiring', async () => {
    const handler = createFreezeCheckHandler(
      freezeCheckDeps({ config, reporter: recordingReporter(), now: saturday }),
    );

    expect(freezeStatusSchema.parse(await handler(event, context))).toMatchObject({
      status: 'frozen',
      until: '2026-11-29T21:00:00.000Z',
    });
  });

  it('reads its windows from SHIPLANE_CONFIG when deployed', async () => {
    const env = { [CONFIG_ENV]: serializeConfigInput(toConfigInput(config)) };
    const handler = createFreezeCheckHandler(deployedFreezeCheck(env));

    expect(await handler({ ...event, stage: 'staging' }, context)).toMatchObject({ status: 'open' });
  });

  it('refuses a malformed check, naming the field', async () => {
    const handler = createFreezeCheckHandler(freezeCheckDeps({ config, reporter: recordingReporter() }));

    await expect(handler({ ...event, stage: '' }, context)).rejects.toThrow(InvalidInputError);
    await expect(handler({ ...event, release: { ...release(), digest: 'latest' } }, context)).rejects.toThrow(
      /release\.digest/,
    );
  });
});

describe('notify, asked a freeze check by a run started before the check had its own function', () => {
  it('fails the check (closed) and says how to go on, without posting', async () => {
    const handler = createNotifyHandler(() => {
      throw new Error('notify built its dependencies for a freeze check');
    });

    await expect(handler(event, context)).rejects.toThrow(/no longer answers freeze checks .*shiplane retry/);
  });
});
