/**
 * Deleting a finished job for a tenant (DELETE /v1/jobs/{jobId}): its orchestration history is
 * purged, then every ledger row it left (job, steps, index, retention entry, idempotency record), as
 * the retention sweep does. Unknown, or another tenant's: JobNotFoundError. Not finished (or
 * redriven meanwhile): InvalidTransitionError, and nothing is deleted.
 */
import { InvalidTransitionError } from '../domain/errors';
import { isTerminalJobStatus } from '../domain/job';
import type { JobLedger } from '../ports/job-ledger';
import type { OrchestrationControl } from '../ports/orchestration-control';
import { getTenantJob } from './read-jobs';

export interface DeleteJobDeps {
  readonly ledger: JobLedger;
  readonly control: Pick<OrchestrationControl, 'purge'>;
}

export async function deleteTenantJob(deps: DeleteJobDeps, tenantId: string, jobId: string): Promise<void> {
  const { job } = await getTenantJob(deps, tenantId, jobId);
  if (!isTerminalJobStatus(job.status)) throw new InvalidTransitionError('job', jobId, job.status, 'DELETE');
  await deps.control.purge(jobId);
  await deps.ledger.purgeJob(jobId);
}
