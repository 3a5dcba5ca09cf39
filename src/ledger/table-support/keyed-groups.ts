/**
 * Group commit per key within one process: the changes given for a key while a write of it is in
 * flight queue up, and the next write takes them together (at most `maxGroup`), in the order they
 * were given. The first write of an idle key waits for the end of the current turn of the event loop
 * (setImmediate), so changes given together (an ACK and a RESULT handled at once) share it too. The writer answers each change of its group on its own (its result or its error); a
 * writer that throws answers its error to every change of the group. Groups of one key are written
 * one after the other; other keys go freely.
 *
 * Used for the rows a process updates often (a step's ACK and RESULT arrive together, a dispatch
 * slot row is taken and given back by many steps): one round trip for a group instead of one each.
 * Memory is bounded by the keys with changes queued or being written: a key's queue goes when empty.
 */

/** What one change of a group came to for its caller. */
export type GroupAnswer =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/** Writes a group of one key, answering each change in order (one answer per change). */
export type GroupWriter<C> = (group: readonly C[]) => Promise<readonly GroupAnswer[]>;

/** Resolves once the work queued in this turn of the event loop (promise jobs, I/O callbacks) ran. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Queued<C> {
  readonly change: C;
  readonly settle: (answer: GroupAnswer) => void;
}

export class KeyedGroups<C> {
  /** Changes of each key waiting for its next write; present while the key is being written. */
  private readonly queues = new Map<string, Queued<C>[]>();

  constructor(private readonly maxGroup: number) {
    if (!Number.isInteger(maxGroup) || maxGroup < 1)
      throw new RangeError(`a group holds at least one change, got ${maxGroup}`);
  }

  /**
   * Queues `change` for the next write of `key` and answers it. The writer used is the one given
   * with the change that found the key idle: the changes of one key must give writers that do the same.
   */
  submit<T>(key: string, change: C, write: GroupWriter<C>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queued: Queued<C> = {
        change,
        settle: (answer) => (answer.ok ? resolve(answer.result as T) : reject(answer.error)),
      };
      const queue = this.queues.get(key);
      if (queue !== undefined) {
        queue.push(queued);
        return;
      }
      this.queues.set(key, [queued]);
      void this.flush(key, write);
    });
  }

  /** Keys with changes queued or being written (for tests of the bound). */
  get busyKeys(): number {
    return this.queues.size;
  }

  /** Writes the key's queued changes, a group per write, until none is left. */
  private async flush(key: string, write: GroupWriter<C>): Promise<void> {
    await nextTurn();
    for (;;) {
      const queue = this.queues.get(key) ?? [];
      if (queue.length === 0) {
        this.queues.delete(key);
        return;
      }
      const group = queue.splice(0, this.maxGroup);
      let answers: readonly GroupAnswer[];
      try {
        answers = await write(group.map((queued) => queued.change));
        if (answers.length !== group.length)
          throw new Error(`a group writer answered ${answers.length} of ${group.length} changes`);
      } catch (error) {
        answers = group.map(() => ({ ok: false, error }));
      }
      group.forEach((queued, i) => queued.settle(answers[i] as GroupAnswer));
    }
  }
}
