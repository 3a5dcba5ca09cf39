/**
 * A progress bar on stderr for long work (bulk actions, sweeps), shown only when stderr is a
 * terminal and the output is not `--json`, so scripts and pipes see clean output.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  start(total: number): void;
  /** Adds to the total (work whose size is found as it goes). */
  grow(more: number): void;
  tick(count?: number): void;
  stop(): void;
}

const SILENT: Progress = {
  start: () => undefined,
  grow: () => undefined,
  tick: () => undefined,
  stop: () => undefined,
};

export function progressBar(label: string, options: { readonly json: boolean }): Progress {
  if (options.json || process.stderr.isTTY !== true) return SILENT;
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, clearOnComplete: true },
    Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0),
    grow: (more) => bar.setTotal(bar.getTotal() + more),
    tick: (count = 1) => bar.increment(count),
    stop: () => bar.stop(),
  };
}
