/**
 * Tag patterns are matched by the intake alone, with RE2. The intake's wiring checks them with RE2
 * when it reads SHIPLANE_CONFIG (as synth and the CLI do), so it never starts with a pattern RE2
 * refuses; the other handlers, which never read them, leave the check out and carry no RE2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../shared/config/load.js';
import { serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { ENV } from '../../../shared/contracts/environment.js';
import { ConfigError } from '../../../shared/errors.js';
import { deployedIntake } from '../../../shared/wiring/intake.js';
import { deployedNotify } from '../../../shared/wiring/notify.js';

const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));

/** The shipped config with the backend's tag pattern replaced, as SHIPLANE_CONFIG would carry it. */
function envWithTags(tags: string): NodeJS.ProcessEnv {
  const input = toConfigInput(config);
  input.apps = { ...input.apps, backend: { ...input.apps.backend!, tags } };
  return {
    [ENV.config]: serializeConfigInput(input),
    [ENV.stateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion',
    [ENV.approvalsTable]: 'shiplane-approvals',
  };
}

describe('the deployed intake', () => {
  it('refuses to start with a tag pattern RE2 cannot run, naming the key', () => {
    // A lookahead: JavaScript's RegExp runs it, RE2 (linear time) does not.
    const build = deployedIntake(envWithTags('^v(?!0)\\d+$'));

    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/apps\.backend\.tags: not a pattern Shiplane can match in linear time/);
  });

  it('starts with patterns RE2 compiles', () => {
    const deps = deployedIntake(envWithTags('^v\\d+\\.\\d+\\.\\d+$'))();

    expect(deps.config.apps.backend?.tags).toBe('^v\\d+\\.\\d+\\.\\d+$');
  });
});

describe('a handler that never reads tag patterns', () => {
  it('builds without checking them: the intake and synth do', async () => {
    const deps = await deployedNotify(envWithTags('^v(?!0)\\d+$'))();

    expect(deps.channel).toBe(config.slack.channel);
  });
});
