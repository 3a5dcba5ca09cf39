/**
 * What the benchmarks share: bounded concurrent runs with their rate and latency percentiles,
 * polling a status until it is final, and a pipeline policy counting Table Storage round trips.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TableServiceClientOptions } from '@azure/data-tables';

type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/** The p-th percentile (nearest rank) of ascending samples; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Counts every HTTP request (retries included) of the TableClients it is added to as a per-retry policy. */
export class RoundTrips {
  count = 0;
  readonly policy: PipelinePolicy = {
    name: 'benchRoundTripCounter',
    sendRequest: async (request, next) => {
      this.count += 1;
      return next(request);
    },
  };
}

/**
 * Runs `one(i)` for i = 0..total-1 with at most `concurrency` in flight; answers the elapsed
 * seconds of the whole run and each run's latency in milliseconds, in completion order.
 */
export async function runBounded(
  total: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<{ readonly seconds: number; readonly latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = process.hrtime.bigint();
        await one(i);
        latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latenciesMs };
}

/** The least, mean and greatest of some counts (episodes per orchestration, ...). */
export interface Spread {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
}

/** The spread of `values`: NaN mean and infinite bounds for none. */
export function spread(values: readonly number[]): Spread {
  return {
    min: Math.min(...values),
    mean: values.reduce((s, n) => s + n, 0) / values.length,
    max: Math.max(...values),
  };
}

/** A run's rate and latency percentiles (nearest rank), in milliseconds. */
export interface RunFigures {
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** The figures of `total` runs that took `seconds` in all, from runBounded. */
export function runFigures(
  total: number,
  run: { readonly seconds: number; readonly latenciesMs: readonly number[] },
): RunFigures {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    perSecond: total / run.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

export interface PollBounds {
  /** The status that ends the polling. */
  readonly done: string;
  /** Statuses that will never become `done`. */
  readonly failed: readonly string[];
  readonly pollMs: number;
  readonly limitMs: number;
}

/**
 * Reads `status()` every `pollMs` until it is `done`; answers the number of reads. Throws, naming
 * `what`, when it is one of `failed` or still not done after `limitMs`.
 */
export async function pollUntil(
  what: string,
  status: () => Promise<string | undefined>,
  bounds: PollBounds,
): Promise<number> {
  const deadline = Date.now() + bounds.limitMs;
  for (let polls = 1; ; polls += 1) {
    const seen = await status();
    if (seen === bounds.done) return polls;
    if ((seen !== undefined && bounds.failed.includes(seen)) || Date.now() > deadline)
      throw new Error(`${what} is ${String(seen)} after ${polls} polls`);
    await delay(bounds.pollMs);
  }
}
