/**
 * Idempotency by lease: what this worker knows about each attempt it has seen, keyed by `lease_id`
 * (fresh for every attempt, so one lease is one piece of work).
 *
 * - `working`: the attempt runs; its AbortController stops it (a cancel directive, or shutdown).
 * - `finished`: done; keeps the last reply sent (none for `silent`), which a redelivered directive
 *   gets again instead of a second run.
 * - `cancelled`: a cancel came for a lease this worker was not running; a directive for it that
 *   arrives later is completed without work.
 *
 * Kept in memory and bounded (the oldest finished or cancelled leases are forgotten first; running
 * ones never are): enough for redeliveries, which come within minutes. A production worker keeps this
 * in durable storage so a restarted instance still knows its finished leases.
 */
import type { Reply } from './replies';

/** Why running work was stopped. */
export type StopReason =
  { readonly kind: 'cancel'; readonly reason?: string } | { readonly kind: 'shutdown' };

export type LeaseEntry =
  | { readonly state: 'working'; readonly controller: AbortController }
  | { readonly state: 'finished'; readonly lastReply?: Reply }
  | { readonly state: 'cancelled' };

export type CancelOutcome = 'stopping' | 'already-finished' | 'noted';

export const DEFAULT_LEASE_CAPACITY = 10_000;

export class LeaseBook {
  private readonly entries = new Map<string, LeaseEntry>();

  constructor(private readonly capacity = DEFAULT_LEASE_CAPACITY) {}

  get(leaseId: string): LeaseEntry | undefined {
    return this.entries.get(leaseId);
  }

  /** Starts work under a lease nobody has seen; the signal aborts with a StopReason. */
  begin(leaseId: string): AbortSignal {
    if (this.entries.has(leaseId)) throw new Error(`lease ${leaseId} is already known`);
    const controller = new AbortController();
    this.entries.set(leaseId, { state: 'working', controller });
    return controller.signal;
  }

  finish(leaseId: string, lastReply?: Reply): void {
    this.remember(
      leaseId,
      lastReply === undefined ? { state: 'finished' } : { state: 'finished', lastReply },
    );
  }

  /** The work was interrupted without an outcome: a redelivery may run it again. */
  forget(leaseId: string): void {
    this.entries.delete(leaseId);
  }

  cancel(leaseId: string, reason?: string): CancelOutcome {
    const entry = this.entries.get(leaseId);
    if (entry?.state === 'working') {
      entry.controller.abort({
        kind: 'cancel',
        ...(reason === undefined ? {} : { reason }),
      } satisfies StopReason);
      return 'stopping';
    }
    if (entry !== undefined) return 'already-finished';
    this.remember(leaseId, { state: 'cancelled' });
    return 'noted';
  }

  /** Stops every running attempt (shutdown). */
  stopAll(): void {
    for (const entry of this.entries.values()) {
      if (entry.state === 'working') entry.controller.abort({ kind: 'shutdown' } satisfies StopReason);
    }
  }

  private remember(leaseId: string, entry: LeaseEntry): void {
    this.entries.delete(leaseId);
    this.entries.set(leaseId, entry);
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (old.state !== 'working') this.entries.delete(oldest);
    }
  }
}

/** The StopReason an aborted signal carries. */
export function stopReasonOf(signal: AbortSignal): StopReason | undefined {
  return signal.aborted ? (signal.reason as StopReason) : undefined;
}
