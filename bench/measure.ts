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
