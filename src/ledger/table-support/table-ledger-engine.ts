/**
 * The JobLedger algorithms over Azure Table Storage, once, for both Table backends. Which table and
 * partition each row lives in comes from a TableLedgerLayout; everything else is shared.
 *
 * Concurrency: every state change is read → decide through the domain state machine → write with
 * If-Match on the ETag read; a lost precondition (409/412) yields the row as it now is, and the
 * decision is made again (bounded, with jittered pauses, then WriteContentionError). Nothing relies
 * on If-Match inside entity-group transactions (Azurite ignores it there).
 *
 * Admission (see `admit`):
 *   1. point-read the idempotency record: live + same hash → duplicate; live + other hash → conflict;
 *   2. take an in-flight slot (conditional counter increment; at the limit → TenantAtCapacityError,
 *      nothing written);
 *   3. claim the idempotency record (insert, or replace an expired one with If-Match; a live record
 *      whose job is still missing `orphanGraceSeconds` after it was written counts as expired: its
 *      admission died); losing the claim to a concurrent admission gives the slot back and decides
 *      again against the winner;
 *   4. add the job to the sweepers' active list (so a job that never commits is still found);
 *   5. write the steps and the job row, the job row last as the commit point (one transaction when
 *      the layout keeps them in one partition); readers that find no job row see no job;
 *   6. add the tenant's index row.
 *   A failure before the commit point withdraws the claim, gives the slot back and removes the active
 *   entry (best effort; what is left is the sweepers' to repair).
 *
 * Work lists: the writer that moves a job into a terminal state removes its active entry and adds
 * its finished entry (a replayed event on a terminal job does both again, so a retry repairs them);
 * a redrive puts the active entry back and removes the finished one.
 *
 * Redrive (a job event that takes a job from a terminal state back into flight): the slot is taken
 * first (at the limit → TenantAtCapacityError, nothing written), then the job row is written
 * conditionally; a write that does not apply (a concurrent redrive won) gives the slot back.
 *
 * Known limits (no cross-partition transactions in Table Storage): a process that dies between
 * two of these writes can leave a slot taken or an idempotency record without its job; those need
 * a reconciling sweep, they are never resolved by guessing here.
 */
import { odata } from '@azure/data-tables';
import type { TableClient } from '@azure/data-tables';
import { InvalidTransitionError } from '../../domain/errors';
import { idempotencyScopeId, isOrphanPastGrace, isWithinWindow } from '../../domain/idempotency';
import {
  isTerminalJobStatus,
  transitionJob,
  type Job,
  type JobEvent,
  type Transition,
} from '../../domain/job';
import {
  noteIgnoredReply,
  transitionStep,
  type Step,
  type StepEvent,
  type StepTransition,
} from '../../domain/step';
import { appendRepair, type Repair } from '../../domain/repair';
import {
  IdempotencyConflictError,
  JobNotFoundError,
  StepNotFoundError,
  TenantAtCapacityError,
  WriteContentionError,
} from '../errors';
import type {
  ActiveJobEntry,
  AdmissionLimits,
  AdmissionOutcome,
  AdmissionRecord,
  FinishedJobEntry,
  InflightCounter,
  InflightLimits,
  JobLedger,
  JobListQuery,
  JobPage,
  JobSummary,
  JobWithSteps,
} from '../../ports/job-ledger';
import { activeEntryOf, inflightLimitFor, reentersFlight } from '../ledger-rules';
import { decodeContinuation, encodeContinuation, indexRowKey } from '../keys';
import {
  activeFromEntity,
  activeToEntity,
  checkTransactionSize,
  countOf,
  counterFromEntity,
  counterToEntity,
  finishedFromEntity,
  finishedToEntity,
  idempotencyFromEntity,
  idempotencyToEntity,
  indexToEntity,
  jobFromEntity,
  jobToEntity,
  revisionOf,
  stepFromEntity,
  stepToEntity,
  summaryFromIndexEntity,
} from './entity-mapping';
import {
  checkJobId,
  checkShard,
  finishedDay,
  finishedRowKey,
  isJobId,
  STEP_ROW_KEY_FROM,
  STEP_ROW_KEY_TO,
  type LedgerTableNames,
  type PartitionRange,
  type TableLedgerLayout,
} from './layout';
import { MAX_PAGE_SIZE, StorageTable, type Entity, type RowKeys, type StoredEntity } from './storage-table';
import { createTableClient, tableCreator, type TableStorageOptions } from './table-clients';

export interface TableLedgerTuning {
  /** Conditional-write attempts on one row before WriteContentionError. Default 60. */
  readonly maxWriteAttempts?: number;
}

const DEFAULT_MAX_WRITE_ATTEMPTS = 60;
/** Upper bound of the random pause between two attempts on a contended row. */
const MAX_CONTENTION_PAUSE_MS = 40;
/** A transaction holds at most 100 rows: the job row and its steps. */
export const MAX_STEPS_PER_JOB = 99;
/** Job rows read at once when counting the jobs in flight. */
const READ_CONCURRENCY = 16;
/** Step positions are immutable, so the step-id → index maps of recently used jobs are kept. */
const STEP_INDEX_CACHE_SIZE = 10_000;

interface DecidedJobEvent {
  readonly kind: 'decided';
  readonly transition: Transition<Job>;
  /** The job row's revision after this call. */
  readonly revision: number;
  /** The job as this call's write found it; absent when nothing was written. */
  readonly previous: Job | undefined;
}

type JobEventOutcome =
  | DecidedJobEvent
  /** The transition takes the job back into flight and this call holds no slot yet. */
  | { readonly kind: 'needs-slot'; readonly tenantId: string };

interface WrittenJobEvent extends DecidedJobEvent {
  /** The slot this call took for the job re-entering flight, if it took one. */
  readonly heldSlot: HeldSlot | undefined;
}

/** An in-flight slot taken for a job re-entering flight, before its job write. */
interface HeldSlot {
  readonly tenantId: string;
  /** A job write was sent and no answer has shown that it did not apply. */
  writeInFlight: boolean;
}

type Decision<T> = { readonly write: Entity; readonly result: T } | { readonly result: T };

export abstract class TableLedgerEngine implements JobLedger {
  private readonly jobs: StorageTable;
  private readonly steps: StorageTable;
  private readonly idempotency: StorageTable;
  private readonly jobIndex: StorageTable;
  private readonly inflight: StorageTable;
  private readonly sweep: StorageTable;
  private readonly ready: () => Promise<void>;
  /** Job row and step rows share a partition, so they are written in one transaction and read in one query. */
  private readonly colocated: boolean;
  private readonly maxWriteAttempts: number;
  private readonly stepIndexes = new Map<string, ReadonlyMap<string, number>>();

  protected constructor(
    private readonly layout: TableLedgerLayout,
    storage: TableStorageOptions,
    tuning: TableLedgerTuning = {},
  ) {
    const clients = new Map<string, TableClient>();
    const tableNamed = (name: string): StorageTable => {
      let client = clients.get(name);
      if (client === undefined) {
        client = createTableClient(storage, checkTableName(name));
        clients.set(name, client);
      }
      return new StorageTable(client);
    };
    const names: LedgerTableNames = layout.tables;
    this.jobs = tableNamed(names.jobs);
    this.steps = tableNamed(names.steps);
    this.idempotency = tableNamed(names.idempotency);
    this.jobIndex = tableNamed(names.jobIndex);
    this.inflight = tableNamed(names.inflight);
    this.sweep = tableNamed(names.sweep);
    this.ready = tableCreator([...clients.values()]);
    const probe = '00000000-0000-0000-0000-000000000000';
    this.colocated =
      names.jobs === names.steps && layout.jobRow(probe).partitionKey === layout.stepsPartition(probe);
    this.maxWriteAttempts = tuning.maxWriteAttempts ?? DEFAULT_MAX_WRITE_ATTEMPTS;
  }

  // -------------------------------------------------------------------------------------------
  // Admission

  async admit(record: AdmissionRecord, limits: AdmissionLimits, now: Date): Promise<AdmissionOutcome> {
    const { job, steps, idempotency } = record;
    checkAdmissionRecord(record);
    // Map (and size-check) every row before the first write: a command too large for Table Storage
    // is refused with nothing written and no slot taken.
    const jobKeys = this.layout.jobRow(job.jobId);
    const jobEntity = jobToEntity(job, jobKeys, 0);
    const stepEntities = steps.map((step) =>
      stepToEntity(step, this.layout.stepRow(job.jobId, step.index, step.stepId)),
    );
    checkTransactionSize(
      this.colocated ? [jobEntity, ...stepEntities] : stepEntities,
      `job ${job.jobId} with its steps`,
    );
    const idemKeys = this.layout.idempotencyRow(idempotency.scopeId);
    const idemEntity = idempotencyToEntity(idemKeys, {
      scopeId: idempotency.scopeId,
      tenantId: job.tenantId,
      key: idempotency.key,
      requestHash: idempotency.requestHash,
      jobId: job.jobId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + limits.idempotencyTtlHours * 3_600_000).toISOString(),
    });
    const live = (row: StoredEntity | undefined): StoredEntity | undefined =>
      row !== undefined &&
      isWithinWindow(idempotencyFromEntity(row).createdAt, now, limits.idempotencyTtlHours)
        ? row
        : undefined;

    const answer = (row: StoredEntity): Promise<AdmissionOutcome | undefined> =>
      this.answerExisting(row, record, now, limits.orphanGraceSeconds);
    const activeKeys = this.activeKeys(job.lane, job.jobId);
    const activeEntity = activeToEntity(
      activeKeys,
      activeEntryOf(job, new Date(now.getTime() + limits.orphanGraceSeconds * 1000), idempotency.scopeId),
      0,
    );

    await this.ready();
    let existing = await this.idempotency.read(idemKeys);
    for (let attempt = 1; ; attempt += 1) {
      const recorded = live(existing);
      if (recorded !== undefined) {
        const outcome = await answer(recorded);
        if (outcome !== undefined) return outcome;
        // An orphan past its grace: claimed over below, with its ETag, like an expired record.
      }
      if (attempt > this.maxWriteAttempts)
        throw new WriteContentionError(`idempotency record ${idempotency.scopeId}`, this.maxWriteAttempts);

      if (!(await this.takeSlot(job.tenantId, limits.maxInflightPerTenant))) {
        // The slot may have gone to a concurrent identical admission: that is still a duplicate.
        const again = live(await this.idempotency.read(idemKeys));
        const outcome = again === undefined ? undefined : await answer(again);
        if (outcome !== undefined) return outcome;
        throw new TenantAtCapacityError(job.tenantId, limits.maxInflightPerTenant);
      }

      let claim;
      try {
        claim =
          existing === undefined
            ? await this.idempotency.insert(idemEntity)
            : await this.idempotency.replace(idemEntity, existing.etag);
      } catch (error) {
        await this.releaseSlotAfterFailure(job.tenantId);
        throw error;
      }
      if (!claim.ok) {
        // A concurrent admission with the same key claimed the record first.
        await this.releaseSlot(job.tenantId);
        existing = claim.current;
        continue;
      }

      const claimEtag = claim.etag;
      const undo = (): Promise<void> => this.undoAdmission(job.tenantId, idemKeys, claimEtag, activeKeys);
      try {
        await this.sweep.upsert(activeEntity);
      } catch (error) {
        await undo();
        throw error;
      }
      await this.commitJob(jobEntity, stepEntities, undo);
      // The index row carries revision 0; if a transition already wrote a newer one, keep it.
      await this.jobIndex.insert(indexToEntity(job, this.indexKeys(job), 0));
      return { kind: 'created', job, steps };
    }
  }

  /**
   * The answer to a command whose idempotency record is live; undefined when the record is an orphan
   * past its grace (no job `orphanGraceSeconds` after it was written), which admission claims over.
   */
  private async answerExisting(
    row: StoredEntity,
    record: AdmissionRecord,
    now: Date,
    orphanGraceSeconds: number,
  ): Promise<AdmissionOutcome | undefined> {
    const stored = idempotencyFromEntity(row);
    if (stored.requestHash !== record.idempotency.requestHash) {
      throw new IdempotencyConflictError(record.job.tenantId, record.idempotency.key, stored.jobId);
    }
    const found = await this.getJob(stored.jobId);
    if (found !== undefined)
      return { kind: 'duplicate', jobId: stored.jobId, job: found.job, steps: found.steps };
    if (isOrphanPastGrace(stored.createdAt, now, orphanGraceSeconds)) return undefined;
    return { kind: 'duplicate', jobId: stored.jobId, steps: [] };
  }

  /** Writes steps and the job row (the commit point); calls `undo` if it certainly did not commit. */
  private async commitJob(
    jobEntity: Entity,
    stepEntities: readonly Entity[],
    undo: () => Promise<void>,
  ): Promise<void> {
    let outcome;
    try {
      if (this.colocated) {
        outcome = await this.jobs.insertWithCompanions(jobEntity, stepEntities);
      } else if (await this.steps.insertAll(stepEntities)) {
        outcome = await this.jobs.insert(jobEntity);
      } else if ((await this.jobs.read(jobEntity)) === undefined) {
        // Steps without a job row are leftovers of an admission of this job id that never
        // committed (invisible to readers): overwrite them.
        await this.steps.upsertAll(stepEntities);
        outcome = await this.jobs.insert(jobEntity);
      } else {
        outcome = { ok: false } as const;
      }
    } catch (error) {
      // The write may have landed although its answer was lost: the job row decides. Only when it is
      // certainly absent are the claim and the slot given back; if storage cannot tell, both stay
      // (a leaked slot is recoverable, a job without its slot breaks the tenant's limit).
      const committed = await this.jobs.read(jobEntity).then(
        (row) => row !== undefined,
        () => undefined,
      );
      if (committed === true) return;
      if (committed === false) await undo();
      throw error;
    }
    if (!outcome.ok) {
      await undo();
      throw new Error(
        `job ${String(jobEntity['jobId'])} already exists: job ids must be unique per admission`,
      );
    }
  }

  /**
   * Best effort: the original failure is what the caller needs to see. The active entry goes last,
   * so whatever is left behind is still listed for the sweepers.
   */
  private async undoAdmission(
    tenantId: string,
    idemKeys: RowKeys,
    claimEtag: string,
    activeKeys: RowKeys,
  ): Promise<void> {
    await this.idempotency.delete(idemKeys, claimEtag).catch(() => false);
    await this.releaseSlotAfterFailure(tenantId);
    await this.sweep.delete(activeKeys, '*').catch(() => false);
  }

  private async releaseSlotAfterFailure(tenantId: string): Promise<void> {
    await this.releaseSlot(tenantId).catch(() => undefined);
  }

  private takeSlot(tenantId: string, limit: number): Promise<boolean> {
    const keys = this.layout.inflightRow(tenantId);
    return this.updateConditionally(
      this.inflight,
      keys,
      `in-flight counter of tenant ${tenantId}`,
      (current) => {
        const count = countOf(current);
        return count >= limit
          ? { result: false }
          : { write: counterToEntity(keys, tenantId, count + 1), result: true };
      },
    );
  }

  private releaseSlot(tenantId: string): Promise<void> {
    const keys = this.layout.inflightRow(tenantId);
    return this.updateConditionally(
      this.inflight,
      keys,
      `in-flight counter of tenant ${tenantId}`,
      (current) => {
        const count = countOf(current);
        // Never below zero: a count that is already 0 has nothing left to give back.
        return count <= 0
          ? { result: undefined }
          : { write: counterToEntity(keys, tenantId, count - 1), result: undefined };
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async getJob(jobId: string): Promise<JobWithSteps | undefined> {
    if (!isJobId(jobId)) return undefined;
    await this.ready();
    const jobKeys = this.layout.jobRow(jobId);
    let jobRow: StoredEntity | undefined;
    let stepRows: StoredEntity[];
    if (this.colocated) {
      // One query returns the job row and its steps together.
      const rows = await this.jobs.queryAll(odata`PartitionKey eq ${jobKeys.partitionKey}`);
      jobRow = rows.find((row) => row.rowKey === jobKeys.rowKey);
      stepRows = rows.filter((row) => isStepRowKey(row.rowKey ?? ''));
    } else {
      // Job row first: it is written last, so once it is seen the steps are all there.
      jobRow = await this.jobs.read(jobKeys);
      if (jobRow === undefined) return undefined;
      stepRows = await this.steps.queryAll(
        odata`PartitionKey eq ${this.layout.stepsPartition(jobId)} and RowKey ge ${STEP_ROW_KEY_FROM} and RowKey lt ${STEP_ROW_KEY_TO}`,
      );
    }
    if (jobRow === undefined) return undefined;
    const steps = stepRows.map(stepFromEntity).sort((a, b) => a.index - b.index);
    return { job: jobFromEntity(jobRow), steps };
  }

  async listJobs(query: JobListQuery): Promise<JobPage> {
    const { limit } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw new RangeError(`limit must be an integer in 1..${MAX_PAGE_SIZE}, got ${limit}`);
    const after = query.continuation === undefined ? undefined : decodeContinuation(query.continuation);
    await this.ready();

    let filter = odata`PartitionKey eq ${this.layout.indexPartition(query.tenantId)}`;
    if (after !== undefined) filter += odata` and RowKey gt ${after}`;
    if (query.status !== undefined) filter += odata` and status eq ${query.status}`;
    if (query.requestType !== undefined) filter += odata` and requestType eq ${query.requestType}`;

    // One row beyond the page tells whether more follow, so the last page carries no token.
    const rows: StoredEntity[] = [];
    for await (const row of this.jobIndex.query(filter, limit + 1)) {
      rows.push(row);
      if (rows.length > limit) break;
    }
    const page = rows.slice(0, limit);
    const items: JobSummary[] = page.map(summaryFromIndexEntity);
    const last = page[page.length - 1];
    return rows.length > limit && last?.rowKey !== undefined
      ? { items, continuation: encodeContinuation(last.rowKey) }
      : { items };
  }

  async inflightCount(tenantId: string): Promise<number> {
    await this.ready();
    return countOf(await this.inflight.read(this.layout.inflightRow(tenantId)));
  }

  async ping(): Promise<void> {
    await this.ready();
    await this.jobs.probe();
  }

  // -------------------------------------------------------------------------------------------
  // The sweepers' work lists

  async listDueJobs(shard: number, now: Date, limit: number): Promise<readonly ActiveJobEntry[]> {
    checkShard(shard);
    checkLimit(limit);
    await this.ready();
    // One partition per shard: what is read is the shard's jobs in flight, never a finished job.
    const rows = await this.sweep.queryAll(
      odata`PartitionKey eq ${this.layout.activePartition(shard)} and checkAt le ${now.toISOString()}`,
    );
    return rows
      .map(activeFromEntity)
      .sort((a, b) => compare(a.checkAt, b.checkAt) || compare(a.jobId, b.jobId))
      .slice(0, limit);
  }

  async scheduleCheck(jobId: string, shard: number, checkAt: Date): Promise<void> {
    if (!isJobId(jobId)) return;
    await this.ready();
    const keys = this.activeKeys(shard, jobId);
    await this.updateConditionally(this.sweep, keys, `active entry of job ${jobId}`, (current) =>
      current === undefined
        ? { result: undefined }
        : {
            write: activeToEntity(
              keys,
              { ...activeFromEntity(current), checkAt: checkAt.toISOString() },
              revisionOf(current),
            ),
            result: undefined,
          },
    );
  }

  async dropActiveEntry(jobId: string, shard: number): Promise<void> {
    if (!isJobId(jobId)) return;
    await this.ready();
    await this.sweep.delete(this.activeKeys(shard, jobId), '*');
  }

  async countActiveJobs(): Promise<ReadonlyMap<string, number>> {
    await this.ready();
    const entries = (await this.sweep.queryAll(rangeFilter(this.layout.activePartitions))).map(
      activeFromEntity,
    );
    const counts = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < entries.length; i = next++) {
        const entry = entries[i] as ActiveJobEntry;
        const row = await this.jobs.read(this.layout.jobRow(entry.jobId));
        if (row === undefined || isTerminalJobStatus(jobFromEntity(row).status)) continue;
        counts.set(entry.tenantId, (counts.get(entry.tenantId) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, entries.length) }, worker));
    return counts;
  }

  async listFinishedJobs(before: Date, limit: number): Promise<readonly FinishedJobEntry[]> {
    checkLimit(limit);
    await this.ready();
    const beforeIso = before.toISOString();
    // Day partitions up to `before`'s day, in key order (oldest first); row keys start with
    // `finishedAt`, so `RowKey lt before` keeps exactly the jobs that finished earlier.
    const filter = odata`PartitionKey ge ${this.layout.finishedPartitions.from} and PartitionKey le ${this.layout.finishedPartition(finishedDay(beforeIso))} and RowKey lt ${beforeIso}`;
    const entries: FinishedJobEntry[] = [];
    for await (const row of this.sweep.query(filter, limit)) {
      entries.push(finishedFromEntity(row));
      if (entries.length >= limit) break;
    }
    return entries;
  }

  async purgeJob(jobId: string): Promise<boolean> {
    if (!isJobId(jobId)) return false;
    await this.ready();
    const found = await this.getJob(jobId);
    if (found === undefined) return false;
    const { job, steps } = found;
    if (!isTerminalJobStatus(job.status)) throw new InvalidTransitionError('job', jobId, job.status, 'PURGE');
    const idemKeys = this.layout.idempotencyRow(idempotencyScopeId(job.tenantId, job.idempotencyKey));
    const record = await this.idempotency.read(idemKeys);
    await Promise.all([
      record !== undefined && idempotencyFromEntity(record).jobId === jobId
        ? this.idempotency.delete(idemKeys, record.etag)
        : Promise.resolve(false),
      this.jobIndex.delete(this.indexKeys(job), '*'),
      this.sweep.delete(this.activeKeys(job.lane, jobId), '*'),
      ...steps.map((step) => this.steps.delete(this.layout.stepRow(jobId, step.index, step.stepId), '*')),
    ]);
    // The finished entry, then the job row last: a purge that dies half-way is done again by the
    // next retention sweep (it finds the entry), or leaves at worst a finished job row unlisted.
    if (job.finishedAt !== undefined) await this.sweep.delete(this.finishedKeys(job.finishedAt, jobId), '*');
    await this.jobs.delete(this.layout.jobRow(jobId), '*');
    this.stepIndexes.delete(jobId);
    return true;
  }

  async removeOrphanIdempotency(scope: string, jobId: string): Promise<boolean> {
    await this.ready();
    const keys = this.layout.idempotencyRow(scope);
    const record = await this.idempotency.read(keys);
    if (record === undefined || idempotencyFromEntity(record).jobId !== jobId) return false;
    if (isJobId(jobId) && (await this.jobs.read(this.layout.jobRow(jobId))) !== undefined) return false;
    // If-Match: a record replaced meanwhile (a re-admission) is not this orphan any more.
    return this.idempotency.delete(keys, record.etag);
  }

  async recordRepair(
    jobId: string,
    repair: Repair,
    options: { readonly countsRestart?: boolean } = {},
  ): Promise<Job> {
    if (!isJobId(jobId)) throw new JobNotFoundError(jobId);
    await this.ready();
    const keys = this.layout.jobRow(jobId);
    // The job's status and times are not touched, so the tenant index row stays as it is.
    return this.updateConditionally(this.jobs, keys, `job ${jobId}`, (current) => {
      if (current === undefined) throw new JobNotFoundError(jobId);
      const job = jobFromEntity(current);
      const next: Job = {
        ...job,
        repairs: appendRepair(job.repairs, repair),
        orchestrationRestarts: job.orchestrationRestarts + (options.countsRestart === true ? 1 : 0),
      };
      return { write: jobToEntity(next, keys, revisionOf(current) + 1), result: next };
    });
  }

  async listInflightCounters(): Promise<readonly InflightCounter[]> {
    await this.ready();
    const range = this.layout.inflightPartitions;
    const rows = await this.inflight.queryAll(range === undefined ? undefined : rangeFilter(range));
    return rows.map(counterFromEntity);
  }

  async markInflightSuspect(
    tenantId: string,
    version: string,
    expected: number,
    now: Date,
  ): Promise<boolean> {
    return this.rewriteCounter(tenantId, version, (count) => ({
      count,
      suspect: { expected, seenAt: now.toISOString() },
    }));
  }

  async correctInflight(tenantId: string, version: string, count: number): Promise<boolean> {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`an in-flight count is a non-negative integer, got ${count}`);
    return this.rewriteCounter(tenantId, version, () => ({ count }));
  }

  /** Rewrites the counter only if it is still at `version` (If-Match on its ETag). */
  private async rewriteCounter(
    tenantId: string,
    version: string,
    rewrite: (count: number) => { count: number; suspect?: InflightCounter['suspect'] },
  ): Promise<boolean> {
    await this.ready();
    const keys = this.layout.inflightRow(tenantId);
    const current = await this.inflight.read(keys);
    if (current === undefined || current.etag !== version) return false;
    const { count, suspect } = rewrite(countOf(current));
    const outcome = await this.inflight.replace(counterToEntity(keys, tenantId, count, suspect), version);
    return outcome.ok;
  }

  /**
   * Removes the active entry unless a later write (a redrive) put it back, and lists the job as
   * finished. A replayed event (`written` false) only writes what is missing.
   */
  private async listAsFinished(job: Job, revision: number, written: boolean): Promise<void> {
    const keys = this.activeKeys(job.lane, job.jobId);
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.sweep.read(keys);
      if (current === undefined || revisionOf(current) > revision) break;
      if (await this.sweep.delete(keys, current.etag)) break;
      if (attempt >= this.maxWriteAttempts)
        throw new WriteContentionError(`active entry of job ${job.jobId}`, this.maxWriteAttempts);
    }
    const finishedAt = job.finishedAt ?? job.updatedAt;
    const finishedKeys = this.finishedKeys(finishedAt, job.jobId);
    if (!written && (await this.sweep.read(finishedKeys)) !== undefined) return;
    await this.sweep.upsert(
      finishedToEntity(finishedKeys, { jobId: job.jobId, tenantId: job.tenantId, finishedAt }),
    );
  }

  /** A redriven job is in flight again: due for a check now, and no longer finished. */
  private async listAsActiveAgain(job: Job, previous: Job, revision: number, now: Date): Promise<void> {
    const keys = this.activeKeys(job.lane, job.jobId);
    const entry = activeEntryOf(job, now);
    await this.updateConditionally(this.sweep, keys, `active entry of job ${job.jobId}`, (current) =>
      current !== undefined && revisionOf(current) >= revision
        ? { result: undefined }
        : { write: activeToEntity(keys, entry, revision), result: undefined },
    );
    const finishedAt = previous.finishedAt ?? previous.updatedAt;
    await this.sweep.delete(this.finishedKeys(finishedAt, job.jobId), '*');
  }

  /** Lists an in-flight job as active if nothing lists it (one read when it is listed). */
  private async ensureActive(job: Job, revision: number, now: Date): Promise<void> {
    const keys = this.activeKeys(job.lane, job.jobId);
    if ((await this.sweep.read(keys)) !== undefined) return;
    const entry = activeEntryOf(job, now);
    await this.sweep.insert(activeToEntity(keys, entry, revision));
  }

  private activeKeys(shard: number, jobId: string): RowKeys {
    return { partitionKey: this.layout.activePartition(shard), rowKey: jobId };
  }

  private finishedKeys(finishedAt: string, jobId: string): RowKeys {
    return {
      partitionKey: this.layout.finishedPartition(finishedDay(finishedAt)),
      rowKey: finishedRowKey(finishedAt, jobId),
    };
  }

  // -------------------------------------------------------------------------------------------
  // State changes

  async applyJobEvent(
    jobId: string,
    event: JobEvent,
    now: Date,
    limits?: InflightLimits,
  ): Promise<Transition<Job>> {
    if (!isJobId(jobId)) throw new JobNotFoundError(jobId);
    await this.ready();
    const { transition, revision, previous, heldSlot } = await this.writeJobEvent(jobId, event, now, limits);
    const from = previous?.status;
    const followUps = [this.syncIndex(transition.next, revision)];
    // Only the writer whose conditional write moved the job into a terminal state gets here with
    // `from`, so the slot is released exactly once.
    if (from !== undefined && !isTerminalJobStatus(from) && isTerminalJobStatus(transition.next.status)) {
      followUps.push(this.releaseSlot(transition.next.tenantId));
    }
    // A slot taken for a write that did not take the job back into flight (the job had changed by
    // the time it was written) is given back.
    if (heldSlot !== undefined && (from === undefined || !reentersFlight(from, transition.next.status))) {
      followUps.push(this.releaseSlot(heldSlot.tenantId));
    }
    // The work lists follow the job: a terminal job (whoever wrote it; idempotent, so a replayed
    // event repairs them) is finished; the writer of a redrive lists it as active again.
    if (isTerminalJobStatus(transition.next.status)) {
      followUps.push(this.listAsFinished(transition.next, revision, transition.changed));
    } else if (previous !== undefined && reentersFlight(previous.status, transition.next.status)) {
      followUps.push(this.listAsActiveAgain(transition.next, previous, revision, now));
    } else if (!transition.changed && event.type === 'START') {
      // Every run of the orchestration starts with START: a run over a job already RUNNING (a
      // redrive whose writer died before listing it again, then resent) puts a missing entry back.
      followUps.push(this.ensureActive(transition.next, revision, now));
    }
    // All are attempted even if one fails. A repeated event (no change) syncs the index again, so
    // a caller retrying after a failure here repairs the listing.
    const failed = (await Promise.allSettled(followUps)).find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed !== undefined) throw failed.reason;
    return transition;
  }

  /**
   * The conditional write of a job event. When the event takes the job back into flight (a
   * redrive), a slot is taken first and the write decided again with it held; the slot is given
   * back here if the call fails, and returned as `heldSlot` otherwise.
   */
  private async writeJobEvent(
    jobId: string,
    event: JobEvent,
    now: Date,
    limits: InflightLimits | undefined,
  ): Promise<WrittenJobEvent> {
    const keys = this.layout.jobRow(jobId);
    let held: HeldSlot | undefined;
    try {
      for (;;) {
        const outcome = await this.updateConditionally<JobEventOutcome>(
          this.jobs,
          keys,
          `job ${jobId}`,
          (current) => {
            // Deciding again means the previous write lost its precondition: it did not apply.
            if (held !== undefined) held.writeInFlight = false;
            if (current === undefined) throw new JobNotFoundError(jobId);
            const job = jobFromEntity(current);
            const t = transitionJob(job, event, now);
            if (!t.changed)
              return {
                result: {
                  kind: 'decided',
                  transition: t,
                  revision: revisionOf(current),
                  previous: undefined,
                },
              };
            if (reentersFlight(job.status, t.next.status) && held === undefined)
              return { result: { kind: 'needs-slot', tenantId: job.tenantId } };
            if (held !== undefined) held.writeInFlight = true;
            const next = revisionOf(current) + 1;
            return {
              write: jobToEntity(t.next, keys, next),
              result: { kind: 'decided', transition: t, revision: next, previous: job },
            };
          },
        );
        if (outcome.kind === 'decided') return { ...outcome, heldSlot: held };
        // Taken before the job is written, so the limit holds whichever redrive wins the race.
        const limit = inflightLimitFor(jobId, event, limits);
        if (!(await this.takeSlot(outcome.tenantId, limit)))
          throw new TenantAtCapacityError(outcome.tenantId, limit);
        held = { tenantId: outcome.tenantId, writeInFlight: false };
      }
    } catch (error) {
      // The slot goes back unless the job write may have landed with its answer lost (storage
      // cannot tell): a leaked slot is recoverable, a running job without its slot breaks the limit.
      const maybeWritten = held?.writeInFlight === true && !(error instanceof WriteContentionError);
      if (held !== undefined && !maybeWritten) await this.releaseSlotAfterFailure(held.tenantId);
      throw error;
    }
  }

  async applyStepEvent(jobId: string, stepId: string, event: StepEvent, now: Date): Promise<StepTransition> {
    return this.updateStep(jobId, stepId, (step) => {
      const t = transitionStep(step, event, now);
      return { next: t.next, changed: t.changed, result: t };
    });
  }

  async recordIgnoredReply(
    jobId: string,
    stepId: string,
    kind: 'stale' | 'duplicate',
    now: Date,
  ): Promise<Step> {
    return this.updateStep(jobId, stepId, (step) => {
      const next = noteIgnoredReply(step, kind, now);
      return { next, changed: true, result: next };
    });
  }

  private async updateStep<T>(
    jobId: string,
    stepId: string,
    decide: (step: Step) => { next: Step; changed: boolean; result: T },
  ): Promise<T> {
    await this.ready();
    const index = await this.stepIndexOf(jobId, stepId);
    const keys = this.layout.stepRow(jobId, index, stepId);
    return this.updateConditionally(this.steps, keys, `step ${jobId}/${stepId}`, (current) => {
      if (current === undefined) throw new StepNotFoundError(jobId, stepId);
      const { next, changed, result } = decide(stepFromEntity(current));
      return changed ? { write: stepToEntity(next, keys), result } : { result };
    });
  }

  /** A step's position (part of its row key), from the job row: also tells a missing job from a missing step. */
  private async stepIndexOf(jobId: string, stepId: string): Promise<number> {
    let indexes = this.stepIndexes.get(jobId);
    if (indexes === undefined) {
      if (!isJobId(jobId)) throw new JobNotFoundError(jobId);
      const row = await this.jobs.read(this.layout.jobRow(jobId));
      if (row === undefined) throw new JobNotFoundError(jobId);
      // planAdmission gives step i of the protocol index i, and `stepIds` lists them in that order.
      indexes = new Map(jobFromEntity(row).stepIds.map((id, i) => [id, i]));
      if (this.stepIndexes.size >= STEP_INDEX_CACHE_SIZE) {
        const oldest = this.stepIndexes.keys().next();
        if (oldest.done !== true) this.stepIndexes.delete(oldest.value);
      }
      this.stepIndexes.set(jobId, indexes);
    }
    const index = indexes.get(stepId);
    if (index === undefined) throw new StepNotFoundError(jobId, stepId);
    return index;
  }

  /**
   * Brings the index row up to the job's revision. Conditional too, and never backwards: a writer
   * delayed after its job write must not put an older status back over a newer one.
   */
  private syncIndex(job: Job, revision: number): Promise<void> {
    const keys = this.indexKeys(job);
    return this.updateConditionally(this.jobIndex, keys, `index row of job ${job.jobId}`, (current) =>
      current !== undefined && revisionOf(current) >= revision
        ? { result: undefined }
        : { write: indexToEntity(job, keys, revision), result: undefined },
    );
  }

  private indexKeys(job: Job): RowKeys {
    return {
      partitionKey: this.layout.indexPartition(job.tenantId),
      rowKey: indexRowKey(job.createdAt, job.jobId),
    };
  }

  /**
   * The read → decide → conditional write loop every state change goes through. `decide` sees the
   * row as it is (undefined when absent; then the write is an insert) and may throw to refuse.
   */
  private async updateConditionally<T>(
    table: StorageTable,
    keys: RowKeys,
    what: string,
    decide: (current: StoredEntity | undefined) => Decision<T>,
  ): Promise<T> {
    let current = await table.read(keys);
    for (let attempt = 1; attempt <= this.maxWriteAttempts; attempt += 1) {
      const decision = decide(current);
      if (!('write' in decision)) return decision.result;
      const outcome =
        current === undefined
          ? await table.insert(decision.write)
          : await table.replace(decision.write, current.etag);
      if (outcome.ok) return decision.result;
      current = outcome.current;
      await contentionPause(attempt);
    }
    throw new WriteContentionError(what, this.maxWriteAttempts);
  }
}

function checkAdmissionRecord(record: AdmissionRecord): void {
  const { job, steps } = record;
  checkJobId(job.jobId);
  if (steps.length > MAX_STEPS_PER_JOB)
    throw new RangeError(
      `job ${job.jobId} has ${steps.length} steps; at most ${MAX_STEPS_PER_JOB} fit one transaction`,
    );
  for (const step of steps) {
    if (step.jobId !== job.jobId)
      throw new RangeError(`step ${step.stepId} belongs to job ${step.jobId}, not ${job.jobId}`);
  }
}

function rangeFilter(range: PartitionRange): string {
  return odata`PartitionKey ge ${range.from} and PartitionKey lt ${range.to}`;
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isStepRowKey(rowKey: string): boolean {
  return rowKey >= STEP_ROW_KEY_FROM && rowKey < STEP_ROW_KEY_TO;
}

/** Table names: 3-63 letters and digits, starting with a letter. */
function checkTableName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name))
    throw new RangeError(`table name "${name}" must be 3-63 letters or digits, starting with a letter`);
  return name;
}

/** Random, growing pauses spread out writers that keep meeting on one row. */
function contentionPause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_CONTENTION_PAUSE_MS, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
