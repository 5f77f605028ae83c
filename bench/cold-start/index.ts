/**
 * Cold start of each Lambda: every `functions/<name>/handler.ts` is bundled the way the CDK
 * HandlerFunction bundles it (esbuild, ESM, minified, platform node, external source map, the
 * `require` banner), then imported in fresh `node` processes with the flags the function runs with.
 * Figures: minified size and module-load time (median of several runs). Goal: ≤ 500 KB, ≤ 150 ms.
 *
 * Two ways to treat the AWS SDK are measured: bundled (the versions in package-lock.json travel with
 * the code, and esbuild drops what is unused) and left to the Lambda runtime's copy (`@aws-sdk/*`
 * external, NodejsFunction's default on Node 18+). The first is what the goal applies to.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { type BenchReport, median, PROJECT_ROOT, writeResults } from '../report.js';

export const GOAL_KB = 500;
export const GOAL_MS = 150;
/** Fresh processes per bundle; `BENCH_RUNS` overrides. */
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** The HandlerFunction targets Node.js 22 or newer; node22 is the oldest syntax level it may meet. */
const TARGET = 'node22';
/** Same banner as infra/constructs/handler-function.ts: CommonJS dependencies inside an ESM bundle call `require`. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __shiplaneCreateRequire } from 'node:module'; const require = __shiplaneCreateRequire(import.meta.url);";
/** Inside the project, so an external `@aws-sdk/*` import resolves from node_modules like the runtime's copy. */
const OUT_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'shiplane-bench', 'cold-start');

type Sdk = 'bundled' | 'runtime';

interface Measurement {
  readonly handler: string;
  readonly sdk: Sdk;
  readonly placeholder: boolean;
  readonly bytes?: number;
  readonly mapBytes?: number;
  readonly loadMs?: { median: number; min: number; max: number; samples: number[] };
  readonly error?: string;
}

async function handlers(): Promise<Array<{ name: string; entry: string; placeholder: boolean }>> {
  const dir = join(PROJECT_ROOT, 'functions');
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const entry = join(dir, name, 'handler.ts');
      // A handler whose issue has not landed only throws NotBuiltError; its figures mean little.
      const placeholder = (await readFile(entry, 'utf8')).includes('new NotBuiltError(');
      return { name, entry, placeholder };
    }),
  );
}

async function bundle(entry: string, outfile: string, sdk: Sdk): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: sdk === 'runtime' ? ['@aws-sdk/*'] : [],
    logLevel: 'silent',
  });
}

/** Imports the bundle once in a fresh process, as the Lambda runtime would, and returns the import time. */
function loadOnce(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // HandlerFunction sets NODE_OPTIONS=--enable-source-maps, which makes Node read the map at load.
      ['--enable-source-maps', '--input-type=module', '--no-warnings', '-e', script],
      {
        cwd: PROJECT_ROOT,
        // Only what a function has before its first invocation: no config is read at import.
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'eu-west-1',
          POWERTOOLS_SERVICE_NAME: 'shiplane-bench',
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(stderr.split('\n').find((line) => line.trim() !== '') ?? error.message));
          return;
        }
        resolve(Number(stdout));
      },
    );
  });
}

async function measure(
  handler: { name: string; entry: string; placeholder: boolean },
  sdk: Sdk,
): Promise<Measurement> {
  const base = { handler: handler.name, sdk, placeholder: handler.placeholder };
  const outfile = join(OUT_DIR, sdk, handler.name, 'index.mjs');
  try {
    await bundle(handler.entry, outfile, sdk);
  } catch (error) {
    return { ...base, error: `bundle failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const bytes = (await stat(outfile)).size;
  const mapBytes = (await stat(`${outfile}.map`)).size;
  const samples: number[] = [];
  try {
    for (let run = 0; run < RUNS; run += 1) samples.push(await loadOnce(outfile));
  } catch (error) {
    return { ...base, bytes, mapBytes, error: `load failed: ${(error as Error).message}` };
  }
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    ...base,
    bytes,
    mapBytes,
    loadMs: {
      median: round(median(samples)),
      min: round(Math.min(...samples)),
      max: round(Math.max(...samples)),
      samples: samples.map(round),
    },
  };
}

const kb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round(bytes / 102.4) / 10);

function withinGoal(m: Measurement): boolean {
  return m.error === undefined && (m.bytes ?? 0) <= GOAL_KB * 1024 && (m.loadMs?.median ?? 0) <= GOAL_MS;
}

export async function run(): Promise<BenchReport> {
  await rm(OUT_DIR, { recursive: true, force: true });
  const measurements: Measurement[] = [];
  for (const handler of await handlers()) {
    for (const sdk of ['bundled', 'runtime'] as const) measurements.push(await measure(handler, sdk));
  }
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    // Load times are only comparable on a quiet machine; this says how quiet it was.
    loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    runsPerBundle: RUNS,
    goal: { maxKb: GOAL_KB, maxLoadMs: GOAL_MS, appliesTo: 'sdk bundled' },
    esbuild: { target: TARGET, format: 'esm', minify: true, platform: 'node', sourcemap: 'external' },
    handlers: measurements.map((m) => ({
      ...m,
      kb: kb(m.bytes),
      mapKb: kb(m.mapBytes),
      withinGoal: m.placeholder ? null : withinGoal(m),
    })),
  };
  const file = await writeResults('cold-start', results);
  const missed = measurements.filter((m) => m.sdk === 'bundled' && !m.placeholder && !withinGoal(m));
  return {
    title: `Cold start: esbuild bundles (ESM, minified, ${TARGET}) imported in fresh node ${process.version} processes, median of ${RUNS}`,
    rows: measurements.map((m) => ({
      handler: m.handler,
      sdk: m.sdk,
      KB: kb(m.bytes),
      'load ms': m.loadMs?.median ?? null,
      'min-max ms': m.loadMs ? `${m.loadMs.min}-${m.loadMs.max}` : '',
      goal: m.placeholder ? 'placeholder' : m.sdk === 'runtime' ? '' : withinGoal(m) ? 'met' : 'MISSED',
      error: m.error ?? '',
    })),
    notes: [
      `Goal (SDK bundled): ≤ ${GOAL_KB} KB minified and ≤ ${GOAL_MS} ms to load. "runtime" = @aws-sdk/* left to the Lambda runtime, loaded here from node_modules.`,
      `Load average ${loadavg()
        .map((value) => value.toFixed(1))
        .join(
          ' / ',
        )} on ${cpus().length} cores: on a busy machine the times run high; min is the steadiest figure.`,
      `Written to ${file}.`,
    ],
    failed: missed.length > 0,
  };
}
