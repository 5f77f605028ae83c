import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  HandlerFunction,
  handlerEsbuildOptions,
  LAZY_CREDENTIAL_PROVIDERS,
  secretArnPattern,
} from '../../../infra/constructs/handler-function.js';
import type { Config } from '../../../shared/config/schema.js';
import type { HandlerName } from '../../../shared/contracts/handlers.js';
import { configWith, exampleConfig, type Json } from '../support.js';

function stackWith(config: Config, options: { bundling?: boolean; name?: HandlerName } = {}) {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'shiplane-fn-')),
    context: options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new Stack(app, 'Test');
  return { app, stack, fn: new HandlerFunction(stack, { name: options.name ?? 'intake', config }) };
}

/** Synthesizes a function with bundling on, once per handler: its index.mjs and the asset's files. */
const bundled = new Map<HandlerName, { code: string; files: string[] }>();
function deployedBundle(name: HandlerName = 'intake'): { code: string; files: string[] } {
  const cached = bundled.get(name);
  if (cached) return cached;
  const { app, stack } = stackWith(exampleConfig, { bundling: true, name });
  const assembly = app.synth();
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as Json;
  expect(fn.Properties.Handler).toBe('index.handler');
  const assets = readdirSync(assembly.directory).filter((entry) => entry.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  const assetDir = join(assembly.directory, assets[0]!);
  const result = {
    code: readFileSync(join(assetDir, 'index.mjs'), 'utf8'),
    files: readdirSync(assetDir).sort(),
  };
  bundled.set(name, result);
  return result;
}

describe('HandlerFunction', () => {
  it('tags the function with its handler name for the local engine', () => {
    const { stack } = stackWith(exampleConfig);
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.values(functions).map((f) => (f as Json).Metadata['shiplane:handler'])).toEqual(['intake']);
  });

  it('refuses a handler without functions/<name>/handler.ts', () => {
    const stack = new Stack(new App(), 'Test');
    expect(
      () => new HandlerFunction(stack, { name: 'no-such-handler' as HandlerName, config: exampleConfig }),
    ).toThrow(/functions\/no-such-handler\/handler\.ts does not exist/);
  });

  it('fails synthesis with a clear message when the config makes the environment exceed 4 KB', () => {
    const apps = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `app-${i}`,
        {
          ecrRepository: `itdo-erp/service-${i}`,
          tags: '^v\\d+\\.\\d+\\.\\d+$',
          image: `itdo-erp/service-${i}`,
        },
      ]),
    );
    const { app } = stackWith(configWith((input) => ({ ...input, apps })));
    expect(() => app.synth()).toThrow(
      /intake function's environment is about \d+ bytes; Lambda allows 4096.*SHIPLANE_CONFIG/s,
    );
  });

  it('bundles the handler as an ESM module with a require shim and a source map, carrying the AWS SDK', () => {
    const { code, files } = deployedBundle();
    // The third-party license notices ship beside the code, in the same asset.
    expect(files).toEqual(['index.mjs', 'index.mjs.LEGAL.txt', 'index.mjs.map']);
    expect(code).not.toContain('Bundled license information');
    expect(code.startsWith("import { createRequire as __shiplaneCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(code).toMatch(/export\s*\{[^}]*as handler/);
    // The SDK is in the bundle: nothing is imported from @aws-sdk at load time.
    expect(code).not.toMatch(/from\s*["']@(aws-sdk|smithy)\//);
    // Only the credential providers Lambda never reaches stay outside, behind `await import()`.
    for (const provider of LAZY_CREDENTIAL_PROVIDERS) {
      expect(code).toContain(`import("${provider}")`);
      expect(code).not.toMatch(new RegExp(`from\\s*["']${provider}["']`));
    }
  });

  // The committer also takes the esbuild arguments the intake does not exercise: yaml's alias and the
  // SDK's event-stream support left to `await import()`.
  it.each(['intake', 'committer'] as const)(
    'bundles %s exactly as handlerEsbuildOptions builds it, so bench/cold-start measures the deployed code',
    async (name) => {
      const { code } = deployedBundle(name);
      const outfile = join(mkdtempSync(join(tmpdir(), 'shiplane-esbuild-')), 'index.mjs');
      await build({ ...handlerEsbuildOptions(name, outfile), logLevel: 'silent' });
      expect(readFileSync(outfile, 'utf8')).toBe(code);
      expect(code).toContain('import("@smithy/core/event-streams")');
    },
  );
});

describe('secretArnPattern', () => {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });

  it('turns a secret name into the ARN pattern with the six-character suffix', () => {
    expect(stack.resolve(secretArnPattern(stack, 'shiplane/github-token'))).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:eu-west-1:123456789012:secret:shiplane/github-token-??????',
        ],
      ],
    });
  });

  it('uses an ARN as given', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shiplane/github-token-AbCdEf';
    expect(secretArnPattern(stack, arn)).toBe(arn);
  });
});
