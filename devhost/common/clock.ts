/**
 * devhost's one source of time: the timer scheduler and the durable engine read and sleep on it, the
 * Service Bus broker reads it and never the wall clock.
 * `systemClock` is wall-clock time; `ManualClock` is for tests: time moves only when the test calls
 * `advance`/`set`, and timers that fall due fire then, in due order (awaiting what each fired
 * callback returns), so no test sleeps.
 */
export interface Clock {
  now(): Date;
  /** Calls `callback` once at `at` (or at once if it is past); returns a cancel function. */
  setTimer(at: Date, callback: () => void | Promise<void>): () => void;
}

/** Node timers cannot exceed 2^31-1 ms; longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(at, callback) {
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const wait = at.getTime() - Date.now();
      if (wait > MAX_TIMEOUT_MS) {
        handle = setTimeout(arm, MAX_TIMEOUT_MS);
      } else {
        handle = setTimeout(() => void callback(), Math.max(0, wait));
      }
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void | Promise<void>;
}

export class ManualClock implements Clock {
  private current: number;
  private pending: PendingTimer[] = [];
  private seq = 0;

  constructor(start: Date | string = '2024-01-01T00:00:00.000Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(at: Date, callback: () => void | Promise<void>): () => void {
    const timer = { at: at.getTime(), seq: (this.seq += 1), callback };
    this.pending.push(timer);
    return () => {
      this.pending = this.pending.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void> {
    return this.set(new Date(this.current + ms));
  }

  /**
   * Moves time to `target`. Timers fire in due order; time is set to each one's due instant before
   * it fires, unless `jump` is true: then time moves to `target` first and everything overdue fires
   * late (the host was asleep), which is how a past-due occurrence is produced.
   */
  async set(target: Date, options: { jump?: boolean } = {}): Promise<void> {
    const end = target.getTime();
    if (options.jump === true) this.current = Math.max(this.current, end);
    for (;;) {
      const due = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      await due.callback();
    }
    this.current = Math.max(this.current, end);
  }

  /** When the earliest waiting timer falls due, if any (the durable test environment skips to it). */
  nextTimerAt(): Date | undefined {
    if (this.pending.length === 0) return undefined;
    return new Date(Math.min(...this.pending.map((t) => t.at)));
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.pending.length;
  }
}
