/**
 * Runs timer-triggered functions on their schedules against a Clock, as the host's timer listener
 * does: one invocation at a time per function (the next occurrence is computed once the previous run
 * has finished, so an overrunning function skips occurrences instead of piling up), `runOnStartup`
 * invokes once as the host starts, and `triggerNow` runs one at once (the admin endpoint).
 *
 * `isPastDue` is true when an invocation starts after a later occurrence has already passed (the
 * process was suspended, the event loop was blocked, a clock jumped): that is when the real host
 * reports it too. Occurrence status is kept in memory only, so unlike Azure's schedule monitor a
 * devhost restart does not detect occurrences missed while it was down.
 */
import type { Clock } from '../common/clock';
import type { Schedule } from '../common/functions';

/** What the handler receives (the `Timer` type of @azure/functions). */
export interface TimerInfo {
  readonly isPastDue: boolean;
  readonly schedule: { readonly adjustForDST: boolean };
  readonly scheduleStatus: { readonly last: string; readonly next: string; readonly lastUpdated: string };
}

export interface ScheduledTimer {
  readonly name: string;
  readonly schedule: Schedule;
  readonly runOnStartup: boolean;
}

export type TimerInvoker = (name: string, timer: TimerInfo) => Promise<void>;

interface TimerState {
  readonly timer: ScheduledTimer;
  next: Date;
  last: Date;
  cancel?: () => void;
  running: Promise<void>;
}

export class TimerScheduler {
  private readonly states = new Map<string, TimerState>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly invoke: TimerInvoker,
  ) {}

  add(timer: ScheduledTimer): void {
    if (this.started) throw new Error('timers must be added before the scheduler starts');
    const epoch = new Date(0);
    this.states.set(timer.name, { timer, next: epoch, last: epoch, running: Promise.resolve() });
  }

  has(name: string): boolean {
    return this.states.has(name);
  }

  /** The next occurrence of each timer (after start). */
  nextOccurrences(): Record<string, Date> {
    return Object.fromEntries([...this.states].map(([name, state]) => [name, state.next]));
  }

  /** Arms every timer; runs the `runOnStartup` ones once (awaited). */
  async start(): Promise<void> {
    this.started = true;
    const now = this.clock.now();
    const startups: Promise<void>[] = [];
    for (const state of this.states.values()) {
      state.last = now;
      state.next = state.timer.schedule.next(now);
      if (state.timer.runOnStartup) startups.push(this.run(state, now, false));
      else this.arm(state);
    }
    await Promise.all(startups);
  }

  /** Invokes `name` now, outside its schedule (isPastDue false); resolves when the run finished. */
  async triggerNow(name: string): Promise<boolean> {
    const state = this.states.get(name);
    if (state === undefined) return false;
    state.cancel?.();
    await this.run(state, this.clock.now(), false);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.states.values()) state.cancel?.();
    await Promise.all([...this.states.values()].map((state) => state.running));
  }

  private arm(state: TimerState): void {
    if (this.stopped) return;
    const due = state.next;
    state.cancel = this.clock.setTimer(due, () => {
      const now = this.clock.now();
      const isPastDue = state.timer.schedule.next(due).getTime() <= now.getTime();
      return this.run(state, due, isPastDue);
    });
  }

  private run(state: TimerState, occurrence: Date, isPastDue: boolean): Promise<void> {
    const previous = state.running;
    const run = previous.then(async () => {
      if (this.stopped) return;
      const now = this.clock.now();
      const following = state.timer.schedule.next(now.getTime() > occurrence.getTime() ? now : occurrence);
      const info: TimerInfo = {
        isPastDue,
        schedule: { adjustForDST: state.timer.schedule.kind === 'cron' },
        scheduleStatus: {
          last: state.last.toISOString(),
          next: following.toISOString(),
          lastUpdated: now.toISOString(),
        },
      };
      state.last = occurrence;
      try {
        await this.invoke(state.timer.name, info);
      } finally {
        const after = this.clock.now();
        state.next = state.timer.schedule.next(after.getTime() > occurrence.getTime() ? after : occurrence);
        this.arm(state);
      }
    });
    state.running = run.catch(() => undefined);
    return run;
  }
}
