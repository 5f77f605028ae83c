/**
 * Cold start of each Lambda: every `functions/<name>/handler.ts` is bundled with the esbuild options the
 * CDK HandlerFunction deploys it with (`handlerEsbuildOptions`, derived from HANDLER_BUNDLING, so the
 * two cannot drift), then imported in fresh `node` processes with the flag the function runs with.
 * Figures: minified size and module-load time (median of several runs; with the import's CPU time, which a
 * busy machine inflates less). Goal: ≤ 500 KB, ≤ 150 ms.
 *
 * For comparison each handler is also bundled the other way NodejsFunction offers: `@aws-sdk/*` left to
 * the Lambda runtime (its default on Node 18+), loaded here from node_modules. The goal applies to the
 * deployed bundle.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import {
  HANDLER_BUNDLING,
  HANDLER_ESBUILD_TARGET,
  handlerEsbuildOptions,
} from '../../infra/constructs/handler-function.js';
import { type BenchReport, median, PROJECT_ROOT, writeResults } from '../report.js';

export const GOAL_KB = 500;
export const GOAL_MS = 150;
/** Fresh processes per bundle; `BENCH_RUNS` overrides. */
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/**
 * Inside the project, so an external import resolves from node_modules as it would from the runtime's
 * copy; one folder per checkout, since worktrees may share one node_modules.
 */
const OUT_DIR = join(
  PROJECT_ROOT,
  'node_modules',
  '.cache',
  'shiplane-bench',
  createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 12),
  'cold-start',
);

/** What HandlerFunction deploys, and the alternative: the AWS SDK from the Lambda runtime (CDK's default). */
const VARIANTS = {
  deployed: HANDLER_BUNDLING.externalModules,
  'sdk from runtime': ['@aws-sdk/*'],
} as const satisfies Record<string, readonly string[]>;
type Variant = keyof typeof VARIANTS;

interface Measurement {
  readonly handler: string;
  readonly variant: Variant;
  readonly placeholder: boolean;
  readonly bytes?: number;
  readonly mapBytes?: number;
  /** Packages the bundle imports at load time instead of carrying them. */
  readonly staticImports?: string[];
  /** The biggest parts of the bundle: npm packages, or the project's own folders. */
  readonly largest?: Array<{ name: string; kb: number }>;
  /** Packages the bundle imports only when a code path needs them (`await import()`). */
  readonly lazyImports?: string[];
  /** Files (unminified, CommonJS) the import loaded from node_modules besides the bundle. */
  readonly fromNodeModules?: { files: number; bytes: number };
  readonly loadMs?: { median: number; min: number; max: number; samples: number[] };
  /**
   * CPU time the import took (all the process's threads). On a shared machine the wall time above also
   * counts the time spent waiting for a core; this does not, so it shows what the code costs.
   */
  readonly cpuMs?: { median: number; min: number; max: number };
  readonly error?: string;
}

async function handlers(): Promise<Array<{ name: string; placeholder: boolean }>> {
  const dir = join(PROJECT_ROOT, 'functions');
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      // A handler whose issue has not landed only throws NotBuiltError; its figures mean little.
      const source = await readFile(join(dir, name, 'handler.ts'), 'utf8');
      return { name, placeholder: source.includes('new NotBuiltError(') };
    }),
  );
}

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

/** The non-builtin packages a minified ESM bundle imports: at load (`import … from`, `require`) and lazily. */
export function importsOf(code: string): { staticImports: string[]; lazyImports: string[] } {
  const collect = (pattern: RegExp) =>
    [
      ...new Set(
        [...code.matchAll(pattern)]
          .map((match) => (match[1] ?? match[2])!)
          .filter((specifier) => !isBuiltin(specifier))
          .map(packageOf),
      ),
    ].sort();
  return {
    staticImports: collect(
      /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{][^;'"]*?from\s*)?["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']\s*\)/g,
    ),
    lazyImports: collect(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  };
}

/** The bundle's minified bytes by npm package (or project folder), biggest first. */
function largestParts(metafile: Metafile, count = 8): Array<{ name: string; kb: number }> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
      bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, size]) => ({ name, kb: Math.round(size / 102.4) / 10 }));
}

interface Load {
  readonly ms: number;
  readonly cpuMs: number;
  /** CommonJS files the import loaded from node_modules (what a bundle left to the runtime's copy). */
  readonly files: number;
  readonly bytes: number;
}

/**
 * Imports the bundle once in a fresh process, as the Lambda runtime would: the import time, then (after
 * the clock stopped) the files it pulled from node_modules.
 */
function loadOnce(file: string): Promise<Load> {
  const script = [
    'const cpu = process.cpuUsage();',
    'const t = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const ms = performance.now() - t;',
    'const used = process.cpuUsage(cpu);',
    'const cpuMs = (used.user + used.system) / 1000;',
    "const { createRequire } = await import('node:module');",
    "const { statSync } = await import('node:fs');",
    "const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/'));",
    'const bytes = loaded.reduce((sum, f) => sum + statSync(f).size, 0);',
    'process.stdout.write(JSON.stringify({ ms, cpuMs, files: loaded.length, bytes }));',
  ].join(' ');
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
        resolve(JSON.parse(stdout) as Load);
      },
    );
  });
}

async function measure(
  handler: { name: string; placeholder: boolean },
  variant: Variant,
): Promise<Measurement> {
  const base = { handler: handler.name, variant, placeholder: handler.placeholder };
  const outfile = join(OUT_DIR, variant.replaceAll(' ', '-'), handler.name, 'index.mjs');
  let largest: Array<{ name: string; kb: number }>;
  try {
    // The metafile only reports what went where; the bundle's bytes are the same without it.
    const result = await build({
      ...handlerEsbuildOptions(handler.name, outfile, VARIANTS[variant]),
      metafile: true,
      logLevel: 'silent',
    });
    largest = largestParts(result.metafile);
  } catch (error) {
    return { ...base, error: `bundle failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const bytes = (await stat(outfile)).size;
  const mapBytes = (await stat(`${outfile}.map`)).size;
  const imports = importsOf(await readFile(outfile, 'utf8'));
  const measured = { ...base, bytes, mapBytes, largest, ...imports };
  if (variant === 'deployed' && imports.staticImports.length > 0) {
    // The deployed bundle must carry all it loads; a static import of a left-out package would load the
    // runtime's copy at every cold start (and this bench would time node_modules instead).
    return { ...measured, error: `imports ${imports.staticImports.join(', ')} at load time` };
  }
  const loads: Load[] = [];
  try {
    for (let run = 0; run < RUNS; run += 1) loads.push(await loadOnce(outfile));
  } catch (error) {
    return { ...measured, error: `load failed: ${(error as Error).message}` };
  }
  const samples = loads.map((load) => load.ms);
  const cpuSamples = loads.map((load) => load.cpuMs);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    ...measured,
    fromNodeModules: { files: loads[0]?.files ?? 0, bytes: loads[0]?.bytes ?? 0 },
    loadMs: {
      median: round(median(samples)),
      min: round(Math.min(...samples)),
      max: round(Math.max(...samples)),
      samples: samples.map(round),
    },
    cpuMs: {
      median: round(median(cpuSamples)),
      min: round(Math.min(...cpuSamples)),
      max: round(Math.max(...cpuSamples)),
    },
  };
}

const kb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round(bytes / 102.4) / 10);

function withinGoal(m: Measurement): boolean {
  return m.error === undefined && (m.bytes ?? 0) <= GOAL_KB * 1024 && (m.loadMs?.median ?? 0) <= GOAL_MS;
}

/** How far a measurement is over the goal, e.g. `+118.4 KB`; empty when within. */
function overBy(m: Measurement): string {
  const over: string[] = [];
  const extraKb = (m.bytes ?? 0) / 1024 - GOAL_KB;
  if (extraKb > 0) over.push(`+${extraKb.toFixed(1)} KB`);
  const extraMs = (m.loadMs?.median ?? 0) - GOAL_MS;
  if (extraMs > 0) over.push(`+${extraMs.toFixed(1)} ms`);
  return over.join(', ');
}

export async function run(): Promise<BenchReport> {
  await rm(OUT_DIR, { recursive: true, force: true });
  const loadAtStart = loadavg();
  const measurements: Measurement[] = [];
  for (const handler of await handlers()) {
    for (const variant of Object.keys(VARIANTS) as Variant[])
      measurements.push(await measure(handler, variant));
  }
  const {
    absWorkingDir: _cwd,
    entryPoints: _entry,
    outfile: _out,
    ...esbuild
  } = handlerEsbuildOptions('<name>', 'index.mjs');
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    // Load times are only comparable on a quiet machine; this says how quiet it was.
    loadAverageAtStart: loadAtStart.map((value) => Math.round(value * 100) / 100),
    loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    runsPerBundle: RUNS,
    goal: { maxKb: GOAL_KB, maxLoadMs: GOAL_MS, appliesTo: 'deployed' },
    esbuild: {
      deployed: esbuild,
      'sdk from runtime': { ...esbuild, external: VARIANTS['sdk from runtime'] },
    },
    handlers: measurements.map((m) => ({
      ...m,
      kb: kb(m.bytes),
      mapKb: kb(m.mapBytes),
      withinGoal: m.placeholder || m.variant !== 'deployed' ? null : withinGoal(m),
    })),
  };
  const file = await writeResults('cold-start', results);
  const missed = measurements.filter((m) => m.variant === 'deployed' && !m.placeholder && !withinGoal(m));
  return {
    title: `Cold start: the deployed esbuild bundles (ESM, minified, ${HANDLER_ESBUILD_TARGET}) imported in fresh node ${process.version} processes, median of ${RUNS}`,
    rows: measurements.map((m) => ({
      handler: m.handler,
      bundle: m.variant,
      KB: kb(m.bytes),
      'load ms': m.loadMs?.median ?? null,
      'min-max ms': m.loadMs ? `${m.loadMs.min}-${m.loadMs.max}` : '',
      'cpu ms': m.cpuMs?.median ?? null,
      '+ KB from node_modules': m.fromNodeModules?.files ? kb(m.fromNodeModules.bytes) : null,
      goal: m.placeholder
        ? 'placeholder'
        : m.variant !== 'deployed'
          ? ''
          : withinGoal(m)
            ? 'met'
            : `MISSED ${overBy(m)}`,
      error: m.error ?? '',
    })),
    notes: [
      `Goal (deployed bundle): ≤ ${GOAL_KB} KB minified and ≤ ${GOAL_MS} ms to load. "sdk from runtime" = @aws-sdk/* left to the Lambda runtime (CDK's default): its KB leave out the SDK, which it loads unminified from node_modules here (the "+ KB" column; in Lambda from the runtime's copy, another version).`,
      ...missed.map(
        (m) =>
          `${m.handler} is ${overBy(m)} over: ${(m.largest ?? []).map((part) => `${part.name} ${Math.round(part.kb)}`).join(', ')} KB, …`,
      ),
      `Deployed bundles leave out only ${HANDLER_BUNDLING.externalModules.join(', ')}: imported lazily, never at load.`,
      `Load average ${loadAtStart.map((value) => value.toFixed(1)).join(' / ')} at start, ${loadavg()
        .map((value) => value.toFixed(1))
        .join(
          ' / ',
        )} at end, on ${cpus().length} cores: on a busy machine the times run high; min is the steadiest figure, and "cpu ms" (CPU time of the import) leaves out the waits for a core.`,
      `Written to ${file}.`,
    ],
    failed: missed.length > 0,
  };
}
