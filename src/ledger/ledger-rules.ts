/**
 * What every JobLedger backend (memory, table, ledger) shares beyond the port (src/ports/job-ledger.ts):
 * the summary a listing shows of a job, the in-flight rules of a job event, and a job's entry on the
 * sweepers' active list.
 */
import { idempotencyScopeId } from '../domain/idempotency';
import { isTerminalJobStatus, type Job, type JobEvent, type JobStatus } from '../domain/job';
import type { ActiveJobEntry, InflightLimits, JobSummary } from '../ports/job-ledger';

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

/**
 * The job's entry on the sweepers' active list, due at `checkAt`. The idempotency scope is the
 * admission's (given at admission; derived from the job otherwise).
 */
export function activeEntryOf(
  job: Job,
  checkAt: Date,
  idempotencyScope: string = idempotencyScopeId(job.tenantId, job.idempotencyKey),
): ActiveJobEntry {
  return {
    jobId: job.jobId,
    tenantId: job.tenantId,
    shard: job.lane,
    checkAt: checkAt.toISOString(),
    createdAt: job.createdAt,
    idempotencyScope,
  };
}
