/** What the benchmarks share: percentiles and a pipeline policy counting Table Storage round trips. */
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
