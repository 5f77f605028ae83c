/**
 * `npm run bench` runs every bench (`bench/<name>/index.ts`); `npm run bench -- <name> [...]` runs only
 * those. Benchmarks are not tests: they print their figures and write them to bench/results/.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, type Bench, formatTable, printReport } from './report.js';

async function availableBenches(): Promise<string[]> {
  const entries = await readdir(BENCH_DIR, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(BENCH_DIR, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

async function main(argv: string[]): Promise<number> {
  const available = await availableBenches();
  const unknown = argv.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
    return 2;
  }
  const selected = argv.length > 0 ? argv : available;
  const summary: Array<{ bench: string; status: string; seconds: number }> = [];
  for (const name of selected) {
    const started = performance.now();
    let status: string;
    try {
      const bench = (await import(pathToFileURL(join(BENCH_DIR, name, 'index.ts')).href)) as Partial<Bench>;
      if (typeof bench.run !== 'function') throw new Error(`bench/${name}/index.ts exports no run()`);
      const report = await bench.run();
      if (report) printReport(report);
      status = report?.failed ? 'missed a goal' : 'ok';
    } catch (error) {
      console.error(`\nbench ${name} failed: ${(error as Error).stack ?? String(error)}`);
      status = 'error';
    }
    summary.push({ bench: name, status, seconds: Math.round((performance.now() - started) / 100) / 10 });
  }
  console.log(`\n${formatTable(summary)}`);
  return summary.every((entry) => entry.status === 'ok') ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
