/**
 * Converters from domain records to the API's JSON views (camelCase), with links.
 * Links are absolute, built from the request's origin and the `/api` route prefix.
 */
import type { Job } from '../domain/job';
import type { Step } from '../domain/step';
import type { JobSummary } from '../ports/job-ledger';

export const ROUTE_PREFIX = '/api';

export interface JobLinks {
  readonly self: string;
  readonly steps: string;
}

export function jobLinks(origin: string, job: Pick<Job, 'jobId' | 'tenantId'>): JobLinks {
  const tenant = encodeURIComponent(job.tenantId);
  const base = `${origin}${ROUTE_PREFIX}/v1/jobs/${encodeURIComponent(job.jobId)}`;
  return { self: `${base}?tenant_id=${tenant}`, steps: `${base}/steps?tenant_id=${tenant}` };
}

export function toStepView(step: Step): Record<string, unknown> {
  return dropUndefined({
    stepId: step.stepId,
    index: step.index,
    type: step.type,
    status: step.status,
    lane: step.lane,
    attemptNo: step.attemptNo,
    attemptBase: step.attemptBase,
    leaseId: step.leaseId,
    ackDeadline: step.ackDeadline,
    leaseExpiresAt: step.leaseExpiresAt,
    resultDeadline: step.resultDeadline,
    inputRef: step.inputRef,
    outputRef: step.outputRef,
    result: step.result,
    failure: step.failure,
    staleReplies: step.staleReplies,
    duplicateReplies: step.duplicateReplies,
    payload: step.payload,
    createdAt: step.createdAt,
    updatedAt: step.updatedAt,
    startedAt: step.startedAt,
    finishedAt: step.finishedAt,
  });
}

export function toJobView(origin: string, job: Job, steps: readonly Step[]): Record<string, unknown> {
  return dropUndefined({
    jobId: job.jobId,
    tenantId: job.tenantId,
    requestType: job.requestType,
    status: job.status,
    redrives: job.redrives,
    inputRef: job.inputRef,
    outputRef: job.outputRef,
    lane: job.lane,
    routingKeyUsed: job.routingKeyUsed,
    priority: job.priority,
    labels: job.labels,
    correlationId: job.correlationId,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    failure: job.failure,
    cancelReason: job.cancelReason,
    deadlineAt: job.deadlineAt,
    orchestrationRestarts: job.orchestrationRestarts,
    repairs: job.repairs,
    steps: [...steps].sort((a, b) => a.index - b.index).map(toStepView),
    links: jobLinks(origin, job),
  });
}

export function toJobSummaryView(origin: string, summary: JobSummary): Record<string, unknown> {
  return { ...summary, links: jobLinks(origin, summary) };
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
