/**
 * What a bench gives back, and the helpers every bench shares. A bench is a folder `bench/<name>/` whose
 * `index.ts` exports `run(): Promise<BenchReport | void>`; `npm run bench` runs them all and prints each
 * report as a table (a bench that returns nothing prints its own output).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Cell = string | number | boolean | null;

export interface BenchReport {
  /** One line above the table. */
  readonly title: string;
  /** One object per row; the keys of the first row are the columns, in order. */
  readonly rows: ReadonlyArray<Readonly<Record<string, Cell>>>;
  /** Lines printed under the table: goals, how it was measured. */
  readonly notes?: readonly string[];
  /** True when a figure misses its goal; `npm run bench` still prints everything, then exits 1. */
  readonly failed?: boolean;
}

export interface Bench {
  /** Returns a report to print, or nothing when the bench printed its own figures. */
  run(): Promise<BenchReport | undefined>;
}

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = dirname(BENCH_DIR);
export const RESULTS_DIR = join(BENCH_DIR, 'results');

/** Writes `bench/results/<name>.json` (pretty, with a trailing newline) and returns its path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const file = join(RESULTS_DIR, `${name}.json`);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** The median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const show = (cell: Cell | undefined): string => (cell === null || cell === undefined ? '' : String(cell));

/** Renders rows as a plain-text table: numbers right-aligned, everything else left-aligned. */
export function formatTable(rows: ReadonlyArray<Readonly<Record<string, Cell>>>): string {
  const first = rows[0];
  if (!first) return '(no rows)';
  const columns = Object.keys(first);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => show(row[column]).length)),
  );
  const line = (cells: string[], numeric: boolean[]) =>
    cells
      .map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === 'number'));
  return [
    line(columns, numeric),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map((row) =>
      line(
        columns.map((column) => show(row[column])),
        numeric,
      ),
    ),
  ].join('\n');
}

/** Prints a report the way `npm run bench` shows it. */
export function printReport(report: BenchReport): void {
  console.log(`\n${report.title}\n`);
  console.log(formatTable(report.rows));
  for (const note of report.notes ?? []) console.log(note);
}
