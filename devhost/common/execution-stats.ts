/**
 * The host's execution accounting, for whatever app it hosts: per function and per trigger kind
 * (http, timer, orchestration, activity, serviceBus), the executions that finished, how many of
 * them failed, the sum of their wall durations, the longest, and their busy time (the time during
 * which at least one execution of that function, or kind, was running); and the host's busy time
 * (at least one execution of any function running). From these follow the mean duration (sum of
 * durations ÷ executions) and the mean overlap (sum of durations ÷ busy time: how many executions
 * ran at once, on average, while any ran), the two figures a plan that bills an instance's memory
 * while it runs executions needs; per kind and per function for a plan that scales groups of
 * functions on instances of their own. The process's resident set size (RSS) is sampled alongside: as
 * executions end (at most once per `rssSampleMs`) and at each snapshot.
 *
 * Counts are cumulative from the host's start; a caller measuring an interval takes two snapshots
 * and subtracts them (`executionsBetween`). An execution still running at a snapshot is in its
 * busy time and `running`, not yet in the counts. Time is read from `now`, a monotonic millisecond
 * source (`performance.now` by default; tests hand in a fake one).
 * The host serves the snapshot at GET /admin/host/executions (master key).
 */
import { performance } from 'node:perf_hooks';

export interface ExecutionTally {
  readonly count: number;
  readonly failed: number;
  readonly durationMs: number;
  /** Time with at least one of these executions running (the ones under way included). */
  readonly busyMs: number;
  /** The longest execution since the host started (not an interval's: it does not subtract). */
  readonly maxDurationMs: number;
}

export interface ExecutionSnapshot {
  /** Executions under way at the snapshot (in the busy times, not yet in the counts). */
  readonly running: number;
  /** The host's: time with at least one execution of any function running, since it started. */
  readonly busyMs: number;
  readonly total: ExecutionTally;
  readonly byKind: Readonly<Record<string, ExecutionTally>>;
  readonly byFunction: Readonly<Record<string, ExecutionTally & { readonly kind: string }>>;
  /** durationMs ÷ count of `total`; null before any execution finished. */
  readonly meanDurationMs: number | null;
  /** durationMs of `total` ÷ busyMs; null before any busy time. */
  readonly meanOverlap: number | null;
  readonly memory: {
    /** The last RSS sample, in bytes. */
    readonly rssBytes: number;
    /** The highest RSS sample since the host started. */
    readonly maxRssBytes: number;
  };
}

/** What happened between two snapshots: counts and durations subtracted, means recomputed. */
export interface ExecutionInterval {
  readonly busyMs: number;
  readonly total: Omit<ExecutionTally, 'maxDurationMs'>;
  readonly byKind: Readonly<Record<string, Omit<ExecutionTally, 'maxDurationMs'>>>;
  readonly byFunction: Readonly<
    Record<string, Omit<ExecutionTally, 'maxDurationMs'> & { readonly kind: string }>
  >;
  readonly meanDurationMs: number | null;
  readonly meanOverlap: number | null;
}

export interface ExecutionStatsOptions {
  /** Monotonic milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** The process's resident set size in bytes; default `process.memoryUsage.rss`. */
  readonly rss?: () => number;
  /** Least time between two RSS samples taken as executions end; default 100 ms. */
  readonly rssSampleMs?: number;
}

const DEFAULT_RSS_SAMPLE_MS = 100;

/** Counts and durations of finished executions, and busy time of running ones (`running`, `since`). */
interface MutableTally {
  count: number;
  failed: number;
  durationMs: number;
  maxDurationMs: number;
  busyMs: number;
  running: number;
  since: number;
}

const emptyTally = (): MutableTally => ({
  count: 0,
  failed: 0,
  durationMs: 0,
  maxDurationMs: 0,
  busyMs: 0,
  running: 0,
  since: 0,
});

/** The tally as a snapshot shows it at `at`: busy time includes the executions under way. */
function frozen(tally: MutableTally, at: number): ExecutionTally {
  return {
    count: tally.count,
    failed: tally.failed,
    durationMs: tally.durationMs,
    busyMs: tally.busyMs + (tally.running > 0 ? at - tally.since : 0),
    maxDurationMs: tally.maxDurationMs,
  };
}

export class ExecutionStats {
  private readonly now: () => number;
  private readonly rss: () => number;
  private readonly rssSampleMs: number;
  private readonly total = emptyTally();
  private readonly byKind = new Map<string, MutableTally>();
  private readonly byFunction = new Map<string, MutableTally & { kind: string }>();
  private lastRss = 0;
  private maxRss = 0;
  private lastRssAt = Number.NEGATIVE_INFINITY;

  constructor(options: ExecutionStatsOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.rss = options.rss ?? (() => process.memoryUsage.rss());
    this.rssSampleMs = options.rssSampleMs ?? DEFAULT_RSS_SAMPLE_MS;
  }

  /** An execution of `name` (a function of `kind`) starts; call what it answers once it has ended. */
  begin(name: string, kind: string): (outcome: 'succeeded' | 'failed') => void {
    const started = this.now();
    const perFunction = this.byFunction.get(name) ?? { ...emptyTally(), kind };
    this.byFunction.set(name, perFunction);
    const perKind = this.byKind.get(kind) ?? emptyTally();
    this.byKind.set(kind, perKind);
    const tallies = [this.total, perKind, perFunction];
    for (const tally of tallies) {
      if (tally.running === 0) tally.since = started;
      tally.running += 1;
    }
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      const at = this.now();
      const durationMs = at - started;
      for (const tally of tallies) {
        tally.running -= 1;
        if (tally.running === 0) tally.busyMs += at - tally.since;
        tally.count += 1;
        if (outcome === 'failed') tally.failed += 1;
        tally.durationMs += durationMs;
        tally.maxDurationMs = Math.max(tally.maxDurationMs, durationMs);
      }
      if (at - this.lastRssAt >= this.rssSampleMs) this.sampleRss(at);
    };
  }

  /** `handler` counted as executions of `name` (a function of `kind`), whether it returns or throws. */
  wrap<A extends unknown[], R>(
    name: string,
    kind: string,
    handler: (...args: A) => R,
  ): (...args: A) => Promise<Awaited<R>> {
    return async (...args: A): Promise<Awaited<R>> => {
      const end = this.begin(name, kind);
      try {
        const result = await handler(...args);
        end('succeeded');
        return result;
      } catch (error) {
        end('failed');
        throw error;
      }
    };
  }

  snapshot(): ExecutionSnapshot {
    const at = this.now();
    this.sampleRss(at);
    const total = frozen(this.total, at);
    return {
      running: this.total.running,
      busyMs: total.busyMs,
      total,
      byKind: Object.fromEntries([...this.byKind].map(([kind, tally]) => [kind, frozen(tally, at)])),
      byFunction: Object.fromEntries(
        [...this.byFunction].map(([name, tally]) => [name, { kind: tally.kind, ...frozen(tally, at) }]),
      ),
      ...means(total.count, total.durationMs, total.busyMs),
      memory: { rssBytes: this.lastRss, maxRssBytes: this.maxRss },
    };
  }

  private sampleRss(at: number): void {
    this.lastRssAt = at;
    this.lastRss = this.rss();
    this.maxRss = Math.max(this.maxRss, this.lastRss);
  }
}

function means(
  count: number,
  durationMs: number,
  busyMs: number,
): { meanDurationMs: number | null; meanOverlap: number | null } {
  return {
    meanDurationMs: count > 0 ? durationMs / count : null,
    meanOverlap: busyMs > 0 ? durationMs / busyMs : null,
  };
}

function subtract(
  after: Omit<ExecutionTally, 'maxDurationMs'>,
  before: Omit<ExecutionTally, 'maxDurationMs'> | undefined,
): Omit<ExecutionTally, 'maxDurationMs'> {
  return {
    count: after.count - (before?.count ?? 0),
    failed: after.failed - (before?.failed ?? 0),
    durationMs: after.durationMs - (before?.durationMs ?? 0),
    busyMs: after.busyMs - (before?.busyMs ?? 0),
  };
}

/** The executions between two snapshots of one host (`before` taken first). */
export function executionsBetween(after: ExecutionSnapshot, before: ExecutionSnapshot): ExecutionInterval {
  const total = subtract(after.total, before.total);
  const busyMs = after.busyMs - before.busyMs;
  return {
    busyMs,
    total,
    byKind: Object.fromEntries(
      Object.entries(after.byKind).map(([kind, tally]) => [kind, subtract(tally, before.byKind[kind])]),
    ),
    byFunction: Object.fromEntries(
      Object.entries(after.byFunction).map(([name, tally]) => [
        name,
        { kind: tally.kind, ...subtract(tally, before.byFunction[name]) },
      ]),
    ),
    ...means(total.count, total.durationMs, busyMs),
  };
}
