/**
 * The ledger port: where jobs, their steps, idempotency records, the tenant job index and the
 * per-tenant in-flight counts live. Backends: memory, table (separate tables), ledger (single table).
 * Every backend passes the same contract suite (test/contract/ledger); what the backends share
 * beyond this port is in src/ledger/ledger-rules.ts.
 *
 * Rules every backend keeps:
 * - Every state change goes through the domain state machines (`transitionJob`, `transitionStep`)
 *   and is a conditional write on the entity's version (ETag); on a conflict it reloads and decides
 *   again, so no update is ever lost.
 * - A job and its steps become visible together (one entity-group transaction where the backend
 *   allows it; otherwise steps first and the job row last, the job row being the commit point).
 * - A tenant's in-flight count (jobs not yet SUCCEEDED/FAILED/CANCELLED) never exceeds the limit,
 *   rises once per admitted job (and once per applied redrive of a failed job) and drops exactly
 *   once each time the job reaches a terminal state, however many writers race.
 *
 * Limits of what a store without cross-partition transactions can promise: a process that dies
 * between two writes of one admission can leave a slot taken, or an idempotency record whose job
 * never appears (a duplicate then answers without `job` until `orphanGraceSeconds` have passed, then
 * the command is admitted again over it); one that dies between a job's terminal write and the
 * counter update leaves a slot taken. These are repaired by a reconciling sweep (the drift sweeper,
 * which finds them through the active-jobs list), never by guessing here. A backend that lists a job
 * in the tenant index before its job row (the single table, where the index row is written with the
 * slot and the claim) can list a job `getJob` does not find yet, for one round trip; an admission
 * that dies there stays listed until the sweeper's `removeOrphanIdempotency` removes it.
 * Job ids are letters, digits and dashes (UUIDs); other ids are never found.
 */
import type { IdempotencyIdentity } from '../domain/idempotency';
import type { Job, JobEvent, JobStatus, Transition } from '../domain/job';
import type { Repair } from '../domain/repair';
import type { Step, StepEvent, StepTransition } from '../domain/step';

export interface AdmissionRecord {
  readonly job: Job;
  readonly steps: readonly Step[];
  readonly idempotency: IdempotencyIdentity;
}

export interface InflightLimits {
  /**
   * A job does not enter flight (admission, redrive) when the tenant already has this many
   * in-flight jobs: TenantAtCapacityError.
   */
  readonly maxInflightPerTenant: number;
}

export interface AdmissionLimits extends InflightLimits {
  /** How long an idempotency record makes a resent command a duplicate. */
  readonly idempotencyTtlHours: number;
  /**
   * A live idempotency record whose job is still missing this long after the record was written is
   * an orphan (its admission died before the job row): the command is admitted again over it.
   */
  readonly orphanGraceSeconds: number;
}

export type AdmissionOutcome =
  | { readonly kind: 'created'; readonly job: Job; readonly steps: readonly Step[] }
  /**
   * The same command (same tenant, key and request hash) was admitted within the window.
   * `job` is absent while the first admission is still writing it (or if it died doing so).
   */
  | {
      readonly kind: 'duplicate';
      readonly jobId: string;
      readonly job?: Job;
      readonly steps: readonly Step[];
    };

export interface JobWithSteps {
  readonly job: Job;
  /** In protocol order. */
  readonly steps: readonly Step[];
}

export interface JobListQuery {
  readonly tenantId: string;
  readonly status?: JobStatus;
  readonly requestType?: string;
  /** 1..1000; anything else is a RangeError (the HTTP edge validates first). */
  readonly limit: number;
  /** Opaque token from a previous page. */
  readonly continuation?: string;
}

export interface JobSummary {
  readonly jobId: string;
  readonly tenantId: string;
  readonly requestType: string;
  readonly status: JobStatus;
  readonly lane: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A job in flight as the sweepers' work list shows it: one entry per job from admission (written
 * before the job row, so an admission that dies half-way is still found) until the job ends.
 * `shard` is the job's lane; `checkAt` is when a sweeper should look at it next.
 */
export interface ActiveJobEntry {
  readonly jobId: string;
  readonly tenantId: string;
  readonly shard: number;
  readonly checkAt: string;
  readonly createdAt: string;
  /** The admission's idempotency record, so an orphan record can be found and removed. */
  readonly idempotencyScope: string;
}

/** A finished job as the retention list shows it (one entry per terminal job, by finish time). */
export interface FinishedJobEntry {
  readonly jobId: string;
  readonly tenantId: string;
  readonly finishedAt: string;
}

/** A tenant's in-flight counter as stored, with the version a correction must match. */
export interface InflightCounter {
  readonly tenantId: string;
  readonly count: number;
  /** Opaque (the row's ETag): changes with every write of the counter. */
  readonly version: string;
  /** Set by `markInflightSuspect`: the count the jobs in flight gave when drift was first seen. */
  readonly suspect?: { readonly expected: number; readonly seenAt: string };
}

export interface JobPage {
  /** Newest first. */
  readonly items: readonly JobSummary[];
  /** Present when more items may follow. */
  readonly continuation?: string;
}

export interface JobLedger {
  /**
   * Records a new job with its steps, its idempotency record and its index entry, and takes one
   * in-flight slot of the tenant; or recognises a duplicate.
   * Checks, in order: a live idempotency record with the same request hash → `duplicate` (even at
   * capacity); with another hash → IdempotencyConflictError; the tenant at capacity →
   * TenantAtCapacityError, and nothing is left written. Concurrent identical admissions create one job.
   */
  admit(record: AdmissionRecord, limits: AdmissionLimits, now: Date): Promise<AdmissionOutcome>;

  /** The job and its steps in order, or undefined. */
  getJob(jobId: string): Promise<JobWithSteps | undefined>;

  /** A tenant's jobs, newest first, filtered by status and request type. Bad token: InvalidContinuationError. */
  listJobs(query: JobListQuery): Promise<JobPage>;

  /**
   * Applies a job event through the job state machine as a conditional write (retrying on conflicts).
   * Entering a terminal state releases the tenant's in-flight slot, exactly once.
   *
   * Leaving a terminal state (REDRIVE of a FAILED job) takes a slot of the tenant again, before the
   * job is written: at the limit it throws TenantAtCapacityError and nothing is written. `limits` is
   * required then (RangeError without it). If the job write then does not apply (a concurrent
   * redrive won, or the job is no longer FAILED), the slot is given back, so concurrent redrives of
   * one job take exactly one slot; until it is given back, a losing redrive's slot counts against the
   * limit.
   *
   * Throws JobNotFoundError, InvalidTransitionError (e.g. REDRIVE of a job that is not FAILED),
   * TenantAtCapacityError.
   */
  applyJobEvent(jobId: string, event: JobEvent, now: Date, limits?: InflightLimits): Promise<Transition<Job>>;

  /**
   * Applies a step event through the step state machine as a conditional write (retrying on conflicts).
   * Throws JobNotFoundError, StepNotFoundError, InvalidTransitionError, StaleLeaseError.
   */
  applyStepEvent(jobId: string, stepId: string, event: StepEvent, now: Date): Promise<StepTransition>;

  /** Counts a reply that was not applied (stale lease or duplicate) on the step; no update is lost. */
  recordIgnoredReply(jobId: string, stepId: string, kind: 'stale' | 'duplicate', now: Date): Promise<Step>;

  /** The tenant's current in-flight count. */
  inflightCount(tenantId: string): Promise<number>;

  /** Resolves when the backing store answers; throws LedgerUnavailableError otherwise. */
  ping(): Promise<void>;

  // ---- The sweepers' work lists (docs/reconciliation.md: whatever a sweeper must find is listed, so a sweep is O(due)) ----

  /**
   * Active jobs of `shard` whose `checkAt` is at or before `now`, soonest first, at most `limit`.
   * Never reads finished jobs.
   */
  listDueJobs(shard: number, now: Date, limit: number): Promise<readonly ActiveJobEntry[]>;

  /** Moves an active job's next check. No-op when the job has no entry (it ended meanwhile). */
  scheduleCheck(jobId: string, shard: number, checkAt: Date): Promise<void>;

  /** Removes an active entry whose job ended or never committed. No-op when absent. */
  dropActiveEntry(jobId: string, shard: number): Promise<void>;

  /** Jobs in flight per tenant, counted from the active entries whose job row exists and is not terminal. */
  countActiveJobs(): Promise<ReadonlyMap<string, number>>;

  /** Finished jobs whose `finishedAt` is before `before`, oldest first, at most `limit`. */
  listFinishedJobs(before: Date, limit: number): Promise<readonly FinishedJobEntry[]>;

  /**
   * Removes a finished job and everything it left: its row, its steps, its tenant index row, its
   * retention entry and its idempotency record (only if the record still names this job).
   * Resolves false when there is no such job; throws InvalidTransitionError when it has not ended.
   */
  purgeJob(jobId: string): Promise<boolean>;

  /**
   * Removes the idempotency record `idempotencyScope` of `tenantId` if it names `jobId` and that job
   * does not exist (an admission that died before its job row), with whatever else that admission
   * left listed under the tenant. Resolves true when a record was removed.
   */
  removeOrphanIdempotency(
    orphan: Pick<ActiveJobEntry, 'tenantId' | 'idempotencyScope' | 'jobId'>,
  ): Promise<boolean>;

  /**
   * Appends a repair to the job (conditional write; the history keeps the last 20). With
   * `countsRestart`, also counts one orchestration restart. Throws JobNotFoundError.
   */
  recordRepair(jobId: string, repair: Repair, options?: { readonly countsRestart?: boolean }): Promise<Job>;

  /** Every tenant's in-flight counter. */
  listInflightCounters(): Promise<readonly InflightCounter[]>;

  /**
   * Notes on the counter that the jobs in flight gave `expected`, if the counter is still at
   * `version`. Resolves false when the counter changed meanwhile.
   */
  markInflightSuspect(tenantId: string, version: string, expected: number, now: Date): Promise<boolean>;

  /** Sets the counter to `count` (clearing the suspicion) if it is still at `version`; false otherwise. */
  correctInflight(tenantId: string, version: string, count: number): Promise<boolean>;
}
