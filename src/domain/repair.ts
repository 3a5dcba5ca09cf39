/**
 * Repairs: what the sweepers do to a job whose ledger and orchestration disagree, recorded on the
 * job (`Job.repairs`, newest last, the last REPAIR_HISTORY_LIMIT kept) so an operator sees what was
 * done, when and why. The decisions themselves (which repair a job needs) are pure functions of the
 * job, its steps, what the durable backend says of its instance and the time: see `decideRepair`.
 */

export const REPAIR_KINDS = [
  /** ACCEPTED and no orchestration instance after the grace: the orchestration was started. */
  'ORCHESTRATION_STARTED',
  /** In flight but the orchestration ended or was purged: a new run was started from the current step. */
  'ORCHESTRATION_RESTARTED',
  /** Restarts exhausted: the job was failed with ORCHESTRATION_LOST. */
  'ORCHESTRATION_LOST',
  /** A step deadline passed long ago while the orchestration ran: it was told to re-check now. */
  'TIMER_RECHECKED',
  /** A step left DISPATCHING past the dispatch grace: the orchestration was told to publish again. */
  'DISPATCH_RETRIED',
  /** The job ran past its deadline: failed with TIMEOUT (backstop of the orchestration's own timer). */
  'JOB_TIMED_OUT',
  /** The tenant's in-flight counter disagreed with the jobs in flight: corrected. */
  'INFLIGHT_CORRECTED',
  /** An idempotency record whose job never appeared was removed. */
  'IDEMPOTENCY_ORPHAN_REMOVED',
  /** A work-list row of a job that had already ended (or never existed) was removed. */
  'INDEX_CLEANED',
  /**
   * A dispatch slot was held by an attempt that had ended (a crash between the ledger write that
   * ended it and the release): it was given back and handed to the next waiter.
   */
  'SLOT_RELEASED',
] as const;
export type RepairKind = (typeof REPAIR_KINDS)[number];

export interface Repair {
  /** ISO time the repair was applied. */
  readonly at: string;
  readonly kind: RepairKind;
  /** What was found, in words an operator can act on. */
  readonly reason: string;
  /** Who repaired: `driftSweeper`, `leaseSweeper`, `lucius sweep`, `lucius loop@host:pid`, ... */
  readonly by: string;
}

/** How many repairs a job keeps (the oldest are dropped first). */
export const REPAIR_HISTORY_LIMIT = 20;

export function appendRepair(repairs: readonly Repair[], repair: Repair): readonly Repair[] {
  return [...repairs, repair].slice(-REPAIR_HISTORY_LIMIT);
}
