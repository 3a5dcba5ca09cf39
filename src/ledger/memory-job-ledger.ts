/**
 * In-memory ledger: the reference backend for unit tests and the `memory` setting.
 * Every operation runs to completion within one turn of the event loop, so reads and writes of one
 * call are never interleaved with another call's: the same guarantees as the conditional writes of
 * the Table backends. Versions exist only where the port shows them (the in-flight counters: a
 * revision number that every write of the counter advances).
 *
 * Admission writes in the same order as the Table backends (slot, idempotency record, active entry,
 * then the job as the commit point, in `commitJob`), so a subclass can stop it at the commit point
 * to leave what a process dying there leaves.
 */
import { InvalidTransitionError } from '../domain/errors';
import { idempotencyScopeId, isOrphanPastGrace, isWithinWindow } from '../domain/idempotency';
import { appendRepair, type Repair } from '../domain/repair';
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
  type ActiveJobEntry,
  type AdmissionLimits,
  type AdmissionOutcome,
  type AdmissionRecord,
  type FinishedJobEntry,
  type InflightCounter,
  type InflightLimits,
  type JobLedger,
  type JobListQuery,
  type JobPage,
  type JobSummary,
  type JobWithSteps,
} from '../ports/job-ledger';
import { activeEntryOf, inflightLimitFor, reentersFlight, toJobSummary } from './ledger-rules';
import { decodeContinuation, encodeContinuation, indexRowKey } from './keys';

const MAX_LIST_LIMIT = 1000;

interface IdempotencyEntry {
  readonly jobId: string;
  readonly requestHash: string;
  readonly createdAt: string;
}

interface CounterState {
  readonly count: number;
  readonly revision: number;
  readonly suspect?: InflightCounter['suspect'];
}

export class MemoryJobLedger implements JobLedger {
  private readonly jobs = new Map<string, Job>();
  private readonly steps = new Map<string, Step[]>();
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private readonly inflight = new Map<string, CounterState>();
  /** job id → its active entry (the shard is in the entry). */
  private readonly active = new Map<string, ActiveJobEntry>();
  /** job id → its finished entry. */
  private readonly finished = new Map<string, FinishedJobEntry>();
  /** tenant → index row key → job id, kept sorted on read. */
  private readonly index = new Map<string, Map<string, string>>();

  async admit(record: AdmissionRecord, limits: AdmissionLimits, now: Date): Promise<AdmissionOutcome> {
    await Promise.resolve();
    const { job, idempotency } = record;
    const existing = this.idempotency.get(idempotency.scopeId);
    if (existing !== undefined && isWithinWindow(existing.createdAt, now, limits.idempotencyTtlHours)) {
      if (existing.requestHash !== idempotency.requestHash) {
        throw new IdempotencyConflictError(job.tenantId, idempotency.key, existing.jobId);
      }
      const found = this.jobs.get(existing.jobId);
      if (found !== undefined)
        return { kind: 'duplicate', jobId: existing.jobId, job: found, steps: this.stepsOf(existing.jobId) };
      // An orphan past its grace (its admission died before the job) is claimed over like an expired record.
      if (!isOrphanPastGrace(existing.createdAt, now, limits.orphanGraceSeconds))
        return { kind: 'duplicate', jobId: existing.jobId, steps: [] };
    }
    const count = this.countOf(job.tenantId);
    if (count >= limits.maxInflightPerTenant)
      throw new TenantAtCapacityError(job.tenantId, limits.maxInflightPerTenant);

    this.setCount(job.tenantId, count + 1);
    this.idempotency.set(idempotency.scopeId, {
      jobId: job.jobId,
      requestHash: idempotency.requestHash,
      createdAt: now.toISOString(),
    });
    this.active.set(
      job.jobId,
      activeEntryOf(job, new Date(now.getTime() + limits.orphanGraceSeconds * 1000), idempotency.scopeId),
    );
    this.commitJob(record);
    return { kind: 'created', job, steps: this.stepsOf(job.jobId) };
  }

  /** The commit point of an admission: the job, its steps and its index entry appear together. */
  protected commitJob(record: AdmissionRecord): void {
    const { job, steps } = record;
    this.jobs.set(job.jobId, job);
    this.steps.set(
      job.jobId,
      [...steps].sort((a, b) => a.index - b.index),
    );
    this.tenantIndex(job.tenantId).set(indexRowKey(job.createdAt, job.jobId), job.jobId);
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
    if (!transition.changed) {
      // A run over a job already RUNNING lists it again if nothing lists it (as the Table backends).
      if (event.type === 'START' && !this.active.has(jobId)) this.active.set(jobId, activeEntryOf(job, now));
      return transition;
    }
    const next = transition.next;
    if (reentersFlight(job.status, next.status)) {
      const limit = inflightLimitFor(jobId, event, limits);
      const count = this.countOf(job.tenantId);
      if (count >= limit) throw new TenantAtCapacityError(job.tenantId, limit);
      this.setCount(job.tenantId, count + 1);
      this.finished.delete(jobId);
      this.active.set(jobId, activeEntryOf(next, now));
    }
    this.jobs.set(jobId, next);
    if (isTerminalJobStatus(next.status) && !isTerminalJobStatus(job.status)) {
      this.setCount(job.tenantId, Math.max(0, this.countOf(job.tenantId) - 1));
      this.active.delete(jobId);
      const finishedAt = next.finishedAt ?? next.updatedAt;
      this.finished.set(jobId, { jobId, tenantId: next.tenantId, finishedAt });
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
    return this.countOf(tenantId);
  }

  async ping(): Promise<void> {
    await Promise.resolve();
  }

  // ---- The sweepers' work lists ----

  async listDueJobs(shard: number, now: Date, limit: number): Promise<readonly ActiveJobEntry[]> {
    await Promise.resolve();
    checkLimit(limit);
    const at = now.toISOString();
    return [...this.active.values()]
      .filter((entry) => entry.shard === shard && entry.checkAt <= at)
      .sort((a, b) => compare(a.checkAt, b.checkAt) || compare(a.jobId, b.jobId))
      .slice(0, limit);
  }

  async scheduleCheck(jobId: string, shard: number, checkAt: Date): Promise<void> {
    await Promise.resolve();
    const entry = this.active.get(jobId);
    if (entry !== undefined && entry.shard === shard)
      this.active.set(jobId, { ...entry, checkAt: checkAt.toISOString() });
  }

  async dropActiveEntry(jobId: string, shard: number): Promise<void> {
    await Promise.resolve();
    if (this.active.get(jobId)?.shard === shard) this.active.delete(jobId);
  }

  async countActiveJobs(): Promise<ReadonlyMap<string, number>> {
    await Promise.resolve();
    const counts = new Map<string, number>();
    for (const entry of this.active.values()) {
      const job = this.jobs.get(entry.jobId);
      if (job === undefined || isTerminalJobStatus(job.status)) continue;
      counts.set(entry.tenantId, (counts.get(entry.tenantId) ?? 0) + 1);
    }
    return counts;
  }

  async listFinishedJobs(before: Date, limit: number): Promise<readonly FinishedJobEntry[]> {
    await Promise.resolve();
    checkLimit(limit);
    const at = before.toISOString();
    return [...this.finished.values()]
      .filter((entry) => entry.finishedAt < at)
      .sort((a, b) => compare(a.finishedAt, b.finishedAt) || compare(a.jobId, b.jobId))
      .slice(0, limit);
  }

  async purgeJob(jobId: string): Promise<boolean> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    if (job === undefined) return false;
    if (!isTerminalJobStatus(job.status)) throw new InvalidTransitionError('job', jobId, job.status, 'PURGE');
    const scope = idempotencyScopeId(job.tenantId, job.idempotencyKey);
    if (this.idempotency.get(scope)?.jobId === jobId) this.idempotency.delete(scope);
    this.tenantIndex(job.tenantId).delete(indexRowKey(job.createdAt, jobId));
    this.active.delete(jobId);
    this.finished.delete(jobId);
    this.steps.delete(jobId);
    this.jobs.delete(jobId);
    return true;
  }

  async removeOrphanIdempotency(
    orphan: Pick<ActiveJobEntry, 'tenantId' | 'idempotencyScope' | 'jobId'>,
  ): Promise<boolean> {
    await Promise.resolve();
    const { idempotencyScope: scope, jobId } = orphan;
    if (this.idempotency.get(scope)?.jobId !== jobId || this.jobs.has(jobId)) return false;
    this.idempotency.delete(scope);
    return true;
  }

  async recordRepair(
    jobId: string,
    repair: Repair,
    options: { readonly countsRestart?: boolean } = {},
  ): Promise<Job> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new JobNotFoundError(jobId);
    const next: Job = {
      ...job,
      repairs: appendRepair(job.repairs, repair),
      orchestrationRestarts: job.orchestrationRestarts + (options.countsRestart === true ? 1 : 0),
    };
    this.jobs.set(jobId, next);
    return next;
  }

  async listInflightCounters(): Promise<readonly InflightCounter[]> {
    await Promise.resolve();
    return [...this.inflight.entries()].map(([tenantId, state]) => ({
      tenantId,
      count: state.count,
      version: String(state.revision),
      ...(state.suspect === undefined ? {} : { suspect: state.suspect }),
    }));
  }

  async markInflightSuspect(
    tenantId: string,
    version: string,
    expected: number,
    now: Date,
  ): Promise<boolean> {
    await Promise.resolve();
    const state = this.inflight.get(tenantId);
    if (state === undefined || String(state.revision) !== version) return false;
    this.inflight.set(tenantId, {
      count: state.count,
      revision: state.revision + 1,
      suspect: { expected, seenAt: now.toISOString() },
    });
    return true;
  }

  async correctInflight(tenantId: string, version: string, count: number): Promise<boolean> {
    await Promise.resolve();
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`an in-flight count is a non-negative integer, got ${count}`);
    const state = this.inflight.get(tenantId);
    if (state === undefined || String(state.revision) !== version) return false;
    this.setCount(tenantId, count);
    return true;
  }

  private countOf(tenantId: string): number {
    return this.inflight.get(tenantId)?.count ?? 0;
  }

  /** Every write of a counter advances its revision and drops a suspicion about the old count. */
  private setCount(tenantId: string, count: number): void {
    const revision = (this.inflight.get(tenantId)?.revision ?? 0) + 1;
    this.inflight.set(tenantId, { count, revision });
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

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
