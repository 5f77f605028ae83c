import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../../shared/config/load.js';
import {
  CONFIG_ENV,
  runtimeConfig,
  serializeConfigInput,
  toConfigInput,
} from '../../../shared/config/runtime.js';
import { parseConfigShape } from '../../../shared/config/shape.js';
import { shippedConfig } from './helpers.js';

const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));

describe('the config a deployed function sees', () => {
  it('survives the trip through SHIPLANE_CONFIG unchanged', () => {
    const env = { [CONFIG_ENV]: serializeConfigInput(toConfigInput(config)) };

    expect(runtimeConfig(parseConfig, env)).toEqual(config);
    expect(runtimeConfig(parseConfigShape, env)).toEqual(config);
  });

  it('survives the trip with a GitHub App, newName and durations that are not whole minutes', () => {
    const raw = shippedConfig();
    delete raw.gitops.github.token;
    raw.gitops.github.app = { appId: 1, installationId: 2, privateKey: 'env:GITHUB_APP_KEY' };
    raw.apps.backend.newName = 'registry.example.com/erp/backend';
    raw.stages[0].pollInterval = '45s';
    raw.stages[1].approval.timeout = '1h30m';
    const original = parseConfig(raw);

    expect(parseConfig(JSON.parse(serializeConfigInput(toConfigInput(original))))).toEqual(original);
  });

  it('holds secret references only', () => {
    const text = serializeConfigInput(toConfigInput(config));

    expect(text).toContain('"secret:shiplane/slack-bot-token"');
    expect(text).not.toMatch(/xox[bp]-/);
  });

  it('names the variable when it is missing or not JSON', () => {
    expect(() => runtimeConfig(parseConfig, {})).toThrow(`${CONFIG_ENV} is not set`);
    expect(() => runtimeConfig(parseConfig, { [CONFIG_ENV]: '{gitops' })).toThrow(
      `${CONFIG_ENV} is not JSON`,
    );
  });

  it('validates what it reads', () => {
    const broken = { ...toConfigInput(config), stages: [] };

    for (const parse of [parseConfig, parseConfigShape]) {
      expect(() => runtimeConfig(parse, { [CONFIG_ENV]: JSON.stringify(broken) })).toThrow(
        /stages: configure at least one stage/,
      );
    }
  });
});

describe('tag patterns in the config a deployed function sees', () => {
  // A lookahead: JavaScript's RegExp runs it, RE2 refuses it.
  const input = toConfigInput(config);
  input.apps = { ...input.apps, backend: { ...input.apps.backend!, tags: '^v(?!0)\\d+$' } };
  const env = { [CONFIG_ENV]: serializeConfigInput(input) };

  it('are checked with RE2 by the full check, which is what the intake, synth and the CLI use', () => {
    expect(() => runtimeConfig(parseConfig, env)).toThrow(
      /apps\.backend\.tags: not a pattern Shiplane can match in linear time/,
    );
  });

  it('are left to the intake by the check of the handlers that never read them', () => {
    expect(runtimeConfig(parseConfigShape, env).apps.backend?.tags).toBe('^v(?!0)\\d+$');
  });
});
