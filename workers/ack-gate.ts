/**
 * When an attempt's ACK goes out (the worker contract: the RESULT implies the ACK, so a worker may
 * skip the ACK when its RESULT reaches Lucius before `ack_deadline`; it must ACK, or heartbeat, as
 * soon as it knows it may not).
 *
 * - Eager (`ackAfterMs` unset): the ACK goes out before any work, as Lucius's state machine first
 *   expected.
 * - Lazy (`ackAfterMs` set): the work starts at once and the ACK goes out only if the work still runs
 *   `ackAfterMs` later, or at once when less than 2 × `ackAfterMs` remain before `ack_deadline` (then,
 *   or as the deadline comes that near while the work runs), so an attempt never ends NOT_STARTED
 *   while it works. No ACK once a heartbeat went out (Lucius takes a heartbeat before any ACK as the
 *   ACK), nor once the RESULT is on its way: `beforeReply` disarms the timer and waits for an ACK
 *   already being sent, so the ACK never follows the heartbeat or the RESULT; an ACK that could not
 *   be sent fails there, so the attempt ends as a failed eager ACK would (interrupted, abandoned).
 *
 * Time is read from the worker's clock (`now`); the ACK is scheduled with the global `setTimeout`.
 */

export interface AckGateOptions {
  /** ACK only if the work runs this long; undefined: ACK before the work (eager). */
  readonly ackAfterMs?: number;
  readonly ackDeadline: string;
  readonly now: () => Date;
  readonly sendAck: () => Promise<unknown>;
}

export interface AckGate {
  /** The work is about to start: sends the ACK first when it must go now, else arms its timer. */
  start(): Promise<void>;
  /** A heartbeat (it counts as the ACK) or the RESULT is about to go: no ACK after it. */
  beforeReply(): Promise<void>;
  /** The attempt ends however it ends: disarms the timer, lets an ACK being sent finish. */
  close(): Promise<void>;
}

export function ackGate(options: AckGateOptions): AckGate {
  const { ackAfterMs } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> | undefined;
  let settled = false;

  const disarm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const ack = (): Promise<void> => {
    settled = true;
    sending = options.sendAck().then(() => undefined);
    return sending;
  };
  /** When the ACK is due, from now: at `ackAfterMs`, or 2 × `ackAfterMs` before the deadline if sooner. */
  const dueInMs = (lazyMs: number): number => {
    const remainingMs = Date.parse(options.ackDeadline) - options.now().getTime();
    return Math.max(0, Math.min(lazyMs, remainingMs - 2 * lazyMs));
  };

  return {
    async start() {
      if (ackAfterMs === undefined) return ack();
      const due = dueInMs(ackAfterMs);
      if (due === 0) return ack();
      timer = setTimeout(() => {
        timer = undefined;
        if (settled) return;
        // A failure surfaces at the next heartbeat or the RESULT (beforeReply); close lets it go.
        ack().catch(() => undefined);
      }, due);
      return undefined;
    },
    async beforeReply() {
      settled = true;
      disarm();
      await sending;
    },
    async close() {
      settled = true;
      disarm();
      await sending?.catch(() => undefined);
    },
  };
}
