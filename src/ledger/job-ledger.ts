/**
 * The ledger port: where jobs, their steps, idempotency records, the tenant job index and the
 * per-tenant in-flight counts live. Backends: memory, table (separate tables), ledger (single table).
 * Every backend passes the same contract suite (test/contract/ledger).
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
 * never appears (a duplicate then answers without `job` until the record expires); one that dies
 * between a job's terminal write and the counter update leaves a slot taken. These are repaired by a
 * reconciling sweep (the drift sweeper), never by guessing here.
 * Job ids are letters, digits and dashes (UUIDs); other ids are never found.
 */
import type { IdempotencyIdentity } from '../domain/idempotency';
import { isTerminalJobStatus, type Job, type JobEvent, type JobStatus, type Transition } from '../domain/job';
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

/** The summary a listing shows of a job. */
export function toJobSummary(job: Job): JobSummary {
  return {
    jobId: job.jobId,
    tenantId: job.tenantId,
    requestType: job.requestType,
    status: job.status,
    lane: job.lane,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** The transition takes a job out of a terminal state back into flight (a redrive): it needs a slot. */
export function reentersFlight(from: JobStatus, to: JobStatus): boolean {
  return isTerminalJobStatus(from) && !isTerminalJobStatus(to);
}

/** The limit a transition back into flight is checked against; a caller that gave none is a bug. */
export function inflightLimitFor(jobId: string, event: JobEvent, limits: InflightLimits | undefined): number {
  if (limits === undefined)
    throw new RangeError(
      `job ${jobId}: ${event.type} takes an in-flight slot, so applyJobEvent needs limits`,
    );
  return limits.maxInflightPerTenant;
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
}
