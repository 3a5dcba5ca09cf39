/**
 * Where the benchmarks leave their figures for the summary (bench/summary.bench.ts): one JSON file
 * per benchmark, `<dir>/<name>.json`, written beside what each prints. The folder is
 * BENCH_RESULTS_DIR, else dist/bench-results under the working directory (`npm run bench` runs from
 * the project's root).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function resultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_RESULTS_DIR ?? join(process.cwd(), 'dist', 'bench-results');
}

/** Writes `figures` as `<name>.json` (atomically: a summary never reads half a file); answers the path. */
export function writeResults(name: string, figures: unknown, dir = resultsDir()): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const record = { name, writtenAt: new Date().toISOString(), node: process.version, figures };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

/** The figures a benchmark wrote, with when; undefined when it has not written any. */
export function readResults<T>(
  name: string,
  dir = resultsDir(),
): { readonly writtenAt: string; readonly figures: T } | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.json`), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const record = JSON.parse(text) as { writtenAt: string; figures: T };
  return { writtenAt: record.writtenAt, figures: record.figures };
}
