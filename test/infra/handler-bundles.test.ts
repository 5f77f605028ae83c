/**
 * What each deployed handler bundle carries, built exactly as HandlerFunction builds it. The sizes
 * and load times are bench/cold-start's; this keeps the choices that made them: RE2 only where tags
 * are matched, `yaml` only where YAML is read or written (from its tree-shakable ESM build), zod's
 * small build, no X-Ray SDK, no event-stream codec, one copy of Powertools' commons.
 */
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { handlerEsbuildOptions } from '../../infra/constructs/handler-function.js';
import { HANDLER_NAMES, type HandlerName } from '../../shared/contracts/handlers.js';

/** The npm packages (and zod's builds) a handler's bundle carries. */
async function packagesIn(name: HandlerName): Promise<Set<string>> {
  const result = await build({
    ...handlerEsbuildOptions(name, `/tmp/shiplane-bundle-test/${name}/index.mjs`),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      if (input.bytesInOutput === 0) continue;
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
      if (pkg) packages.add(pkg);
      if (file.includes('node_modules/zod/v4/classic/')) packages.add('zod (classic)');
      if (file.includes('node_modules/yaml/dist/')) packages.add('yaml (CommonJS)');
      if (file.includes('@smithy/core/dist-es/submodules/event-streams/')) packages.add('event streams');
      if (/node_modules\/.*node_modules\/@aws-lambda-powertools\/commons\//.test(file)) {
        packages.add('commons (second copy)');
      }
    }
  }
  return packages;
}

const bundles = new Map<HandlerName, Set<string>>();

beforeAll(async () => {
  for (const name of HANDLER_NAMES) bundles.set(name, await packagesIn(name));
}, 120_000);

describe('the deployed handler bundles', () => {
  it('carry RE2 only in the intake and the sweep, the handlers that match tag patterns', () => {
    expect([...bundles].filter(([, packages]) => packages.has('re2js')).map(([name]) => name)).toEqual([
      'intake',
      'sweep',
    ]);
  });

  it('carry croner only where freeze windows are computed (the config schema leaves cron to synth)', () => {
    expect(
      [...bundles]
        .filter(([, packages]) => packages.has('croner'))
        .map(([name]) => name)
        .sort(),
    ).toEqual(['freeze-check', 'slack-interaction']);
  });

  it('carry yaml only where YAML is read or written', () => {
    expect(
      [...bundles]
        .filter(([, packages]) => packages.has('yaml'))
        .map(([name]) => name)
        .sort(),
    ).toEqual(['argocd-health', 'committer', 'pull-request', 'secret-sync']);
  });

  it('carry zod/mini, never classic zod, and no X-Ray SDK', () => {
    for (const [name, packages] of bundles) {
      expect({ name, zod: packages.has('zod'), classic: packages.has('zod (classic)') }).toEqual({
        name,
        zod: true,
        classic: false,
      });
      expect({ name, xray: packages.has('aws-xray-sdk-core') }).toEqual({ name, xray: false });
    }
  });

  it("take yaml's ESM build, which esbuild can tree-shake, never its CommonJS one", () => {
    expect(
      [...bundles].filter(([, packages]) => packages.has('yaml (CommonJS)')).map(([name]) => name),
    ).toEqual([]);
  });

  it("leave the SDK's event-stream support to its lazy import, and carry one Powertools commons", () => {
    for (const [name, packages] of bundles) {
      expect({ name, eventStreams: packages.has('event streams') }).toEqual({ name, eventStreams: false });
      expect({ name, second: packages.has('commons (second copy)') }).toEqual({ name, second: false });
    }
  });
});
