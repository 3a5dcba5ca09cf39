/**
 * In-memory ledger: the reference backend for unit tests and the `memory` setting.
 * Every operation runs to completion within one turn of the event loop, so reads and writes of one
 * call are never interleaved with another call's: the same guarantees as the conditional writes of
 * the Table backends, without versions.
 */
import { isWithinWindow } from '../domain/idempotency';
import { isTerminalJobStatus, transitionJob, type Job, type JobEvent, type Transition } from '../domain/job';
import {
  noteIgnoredReply,
  transitionStep,
  type Step,
  type StepEvent,
  type StepTransition,
} from '../domain/step';
import {
  IdempotencyConflictError,
  JobNotFoundError,
  StepNotFoundError,
  TenantAtCapacityError,
} from './errors';
import {
  inflightLimitFor,
  reentersFlight,
  toJobSummary,
  type AdmissionLimits,
  type AdmissionOutcome,
  type AdmissionRecord,
  type InflightLimits,
  type JobLedger,
  type JobListQuery,
  type JobPage,
  type JobSummary,
  type JobWithSteps,
} from './job-ledger';
import { decodeContinuation, encodeContinuation, indexRowKey } from './keys';

const MAX_LIST_LIMIT = 1000;

interface IdempotencyEntry {
  readonly jobId: string;
  readonly requestHash: string;
  readonly createdAt: string;
}

export class MemoryJobLedger implements JobLedger {
  private readonly jobs = new Map<string, Job>();
  private readonly steps = new Map<string, Step[]>();
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private readonly inflight = new Map<string, number>();
  /** tenant → index row key → job id, kept sorted on read. */
  private readonly index = new Map<string, Map<string, string>>();

  async admit(record: AdmissionRecord, limits: AdmissionLimits, now: Date): Promise<AdmissionOutcome> {
    await Promise.resolve();
    const { job, steps, idempotency } = record;
    const existing = this.idempotency.get(idempotency.scopeId);
    if (existing !== undefined && isWithinWindow(existing.createdAt, now, limits.idempotencyTtlHours)) {
      if (existing.requestHash !== idempotency.requestHash) {
        throw new IdempotencyConflictError(job.tenantId, idempotency.key, existing.jobId);
      }
      const found = this.jobs.get(existing.jobId);
      return found === undefined
        ? { kind: 'duplicate', jobId: existing.jobId, steps: [] }
        : { kind: 'duplicate', jobId: existing.jobId, job: found, steps: this.stepsOf(existing.jobId) };
    }
    const count = this.inflight.get(job.tenantId) ?? 0;
    if (count >= limits.maxInflightPerTenant)
      throw new TenantAtCapacityError(job.tenantId, limits.maxInflightPerTenant);

    this.inflight.set(job.tenantId, count + 1);
    this.idempotency.set(idempotency.scopeId, {
      jobId: job.jobId,
      requestHash: idempotency.requestHash,
      createdAt: job.createdAt,
    });
    this.jobs.set(job.jobId, job);
    this.steps.set(
      job.jobId,
      [...steps].sort((a, b) => a.index - b.index),
    );
    this.tenantIndex(job.tenantId).set(indexRowKey(job.createdAt, job.jobId), job.jobId);
    return { kind: 'created', job, steps: this.stepsOf(job.jobId) };
  }

  async getJob(jobId: string): Promise<JobWithSteps | undefined> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    return job === undefined ? undefined : { job, steps: this.stepsOf(jobId) };
  }

  async listJobs(query: JobListQuery): Promise<JobPage> {
    await Promise.resolve();
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
      throw new RangeError(`limit must be an integer in 1..${MAX_LIST_LIMIT}, got ${query.limit}`);
    }
    const after = query.continuation === undefined ? undefined : decodeContinuation(query.continuation);
    const rows = [...this.tenantIndex(query.tenantId).entries()]
      .filter(([rowKey]) => after === undefined || rowKey > after)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items: JobSummary[] = [];
    let lastRowKey: string | undefined;
    let more = false;
    for (const [rowKey, jobId] of rows) {
      const job = this.jobs.get(jobId);
      if (job === undefined) continue;
      if (query.status !== undefined && job.status !== query.status) continue;
      if (query.requestType !== undefined && job.requestType !== query.requestType) continue;
      if (items.length === query.limit) {
        more = true;
        break;
      }
      items.push(toJobSummary(job));
      lastRowKey = rowKey;
    }
    return more && lastRowKey !== undefined
      ? { items, continuation: encodeContinuation(lastRowKey) }
      : { items };
  }

  async applyJobEvent(
    jobId: string,
    event: JobEvent,
    now: Date,
    limits?: InflightLimits,
  ): Promise<Transition<Job>> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new JobNotFoundError(jobId);
    const transition = transitionJob(job, event, now);
    if (!transition.changed) return transition;
    if (reentersFlight(job.status, transition.next.status)) {
      const limit = inflightLimitFor(jobId, event, limits);
      const count = this.inflight.get(job.tenantId) ?? 0;
      if (count >= limit) throw new TenantAtCapacityError(job.tenantId, limit);
      this.inflight.set(job.tenantId, count + 1);
    }
    this.jobs.set(jobId, transition.next);
    if (isTerminalJobStatus(transition.next.status) && !isTerminalJobStatus(job.status)) {
      this.inflight.set(job.tenantId, Math.max(0, (this.inflight.get(job.tenantId) ?? 0) - 1));
    }
    return transition;
  }

  async applyStepEvent(jobId: string, stepId: string, event: StepEvent, now: Date): Promise<StepTransition> {
    await Promise.resolve();
    const { steps, position } = this.locateStep(jobId, stepId);
    const transition = transitionStep(steps[position] as Step, event, now);
    if (transition.changed) steps[position] = transition.next;
    return transition;
  }

  async recordIgnoredReply(
    jobId: string,
    stepId: string,
    kind: 'stale' | 'duplicate',
    now: Date,
  ): Promise<Step> {
    await Promise.resolve();
    const { steps, position } = this.locateStep(jobId, stepId);
    const next = noteIgnoredReply(steps[position] as Step, kind, now);
    steps[position] = next;
    return next;
  }

  async inflightCount(tenantId: string): Promise<number> {
    await Promise.resolve();
    return this.inflight.get(tenantId) ?? 0;
  }

  async ping(): Promise<void> {
    await Promise.resolve();
  }

  private stepsOf(jobId: string): Step[] {
    return [...(this.steps.get(jobId) ?? [])];
  }

  private locateStep(jobId: string, stepId: string): { steps: Step[]; position: number } {
    const steps = this.steps.get(jobId);
    if (steps === undefined || !this.jobs.has(jobId)) throw new JobNotFoundError(jobId);
    const position = steps.findIndex((s) => s.stepId === stepId);
    if (position < 0) throw new StepNotFoundError(jobId, stepId);
    return { steps, position };
  }

  private tenantIndex(tenantId: string): Map<string, string> {
    let rows = this.index.get(tenantId);
    if (rows === undefined) {
      rows = new Map();
      this.index.set(tenantId, rows);
    }
    return rows;
  }
}
