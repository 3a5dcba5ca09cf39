/**
 * What a ledger change tells the operators: the lifecycle event and the metrics of a job or step
 * transition that was applied (`changed`), said once per change by the writer that made it.
 *
 * - Jobs: `job.accepted` (+ `lucius.jobs.admitted`, in-flight +1); `job.succeeded`, `job.failed`,
 *   `job.cancelled` (+ `lucius.jobs.finished` by status and request type, in-flight -1).
 * - Steps: `step.dispatched` (published: + `lucius.step.attempts`), `step.acked`
 *   (+ `lucius.step.ack_latency`), `step.retry` (+ `lucius.step.retries` by failure class),
 *   `step.failed` and `step.succeeded` (+ `lucius.step.duration`).
 */
import type { Job, JobStatus } from '../domain/job';
import type { Step, StepEvent } from '../domain/step';
import { SILENT_TELEMETRY } from '../telemetry/memory-telemetry';
import type { Telemetry } from '../ports/telemetry';

/** Where a use case reports to: its optional `telemetry` dependency, silent when none is wired. */
export function telemetryOf(deps: { readonly telemetry?: Telemetry }): Telemetry {
  return deps.telemetry ?? SILENT_TELEMETRY;
}

export function jobAccepted(telemetry: Telemetry, job: Job): void {
  telemetry.event('job.accepted', {
    job_id: job.jobId,
    tenant_id: job.tenantId,
    request_type: job.requestType,
    lane: job.lane,
    routing_key_used: job.routingKeyUsed,
    steps: job.stepIds.length,
  });
  telemetry.count('lucius.jobs.admitted', { request_type: job.requestType });
  telemetry.adjust('lucius.tenant.inflight', 1, { tenant_id: job.tenantId });
}

const FINISHED_EVENTS = {
  SUCCEEDED: 'job.succeeded',
  FAILED: 'job.failed',
  CANCELLED: 'job.cancelled',
} as const;

/** A job reached an end (the transition that ended it was applied by the caller). */
export function jobFinished(telemetry: Telemetry, job: Job): void {
  const status = job.status as JobStatus;
  if (status !== 'SUCCEEDED' && status !== 'FAILED' && status !== 'CANCELLED') return;
  const durationMs =
    job.finishedAt === undefined ? undefined : Date.parse(job.finishedAt) - Date.parse(job.createdAt);
  telemetry.event(FINISHED_EVENTS[status], {
    job_id: job.jobId,
    tenant_id: job.tenantId,
    step_id: job.failure?.stepId,
    request_type: job.requestType,
    failure_class: job.failure?.failureClass,
    reason: job.failure?.message ?? job.cancelReason,
    duration_ms: durationMs,
  });
  telemetry.count('lucius.jobs.finished', { status: status.toLowerCase(), request_type: job.requestType });
  telemetry.adjust('lucius.tenant.inflight', -1, { tenant_id: job.tenantId });
}

export interface StepContext {
  /** The job's tenant, when the writer has the job at hand. */
  readonly tenantId?: string;
  /** The ACK timeout, to date an attempt's dispatch from its ACK deadline (ACK latency). */
  readonly ackTimeoutSeconds?: number;
  readonly now: Date;
}

/** A step event the caller applied (`changed`), seen in the step it produced. */
export function stepChanged(telemetry: Telemetry, event: StepEvent, step: Step, context: StepContext): void {
  const fields = {
    job_id: step.jobId,
    tenant_id: context.tenantId,
    step_id: step.stepId,
    attempt_no: step.attemptNo,
    step_type: step.type,
    lane: step.lane,
  };
  const stepType = { step_type: step.type };
  switch (event.type) {
    case 'PUBLISHED':
      telemetry.event('step.dispatched', { ...fields, lease_id: step.leaseId });
      telemetry.count('lucius.step.attempts', stepType);
      return;
    case 'ACK': {
      const dispatchedAt =
        step.ackDeadline === undefined || context.ackTimeoutSeconds === undefined
          ? undefined
          : Date.parse(step.ackDeadline) - context.ackTimeoutSeconds * 1000;
      const latency = dispatchedAt === undefined ? undefined : context.now.getTime() - dispatchedAt;
      telemetry.event('step.acked', { ...fields, ack_latency_ms: latency });
      if (latency !== undefined) telemetry.record('lucius.step.ack_latency', latency, stepType);
      return;
    }
    default:
      break;
  }
  switch (step.status) {
    case 'FAILED_RETRY':
      telemetry.event('step.retry', {
        ...fields,
        failure_class: step.failure?.failureClass,
        reason: step.failure?.message,
        retry_delay_ms: step.failure?.retryDelayMs,
      });
      telemetry.count('lucius.step.retries', {
        ...stepType,
        failure_class: step.failure?.failureClass ?? 'UNKNOWN',
      });
      return;
    case 'FAILED_FINAL':
      telemetry.event('step.failed', {
        ...fields,
        failure_class: step.failure?.failureClass,
        reason: step.failure?.message,
      });
      recordDuration(telemetry, step, 'failed');
      return;
    case 'SUCCEEDED':
      telemetry.event('step.succeeded', { ...fields, output_ref: step.outputRef });
      recordDuration(telemetry, step, 'succeeded');
      return;
    default:
      return;
  }
}

function recordDuration(telemetry: Telemetry, step: Step, status: string): void {
  if (step.startedAt === undefined || step.finishedAt === undefined) return;
  const duration = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
  telemetry.record('lucius.step.duration', duration, { step_type: step.type, status });
}
