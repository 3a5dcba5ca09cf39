/**
 * Reads for a tenant. Another tenant's job answers exactly as an unknown one does (job_not_found),
 * so a caller can never learn that it exists.
 */
import type { JobStatus } from '../domain/job';
import type { Step } from '../domain/step';
import { JobNotFoundError, StepNotFoundError } from '../ledger/errors';
import type { JobLedger, JobPage, JobWithSteps } from '../ports/job-ledger';

export interface ReadJobsDeps {
  readonly ledger: JobLedger;
}

const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

export async function getTenantJob(
  deps: ReadJobsDeps,
  tenantId: string,
  jobId: string,
): Promise<JobWithSteps> {
  if (!JOB_ID.test(jobId)) throw new JobNotFoundError(jobId);
  const found = await deps.ledger.getJob(jobId);
  if (found === undefined || found.job.tenantId !== tenantId) throw new JobNotFoundError(jobId);
  return found;
}

export async function getTenantSteps(
  deps: ReadJobsDeps,
  tenantId: string,
  jobId: string,
  stepId?: string,
): Promise<readonly Step[]> {
  const { steps } = await getTenantJob(deps, tenantId, jobId);
  if (stepId === undefined) return steps;
  const step = steps.find((s) => s.stepId === stepId);
  if (step === undefined) throw new StepNotFoundError(jobId, stepId);
  return [step];
}

export interface ListTenantJobsQuery {
  readonly tenantId: string;
  readonly status?: JobStatus;
  readonly requestType?: string;
  readonly limit: number;
  readonly continuation?: string;
}

export function listTenantJobs(deps: ReadJobsDeps, query: ListTenantJobsQuery): Promise<JobPage> {
  return deps.ledger.listJobs(query);
}
