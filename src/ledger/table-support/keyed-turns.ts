/**
 * Turns per key within one process: work given the same key runs one after the other, in the order
 * it was given, never interleaved; work of different keys runs freely. Used so that this process's
 * own conditional writes of one row (a tenant's counter; a ledger row's group writes and a job's end
 * in one transaction) follow each other on the ETag the previous one got instead of racing on the
 * same one and losing (412). Updates that queue up behind a write go together: see keyed-groups.ts.
 *
 * Memory is bounded by the keys with work queued or running: a key's entry goes when it is idle.
 * A failed turn does not stop the next one.
 */
export class KeyedTurns {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return run;
  }

  /** Keys with work queued or running (for tests of the bound). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
