/**
 * Time for the durable engine: a `Clock` says what time it is and calls back when a given time is
 * reached. `SystemClock` is real time (devhost); `ManualClock` only moves when told to (the
 * time-skipping test environment), firing due callbacks in time order.
 */

export interface ClockTimer {
  cancel(): void;
}

/** The engine's only source of time. */
export interface Clock {
  now(): Date;
  /** Calls `callback` once the clock reaches `at` (at once, asynchronously, when `at` is past). */
  setTimer(at: Date, callback: () => void): ClockTimer;
}

/** setTimeout cannot wait longer than this; longer waits are re-armed. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  setTimer(at: Date, callback: () => void): ClockTimer {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const delay = at.getTime() - Date.now();
      if (delay > MAX_TIMEOUT_MS) {
        handle = setTimeout(arm, MAX_TIMEOUT_MS);
        return;
      }
      handle = setTimeout(
        () => {
          if (!cancelled) callback();
        },
        Math.max(0, delay),
      );
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle !== undefined) clearTimeout(handle);
      },
    };
  }
}

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that stands still until `advanceTo`/`advanceBy`, used for tests that skip time. Timers
 * fire only inside those calls, in time order, even when armed for a time already past.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start: Date = new Date('2024-01-01T00:00:00.000Z')) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(at: Date, callback: () => void): ClockTimer {
    // A timer that is already due still waits for the next advance (`advanceTo(now())` fires it).
    const timer: ManualTimer = { at: at.getTime(), seq: this.seq++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** When the earliest armed timer is due, if any. */
  nextTimerAt(): Date | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    if (this.timers.length === 0) return undefined;
    return new Date(Math.min(...this.timers.map((t) => t.at)));
  }

  /** Moves time forward to `at` (never backwards), firing every timer due by then in order. */
  advanceTo(at: Date): void {
    const target = Math.max(this.current, at.getTime());
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.current = Math.max(this.current, due.at);
      due.cancelled = true;
      this.timers = this.timers.filter((t) => t !== due);
      due.callback();
    }
    this.current = target;
  }

  advanceBy(ms: number): void {
    this.advanceTo(new Date(this.current + ms));
  }
}
