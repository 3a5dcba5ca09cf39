/**
 * Cancel and redrive, as the HTTP API asks for them (for a tenant; another tenant's job is unknown).
 *
 * cancelTenantJob: the job and its unfinished steps become CANCELLED in the ledger at once (so a
 * read right after shows it), then the orchestration is told (`cancel` event): it stops waiting,
 * tells the worker holding the current attempt (a cancel directive on its lane) and ends. Cancelling
 * a CANCELLED job again changes nothing; a job that ended otherwise cannot be cancelled
 * (InvalidTransitionError, 409).
 *
 * redriveTenantJob: a FAILED job becomes RUNNING again (taking an in-flight slot: 429 at capacity),
 * its failed step FAILED_RETRY with a fresh attempt budget, and a new orchestration run starts that
 * skips the succeeded steps and keeps their outputs. A RUNNING job is only (re)started if its
 * orchestration is not running, which completes a redrive whose start failed (503 then; resend) and
 * revives a job whose orchestration was terminated or lost: the new run starts from the ledger,
 * whatever state its steps are in (an attempt in flight is adopted under its lease, a DISPATCHING one
 * published again with the same message id, a FAILED_RETRY one dispatched). The run enforces a new
 * job deadline window (`runDeadline`).
 * Anything else is InvalidTransitionError (409).
 */
import type { Clock } from '../domain/clock';
import { InvalidTransitionError } from '../domain/errors';
import type { Job } from '../domain/job';
import type { JobLedger, JobWithSteps } from '../ports/job-ledger';
import { CANCEL_EVENT, type CancelEvent } from '../contracts/job-protocol';
import type { OrchestrationSignals } from '../ports/orchestration-signals';
import type { OrchestrationStarter } from '../ports/orchestration-starter';
import { cancelInLedger } from './job-activities';
import { getTenantJob } from './read-jobs';
import type { Telemetry } from '../ports/telemetry';
import { telemetryOf } from './lifecycle-telemetry';

export interface ControlJobDeps {
  readonly ledger: JobLedger;
  readonly clock: Clock;
  /** Bound to the invocation (the durable client comes from its input binding). */
  readonly signals: OrchestrationSignals;
  readonly starter: OrchestrationStarter;
  /** A redrive takes an in-flight slot of the tenant again: TenantAtCapacityError at this many. */
  readonly maxInflightPerTenant: number;
  /** `job.cancelled` and the in-flight level (silent when absent). */
  readonly telemetry?: Telemetry;
}

export interface ControlResult extends JobWithSteps {
  /** False when the job already was in the state asked for. */
  readonly changed: boolean;
}

export async function cancelTenantJob(
  deps: Pick<ControlJobDeps, 'ledger' | 'clock' | 'signals' | 'telemetry'>,
  tenantId: string,
  jobId: string,
  reason?: string,
): Promise<ControlResult> {
  const before = await getTenantJob(deps, tenantId, jobId);
  const status = await cancelInLedger(deps.ledger, jobId, reason, deps.clock.now(), telemetryOf(deps));
  if (status !== 'CANCELLED') {
    throw new InvalidTransitionError('job', jobId, status, 'CANCEL');
  }
  const event: CancelEvent = reason === undefined ? {} : { reason };
  await deps.signals.raise(jobId, CANCEL_EVENT, event);
  const after = await getTenantJob(deps, tenantId, jobId);
  return { ...after, changed: before.job.status !== 'CANCELLED' };
}

export async function redriveTenantJob(
  deps: Pick<ControlJobDeps, 'ledger' | 'clock' | 'starter' | 'maxInflightPerTenant' | 'telemetry'>,
  tenantId: string,
  jobId: string,
): Promise<ControlResult> {
  const { ledger, clock } = deps;
  const before = await getTenantJob(deps, tenantId, jobId);
  let job: Job = before.job;
  let won = false;
  if (job.status === 'FAILED') {
    try {
      const t = await ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, clock.now(), {
        maxInflightPerTenant: deps.maxInflightPerTenant,
      });
      job = t.next;
      won = t.changed;
      // The redriven job holds an in-flight slot of its tenant again.
      if (won) telemetryOf(deps).adjust('lucius.tenant.inflight', 1, { tenant_id: job.tenantId });
    } catch (error) {
      // A concurrent redrive of the same job won: carry on with the job as it now is.
      if (!(error instanceof InvalidTransitionError)) throw error;
      job = (await getTenantJob(deps, tenantId, jobId)).job;
    }
  }
  if (job.status !== 'RUNNING') throw new InvalidTransitionError('job', jobId, job.status, 'REDRIVE');
  // The failed step gets a fresh attempt budget (also completes a redrive interrupted here); so do
  // steps cancelled because the job failed as a whole (its deadline passed, its orchestration was
  // lost). Only while the job runs: a cancel that won meanwhile keeps its steps cancelled.
  const current = await getTenantJob(deps, tenantId, jobId);
  for (const step of current.job.status === 'RUNNING' ? current.steps : []) {
    if (step.status === 'FAILED_FINAL' || step.status === 'CANCELLED')
      await ledger.applyStepEvent(jobId, step.stepId, { type: 'REDRIVE' }, clock.now());
  }
  await deps.starter.restart({
    jobId,
    tenantId: job.tenantId,
    requestType: job.requestType,
    drive: job.redrives,
  });
  const after = await getTenantJob(deps, tenantId, jobId);
  return { ...after, changed: won };
}
