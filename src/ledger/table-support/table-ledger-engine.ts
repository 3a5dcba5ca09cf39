/**
 * The JobLedger algorithms over Azure Table Storage, once, for both Table backends. Which table and
 * partition each row lives in comes from a TableLedgerLayout; everything else is shared.
 *
 * Concurrency: every state change is decided through the domain state machine → write with If-Match
 * on the row's ETag; a lost precondition (409/412) yields the row as it now is, and the decision is
 * made again (bounded, with jittered pauses, then WriteContentionError). The row decided on is read
 * first, unless this process wrote it last: then the decision is made on the row as written and
 * sent with its ETag (a refusal, or a decision that would write nothing, reads the row and decides
 * again unless a write sent with it proves the row current, so nothing is ever refused or skipped on
 * an out-of-date row). Group commit on a remembered row (job, step, index row): the updates of one
 * row that arrive in one process while a write of it is in flight (a worker's ACK and RESULT arrive
 * together) are decided in arrival order, each on the row as the one before left it, and written
 * once on the ETag this process holds; each caller gets its own answer (its transition, or its own
 * error), and a refused write decides the whole group again on the stored row (see `writeGroup`).
 * Each tenant's in-flight counter is written by one write at a time in one process (turns).
 * If-Match inside an entity-group transaction is relied on for the counter (Azure and Azurite 3.35
 * both answer 412).
 *
 * A job's end, where the tenant's counter and index rows share a partition (the single table): the
 * writer that moved the job into a terminal state updates its index row and gives its slot back in
 * one transaction (see `finishInTenantPartition`); with separate tables, one write each.
 *
 * Admission, single table (the tenant's counter, records and index rows share a partition): see
 * `admitInTenantPartition`: active entry, one transaction for slot + claim + index row, the job
 * with its steps; three round trips.
 *
 * Admission, separate tables (see `admitRowByRow`):
 *   1. point-read the idempotency record: live + same hash → duplicate; live + other hash → conflict;
 *   2. take an in-flight slot (conditional counter increment; at the limit → TenantAtCapacityError,
 *      nothing written);
 *   3. claim the idempotency record (insert, or replace an expired one with If-Match; a live record
 *      whose job is still missing `orphanGraceSeconds` after it was written counts as expired: its
 *      admission died); losing the claim to a concurrent admission gives the slot back and decides
 *      again against the winner;
 *   4. add the job to the sweepers' active list (so a job that never commits is still found);
 *   5. write the steps and the job row, the job row last as the commit point; readers that find no
 *      job row see no job;
 *   6. add the tenant's index row.
 *   A failure before the commit point withdraws the claim, gives the slot back and removes the active
 *   entry (best effort; what is left is the sweepers' to repair).
 *
 * Work lists: a job's active and finished entries live in one partition, its shard's (row keys
 * apart: job id, `~done|...`), so the writer that moves a job into a terminal state replaces its
 * active entry by its finished entry in ONE transaction (a replayed event on a terminal job does it
 * again, so a retry repairs them; see `listAsFinished`), and a redrive replaces the finished entry
 * by an active one the same way (`listAsActiveAgain`).
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
  ACTIVE_ROW_KEY_TO,
  checkJobId,
  checkShard,
  finishedDay,
  FINISHED_ROW_KEY_FROM,
  finishedRowKey,
  finishedRowKeyBound,
  INDEX_ROW_KEY_TO,
  isJobId,
  legacyFinishedRowKey,
  STEP_ROW_KEY_FROM,
  STEP_ROW_KEY_TO,
  type LedgerTableNames,
  type PartitionRange,
  type TableLedgerLayout,
} from './layout';
import {
  MAX_PAGE_SIZE,
  StorageTable,
  WRITE_ID,
  type Entity,
  type RowKeys,
  type StoredEntity,
  type TransactionOp,
  type WriteOutcome,
} from './storage-table';
import { createTableClient, tableCreator, type TableStorageOptions } from './table-clients';
import { KeyedGroups, type GroupAnswer } from './keyed-groups';
import { KeyedTurns } from './keyed-turns';

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
/** Tenants whose in-flight counter (count and ETag) this process remembers. */
const COUNTER_CACHE_SIZE = 10_000;
/** Rows (jobs, steps, index rows, active entries) this process remembers as it last wrote them. */
const ROW_MEMORY_SIZE = 2_000;
/** Property of an idempotency record naming the index row its admission wrote with it. */
const INDEX_ROW_KEY_PROPERTY = 'indexRowKey';

/** A tenant's in-flight counter as this process last saw or wrote it; no `etag`: there is no row. */
interface CounterState {
  readonly count: number;
  readonly etag: string | undefined;
}

/**
 * What one decision on the counter came to: `done` (with the counter as it now is, when known), or
 * `stale`: decide again on a fresh counter (the one given, else one read now).
 */
type CounterStep<T> =
  | { readonly kind: 'done'; readonly result: T; readonly counter?: CounterState }
  | { readonly kind: 'stale'; readonly counter?: CounterState };

/** At most this many admissions share one tenant-partition transaction (3 rows each but the counter: < 100). */
const MAX_CLAIMS_PER_TRANSACTION = 32;

/** An admission's part of a tenant-partition transaction. */
interface ClaimRequest {
  readonly limit: number;
  readonly idemEntity: Entity;
  readonly indexEntity: Entity;
  /** The record claimed over (expired or orphan), with the ETag it must still have. */
  readonly existing?: StoredEntity;
}

interface PendingClaim extends ClaimRequest {
  readonly settle: (result: TenantClaim | Error) => void;
}

/** What the tenant-partition transaction of an admission came to. */
type TenantClaim =
  | { readonly kind: 'claimed'; readonly claimEtag: string; readonly indexEtag?: string }
  | { readonly kind: 'at-capacity' }
  /** The idempotency record is not what this admission assumed: `current` is what is there. */
  | { readonly kind: 'record-changed'; readonly current: StoredEntity | undefined };

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

/** One update of a row, as `updateConditionally` is given it. */
type RowUpdate = (current: StoredEntity | undefined) => Decision<unknown>;

/** Updates of one row that queued up behind a write of it go together in one write at most. */
const MAX_UPDATES_PER_WRITE = 50;

/** The rows of one admission, mapped and size-checked before anything is written. */
interface AdmissionRows {
  readonly jobEntity: Entity;
  readonly stepEntities: readonly Entity[];
  readonly idemKeys: RowKeys;
  readonly idemEntity: Entity;
  readonly activeKeys: RowKeys;
  readonly activeEntity: Entity;
}

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
  /**
   * A tenant's counter and index rows share a partition of one table, so a job's end updates its
   * index row and gives its slot back in one transaction (see `finishInTenantPartition`).
   */
  private readonly counterBesideIndex: boolean;
  private readonly maxWriteAttempts: number;
  private readonly stepIndexes = new Map<string, ReadonlyMap<string, number>>();
  /**
   * Each tenant's counter as this process last wrote or read it: a slot is taken or given back with
   * one conditional write on the remembered ETag; only a lost precondition (another process wrote)
   * costs a read.
   */
  private readonly counters = new Map<string, CounterState>();
  /** The counter writes of one tenant in this process go one after the other, never against each other. */
  private readonly counterTurns = new KeyedTurns();
  /**
   * The updates of one remembered row (job, step, index row) in this process never race each other:
   * those that queue up while a write of the row is in flight go together in the next write (group
   * commit), each decided on the row as the one before left it, sent with the ETag the previous
   * write got: no refusal, no read, one round trip for the group (see `writeGroup`).
   */
  private readonly rowGroups = new KeyedGroups<RowUpdate>(MAX_UPDATES_PER_WRITE);
  /**
   * A remembered row's writes (a group's, or a job's end in one transaction with its index row)
   * take turns; a turn is held only across that row's read and write.
   */
  private readonly rowTurns = new KeyedTurns();
  /** Claims of each tenant waiting for the next tenant-partition transaction (see `claimInTurn`). */
  private readonly claimQueues = new Map<string, PendingClaim[]>();
  /**
   * Rows as this process last wrote them, with their ETags (most recent last). The next decision on
   * such a row is made on it and written with If-Match on that ETag, without reading it first; only
   * a refusal (another writer got there) or a decision that writes nothing reads the row, and the
   * decision is made again on what was read. Never used to answer a read.
   */
  private readonly written = new Map<string, StoredEntity>();

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
    this.counterBesideIndex =
      names.jobIndex === names.inflight &&
      layout.indexPartition('tenant') === layout.inflightRow('tenant').partitionKey;
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
    const idemKeys = this.layout.idempotencyRow(job.tenantId, idempotency.scopeId);
    const indexKeys = this.indexKeys(job);
    const idemEntity: Entity = {
      ...idempotencyToEntity(idemKeys, {
        scopeId: idempotency.scopeId,
        tenantId: job.tenantId,
        key: idempotency.key,
        requestHash: idempotency.requestHash,
        jobId: job.jobId,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + limits.idempotencyTtlHours * 3_600_000).toISOString(),
      }),
      [INDEX_ROW_KEY_PROPERTY]: indexKeys.rowKey,
    };
    const activeKeys = this.activeKeys(job.lane, job.jobId);
    const activeEntity = activeToEntity(
      activeKeys,
      activeEntryOf(job, new Date(now.getTime() + limits.orphanGraceSeconds * 1000), idempotency.scopeId),
      0,
    );
    const rows: AdmissionRows = { jobEntity, stepEntities, idemKeys, idemEntity, activeKeys, activeEntity };
    await this.ready();
    return this.layout.admissionInTenantPartition === true
      ? this.admitInTenantPartition(record, limits, now, rows)
      : this.admitRowByRow(record, limits, now, rows);
  }

  /**
   * Admission where the counter, the idempotency records and the index rows of a tenant share one
   * partition (the single table): three round trips when nothing contends.
   *   1. the active entry, so whatever an admission that dies before its commit leaves is found
   *      by the sweepers through it (an entry whose job never commits is theirs to clear); sent
   *      together with 2 (a process that dies while both are in flight may leave 2 without 1);
   *   2. one transaction in the tenant's partition: the counter + 1 (If-Match on the ETag this
   *      process remembers), the idempotency record created (or, over an expired or orphan record,
   *      replaced on its ETag), the index row created. A resend collides on the record (409) and
   *      nothing of it is written; a counter another process moved (412) is read again and the
   *      transaction decided again; at the limit (on a freshly read counter) nothing is sent.
   *      Admissions of the tenant that queue up behind one in flight share the next transaction
   *      (group commit, see `claimInTurn`);
   *   3. the job with its steps, one transaction, the commit point.
   * An admission that does not create its job (a duplicate, a conflict, the limit, a failure)
   * removes its active entry again. The index row is listed from step 2: a listing can show a job
   * whose row is not written yet (for one round trip); if the admission dies before its commit, the
   * sweeper's orphan removal (removeOrphanIdempotency) removes that row with the record.
   */
  private async admitInTenantPartition(
    record: AdmissionRecord,
    limits: AdmissionLimits,
    now: Date,
    rows: AdmissionRows,
  ): Promise<AdmissionOutcome> {
    const { job } = record;
    // The active entry and the claim go out together (both before the commit point).
    const [listed, claimed] = await Promise.allSettled([
      this.sweep.upsert(rows.activeEntity),
      this.claimInTenantPartition(record, limits, now, rows),
    ]);
    const indexKeys = this.indexKeys(job);
    if (claimed.status === 'rejected' || 'outcome' in claimed.value || listed.status === 'rejected') {
      // No job: whatever of the two was written is taken back (best effort).
      if (claimed.status === 'fulfilled' && !('outcome' in claimed.value))
        await this.undoAdmission(
          job.tenantId,
          rows.idemKeys,
          claimed.value.claim.claimEtag,
          rows.activeKeys,
          indexKeys,
        );
      else await this.sweep.delete(rows.activeKeys, '*').catch(() => false);
      if (claimed.status === 'rejected') throw claimed.reason;
      if ('outcome' in claimed.value) return claimed.value.outcome;
      throw (listed as PromiseRejectedResult).reason;
    }
    const activeEtag = listed.value;
    const { claim, existing } = claimed.value;

    await this.commitJob(rows.jobEntity, rows.stepEntities, () =>
      this.undoAdmission(job.tenantId, rows.idemKeys, claim.claimEtag, rows.activeKeys, indexKeys),
    );
    this.rememberStepIndexes(job.jobId, job.stepIds);
    this.rememberRow(this.jobIndex, indexToEntity(job, indexKeys, 0), claim.indexEtag);
    this.rememberRow(this.sweep, rows.activeEntity, activeEtag);
    if (existing !== undefined) await this.dropOrphanIndexRow(job.tenantId, existing);
    return { kind: 'created', job, steps: record.steps };
  }

  /**
   * Step 2 of `admitInTenantPartition`: the slot, the claim and the index row in one transaction,
   * decided again until it applies; or the answer to a duplicate, a conflict or the limit.
   * `existing` is the record the claim replaced (an expired or orphan one).
   */
  private async claimInTenantPartition(
    record: AdmissionRecord,
    limits: AdmissionLimits,
    now: Date,
    rows: AdmissionRows,
  ): Promise<
    | { readonly outcome: AdmissionOutcome }
    | { readonly claim: Extract<TenantClaim, { kind: 'claimed' }>; readonly existing?: StoredEntity }
  > {
    const { job } = record;
    const { idemKeys, idemEntity } = rows;
    const indexKeys = this.indexKeys(job);
    const indexEntity = indexToEntity(job, indexKeys, 0);
    const live = (row: StoredEntity | undefined): StoredEntity | undefined =>
      row !== undefined &&
      isWithinWindow(idempotencyFromEntity(row).createdAt, now, limits.idempotencyTtlHours)
        ? row
        : undefined;
    const limit = limits.maxInflightPerTenant;
    // The record this admission claims over: none until a collision shows one (a first admission
    // of a key needs no read).
    let existing: StoredEntity | undefined;
    for (let round = 1; round <= this.maxWriteAttempts; round += 1) {
      let claim: TenantClaim;
      try {
        claim = await this.claimInTurn(job.tenantId, {
          limit,
          idemEntity,
          indexEntity,
          ...(existing === undefined ? {} : { existing }),
        });
      } catch (error) {
        // The transaction may have applied with its answer lost: if the record is ours, undo it all.
        const mine = await this.idempotency.read(idemKeys).catch(() => undefined);
        if (mine !== undefined && idempotencyFromEntity(mine).jobId === job.jobId)
          await this.undoAdmission(job.tenantId, idemKeys, mine.etag, rows.activeKeys, indexKeys);
        throw error;
      }

      if (claim.kind === 'claimed') return existing === undefined ? { claim } : { claim, existing };
      if (claim.kind === 'at-capacity') {
        // The slot may have gone to a concurrent identical admission: that is still a duplicate.
        const recorded = live(await this.idempotency.read(idemKeys));
        const outcome =
          recorded === undefined
            ? undefined
            : await this.answerExisting(recorded, record, now, limits.orphanGraceSeconds);
        if (outcome !== undefined) return { outcome };
        throw new TenantAtCapacityError(job.tenantId, limit);
      }
      existing = claim.current;
      const recorded = live(existing);
      if (recorded !== undefined) {
        const outcome = await this.answerExisting(recorded, record, now, limits.orphanGraceSeconds);
        if (outcome !== undefined) return { outcome };
        // An orphan past its grace: claimed over, with its ETag, like an expired record.
      }
    }
    throw new WriteContentionError(`idempotency record ${record.idempotency.scopeId}`, this.maxWriteAttempts);
  }

  /**
   * Queues a claim (slot + record + index row) of the tenant. Claims that queue up while one
   * transaction of the tenant is in flight go together in the next one (group commit): one round
   * trip for all of them, the counter raised by their number.
   */
  private claimInTurn(tenantId: string, claim: ClaimRequest): Promise<TenantClaim> {
    return new Promise<TenantClaim>((resolve, reject) => {
      let settled = false;
      const pending: PendingClaim = {
        ...claim,
        settle: (result) => {
          if (settled) return;
          settled = true;
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      const queue = this.claimQueues.get(tenantId);
      if (queue !== undefined) {
        queue.push(pending);
        return;
      }
      this.claimQueues.set(tenantId, [pending]);
      void this.flushClaims(tenantId);
    });
  }

  private async flushClaims(tenantId: string): Promise<void> {
    for (;;) {
      const queue = this.claimQueues.get(tenantId) ?? [];
      if (queue.length === 0) {
        this.claimQueues.delete(tenantId);
        return;
      }
      // One row at most once per transaction: a second claim of the same key waits for the next.
      const group: PendingClaim[] = [];
      const rowKeys = new Set<string>();
      for (let i = 0; i < queue.length && group.length < MAX_CLAIMS_PER_TRANSACTION;) {
        const claim = queue[i] as PendingClaim;
        const keys = [claim.idemEntity.rowKey, claim.indexEntity.rowKey];
        if (keys.some((key) => rowKeys.has(key))) {
          i += 1;
          continue;
        }
        keys.forEach((key) => rowKeys.add(key));
        group.push(claim);
        queue.splice(i, 1);
      }
      try {
        await this.commitClaims(tenantId, group);
      } catch (error) {
        for (const claim of group) claim.settle(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** One transaction for `group` (decided again on a moved counter); settles every claim. */
  private async commitClaims(tenantId: string, group: readonly PendingClaim[]): Promise<void> {
    const counterKeys = this.layout.inflightRow(tenantId);
    let pending = [...group];
    await this.withCounter<void>(tenantId, async (counter, fresh) => {
      const taking: PendingClaim[] = [];
      const refused: PendingClaim[] = [];
      for (const claim of pending)
        (counter.count + taking.length < claim.limit ? taking : refused).push(claim);
      // A remembered count may be old (other processes give slots back): read it before refusing.
      if (refused.length > 0 && !fresh) return { kind: 'stale' };
      for (const claim of refused) claim.settle({ kind: 'at-capacity' });
      pending = taking;
      if (taking.length === 0) return { kind: 'done', result: undefined, counter };
      const count = counter.count + taking.length;
      const counterEntity = counterToEntity(counterKeys, tenantId, count);
      const ops: TransactionOp[] = [
        counter.etag === undefined
          ? { kind: 'create', entity: counterEntity }
          : { kind: 'replace', entity: counterEntity, etag: counter.etag },
      ];
      for (const claim of taking) {
        ops.push(
          claim.existing === undefined
            ? { kind: 'create', entity: claim.idemEntity }
            : { kind: 'replace', entity: claim.idemEntity, etag: claim.existing.etag },
          { kind: 'create', entity: claim.indexEntity },
        );
      }
      const outcome = await this.idempotency.transact(ops);
      if (outcome.ok) {
        taking.forEach((claim, i) => {
          const indexEtag = outcome.etags[2 + 2 * i];
          claim.settle({
            kind: 'claimed',
            claimEtag: outcome.etags[1 + 2 * i] ?? '',
            ...(indexEtag === undefined ? {} : { indexEtag }),
          });
        });
        return { kind: 'done', result: undefined, counter: { count, etag: outcome.etags[0] } };
      }
      // Refused as a whole. Whose write is in the way: this very transaction (its first answer was
      // lost and the SDK's retry met it), a rival's claim of a key, or a moved counter?
      const records = await Promise.all(taking.map((claim) => this.idempotency.read(claim.idemEntity)));
      if (records.some((row) => row !== undefined && row[WRITE_ID] === outcome.writeId)) {
        // All or nothing: it applied for every claim; the counter's new ETag is unknown.
        taking.forEach((claim, i) => claim.settle({ kind: 'claimed', claimEtag: records[i]?.etag ?? '' }));
        return { kind: 'done', result: undefined };
      }
      const changed = taking.filter((claim, i) => records[i]?.etag !== claim.existing?.etag);
      changed.forEach((claim) =>
        claim.settle({ kind: 'record-changed', current: records[taking.indexOf(claim)] }),
      );
      pending = taking.filter((claim) => !changed.includes(claim));
      if (changed.length > 0) {
        // The others (if any) are tried again on the counter as it was.
        return pending.length === 0
          ? { kind: 'done', result: undefined, counter }
          : { kind: 'stale', counter };
      }
      if (outcome.status === 409 && counter.etag !== undefined) {
        // Neither the counter nor a record: an index row, i.e. a job id admitted before.
        const indexRows = await Promise.all(pending.map((claim) => this.jobIndex.read(claim.indexEntity)));
        pending = pending.filter((claim, i) => {
          if (indexRows[i] === undefined) return true;
          claim.settle(
            new Error(
              `job ${String(claim.indexEntity['jobId'])} already exists: job ids must be unique per admission`,
            ),
          );
          return false;
        });
        if (pending.length === 0) return { kind: 'done', result: undefined, counter };
      }
      return { kind: 'stale' };
    });
  }

  /**
   * Admission row by row (separate tables): read the idempotency record, take a slot, claim the
   * record, list the job as active, commit the job, add its index row.
   */
  private async admitRowByRow(
    record: AdmissionRecord,
    limits: AdmissionLimits,
    now: Date,
    rows: AdmissionRows,
  ): Promise<AdmissionOutcome> {
    const { job, steps, idempotency } = record;
    const { idemKeys, idemEntity, activeKeys, activeEntity, jobEntity, stepEntities } = rows;
    const live = (row: StoredEntity | undefined): StoredEntity | undefined =>
      row !== undefined &&
      isWithinWindow(idempotencyFromEntity(row).createdAt, now, limits.idempotencyTtlHours)
        ? row
        : undefined;

    const answer = (row: StoredEntity): Promise<AdmissionOutcome | undefined> =>
      this.answerExisting(row, record, now, limits.orphanGraceSeconds);

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
        // Remembered: the job's end then replaces it without reading it.
        this.rememberRow(this.sweep, activeEntity, await this.sweep.upsert(activeEntity));
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
        const written = await this.jobs.insertWithCompanions(jobEntity, stepEntities);
        if (written.ok) {
          this.rememberRow(this.jobs, jobEntity, written.etag);
          stepEntities.forEach((step, i) => this.rememberRow(this.steps, step, written.companionEtags?.[i]));
        }
        outcome = written;
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
    indexKeys?: RowKeys,
  ): Promise<void> {
    await this.idempotency.delete(idemKeys, claimEtag).catch(() => false);
    if (indexKeys !== undefined) await this.jobIndex.delete(indexKeys, '*').catch(() => false);
    await this.releaseSlotAfterFailure(tenantId);
    await this.sweep.delete(activeKeys, '*').catch(() => false);
  }

  private async releaseSlotAfterFailure(tenantId: string): Promise<void> {
    await this.releaseSlot(tenantId).catch(() => undefined);
  }

  /** Takes one of the tenant's in-flight slots; false (nothing written) at the limit. */
  private takeSlot(tenantId: string, limit: number): Promise<boolean> {
    return this.withCounter(tenantId, async (counter, fresh) => {
      // A remembered count at the limit may be old (other processes give slots back): read it first.
      if (counter.count >= limit) return fresh ? { kind: 'done', result: false, counter } : { kind: 'stale' };
      return this.writeCount(tenantId, counter, counter.count + 1, true);
    });
  }

  private releaseSlot(tenantId: string): Promise<void> {
    return this.withCounter(tenantId, async (counter, fresh) => {
      // Never below zero: a count that is already 0 has nothing left to give back.
      if (counter.count <= 0) return fresh ? { kind: 'done', result: undefined, counter } : { kind: 'stale' };
      return this.writeCount(tenantId, counter, counter.count - 1, undefined);
    });
  }

  /** One conditional write of the counter on the ETag in `counter`. */
  private async writeCount<T>(
    tenantId: string,
    counter: CounterState,
    count: number,
    result: T,
  ): Promise<CounterStep<T>> {
    const entity = counterToEntity(this.layout.inflightRow(tenantId), tenantId, count);
    const outcome: WriteOutcome =
      counter.etag === undefined
        ? await this.inflight.insert(entity)
        : await this.inflight.replace(entity, counter.etag);
    if (outcome.ok) return { kind: 'done', result, counter: { count, etag: outcome.etag } };
    // Lost to another writer: the row as it now is came back with the refusal.
    return { kind: 'stale', counter: counterStateOf(outcome.current) };
  }

  /**
   * Decides on the tenant's counter as this process last saw it, and on a lost precondition (or a
   * decision that needs a fresh count) reads it and decides again. The tenant's turns in this
   * process are taken one after the other, so its own writes never conflict with each other.
   */
  private withCounter<T>(
    tenantId: string,
    decide: (counter: CounterState, fresh: boolean) => Promise<CounterStep<T>>,
  ): Promise<T> {
    return this.inCounterTurn(tenantId, async () => {
      let counter = this.counters.get(tenantId);
      let fresh = false;
      try {
        for (let attempt = 1; attempt <= this.maxWriteAttempts; attempt += 1) {
          if (counter === undefined) {
            counter = await this.readCounter(tenantId);
            fresh = true;
          }
          const step = await decide(counter, fresh);
          if (step.kind === 'done') {
            this.rememberCounter(tenantId, step.counter);
            return step.result;
          }
          // Another writer got there between our read and our write: spread out before trying again.
          if (fresh) await contentionPause(attempt);
          counter = step.counter;
          fresh = step.counter !== undefined;
        }
      } catch (error) {
        this.counters.delete(tenantId);
        throw error;
      }
      this.counters.delete(tenantId);
      throw new WriteContentionError(`in-flight counter of tenant ${tenantId}`, this.maxWriteAttempts);
    });
  }

  private inCounterTurn<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    return this.counterTurns.run(tenantId, work);
  }

  /** Reads the counter (and lists the tenant in the counters' directory the first time it has none). */
  private async readCounter(tenantId: string): Promise<CounterState> {
    const row = await this.inflight.read(this.layout.inflightRow(tenantId));
    const directory = this.layout.inflightDirectory;
    if (row === undefined && directory !== undefined)
      await this.inflight.upsert({ ...directory.row(tenantId), tenantId });
    return counterStateOf(row);
  }

  private rememberCounter(tenantId: string, counter: CounterState | undefined): void {
    this.counters.delete(tenantId);
    if (counter === undefined) return;
    if (this.counters.size >= COUNTER_CACHE_SIZE) {
      const oldest = this.counters.keys().next();
      if (oldest.done !== true) this.counters.delete(oldest.value);
    }
    this.counters.set(tenantId, counter);
  }

  /** Best effort: the index row an orphan admission wrote with its record (tenant-partition layout). */
  private async dropOrphanIndexRow(tenantId: string, record: StoredEntity): Promise<void> {
    const rowKey = record[INDEX_ROW_KEY_PROPERTY];
    if (typeof rowKey !== 'string' || this.layout.admissionInTenantPartition !== true) return;
    const jobId = idempotencyFromEntity(record).jobId;
    if (isJobId(jobId) && (await this.jobs.read(this.layout.jobRow(jobId)).catch(() => true)) !== undefined)
      return;
    await this.jobIndex
      .delete({ partitionKey: this.layout.indexPartition(tenantId), rowKey }, '*')
      .catch(() => false);
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

    // Rows that share the partition (the single table's counter and records) sort after the index.
    let filter = odata`PartitionKey eq ${this.layout.indexPartition(query.tenantId)} and RowKey lt ${INDEX_ROW_KEY_TO}`;
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
    const row = await this.inflight.read(this.layout.inflightRow(tenantId));
    return countOf(row);
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
    // The shard's partition, its active entries only: their row keys (job ids) sort before every
    // finished entry's, so a finished job is never read.
    const rows = await this.sweep.queryAll(
      odata`PartitionKey eq ${this.layout.shardPartition(shard)} and RowKey lt ${ACTIVE_ROW_KEY_TO} and checkAt le ${now.toISOString()}`,
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
    const activeOnly = odata`RowKey lt ${ACTIVE_ROW_KEY_TO}`;
    const entries = (
      await this.sweep.queryAll(`${rangeFilter(this.layout.shardPartitions)} and ${activeOnly}`)
    ).map(activeFromEntity);
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
    const [inShards, inDays] = await Promise.all([
      this.finishedInShards(beforeIso, limit),
      this.finishedInDayPartitions(beforeIso, limit),
    ]);
    return [...inShards, ...inDays]
      .sort((a, b) => compare(a.finishedAt, b.finishedAt) || compare(a.jobId, b.jobId))
      .slice(0, limit);
  }

  /**
   * The oldest (at most `limit`) finished entries of each shard that finished before `beforeIso`:
   * one query over the shard partitions bounded to finished row keys (`~done|{finishedAt}|…`, oldest
   * first in each partition, never an active entry). A shard that has given `limit` is left by
   * querying again from the next partition, so what is read is O(limit) per shard, whatever the
   * backlog, and without knowing how many shards there are.
   */
  private async finishedInShards(beforeIso: string, limit: number): Promise<FinishedJobEntry[]> {
    const { from, to } = this.layout.shardPartitions;
    const finishedBefore = odata`PartitionKey lt ${to} and RowKey ge ${FINISHED_ROW_KEY_FROM} and RowKey lt ${finishedRowKeyBound(beforeIso)}`;
    const entries: FinishedJobEntry[] = [];
    let after: string | undefined;
    for (;;) {
      const start = after === undefined ? odata`PartitionKey ge ${from}` : odata`PartitionKey gt ${after}`;
      let partition: string | undefined;
      let taken = 0;
      let full: string | undefined;
      for await (const row of this.sweep.query(`${start} and ${finishedBefore}`, limit)) {
        if (row.partitionKey !== partition) {
          partition = row.partitionKey;
          taken = 0;
        }
        entries.push(finishedFromEntity(row));
        taken += 1;
        if (taken >= limit) {
          full = partition;
          break;
        }
      }
      if (full === undefined) return entries;
      after = full;
    }
  }

  /**
   * Finished entries written before they moved into the shard partitions, in the day partitions up
   * to `beforeIso`'s day (oldest first; row keys start with `finishedAt`). Still listed so that
   * retention purges those jobs (there is no migration); nothing writes there any more, so this
   * comes back empty once the last of them is purged.
   */
  private async finishedInDayPartitions(beforeIso: string, limit: number): Promise<FinishedJobEntry[]> {
    const days = this.layout.legacyFinishedPartitions;
    const filter = odata`PartitionKey ge ${days.from} and PartitionKey le ${this.layout.legacyFinishedPartition(finishedDay(beforeIso))} and RowKey lt ${beforeIso}`;
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
    const idemKeys = this.layout.idempotencyRow(
      job.tenantId,
      idempotencyScopeId(job.tenantId, job.idempotencyKey),
    );
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
    const finishedAt = job.finishedAt ?? job.updatedAt;
    if (!(await this.sweep.delete(this.finishedKeys(job.lane, finishedAt, jobId), '*')))
      await this.sweep.delete(this.legacyFinishedKeys(finishedAt, jobId), '*');
    await this.jobs.delete(this.layout.jobRow(jobId), '*');
    this.stepIndexes.delete(jobId);
    return true;
  }

  async removeOrphanIdempotency(
    orphan: Pick<ActiveJobEntry, 'tenantId' | 'idempotencyScope' | 'jobId'>,
  ): Promise<boolean> {
    const { tenantId, idempotencyScope, jobId } = orphan;
    await this.ready();
    const keys = this.layout.idempotencyRow(tenantId, idempotencyScope);
    const record = await this.idempotency.read(keys);
    if (record === undefined || idempotencyFromEntity(record).jobId !== jobId) return false;
    if (isJobId(jobId) && (await this.jobs.read(this.layout.jobRow(jobId))) !== undefined) return false;
    // If-Match: a record replaced meanwhile (a re-admission) is not this orphan any more.
    if (!(await this.idempotency.delete(keys, record.etag))) return false;
    await this.dropOrphanIndexRow(tenantId, record);
    return true;
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
    return this.updateConditionally(
      this.jobs,
      keys,
      `job ${jobId}`,
      (current) => {
        if (current === undefined) throw new JobNotFoundError(jobId);
        const job = jobFromEntity(current);
        const next: Job = {
          ...job,
          repairs: appendRepair(job.repairs, repair),
          orchestrationRestarts: job.orchestrationRestarts + (options.countsRestart === true ? 1 : 0),
        };
        return { write: jobToEntity(next, keys, revisionOf(current) + 1), result: next };
      },
      { remembered: true },
    );
  }

  async listInflightCounters(): Promise<readonly InflightCounter[]> {
    await this.ready();
    const directory = this.layout.inflightDirectory;
    if (directory === undefined) return (await this.inflight.queryAll(undefined)).map(counterFromEntity);
    // The directory names the tenants; each counter is one point read (never a scan of the index).
    const tenants = (await this.inflight.queryAll(rangeFilter(directory.partitions))).map((row) =>
      String(row['tenantId']),
    );
    const counters: InflightCounter[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < tenants.length; i = next++) {
        const row = await this.inflight.read(this.layout.inflightRow(tenants[i] as string));
        if (row !== undefined) counters.push(counterFromEntity(row));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, tenants.length) }, worker));
    return counters;
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
    // Whatever this process remembered of the counter is older now: the next write reads it again.
    this.counters.delete(tenantId);
    return outcome.ok;
  }

  /**
   * Replaces the job's active entry by its finished entry in ONE transaction in the shard's
   * partition: the active entry's delete and the finished entry's upsert. Decided on the active
   * entry as this process last wrote it (at admission or redrive: nothing read), else as read: an
   * entry a later redrive wrote (higher revision) is that redrive's, and so are the lists, so
   * nothing is written. A refusal (the entry is gone: a rival's end, or this transaction applied
   * with its answer lost) reads it and decides again. With no active entry, only the finished entry
   * is written; by a replayed event (`written` false), only if it is missing.
   *
   * The SDK sends a transaction's delete without an ETag (`If-Match: *`), so the entry's revision
   * is checked on the row decided on: a redrive whose own listing lands between that decision and
   * this transaction (one round trip) would lose its active entry to it; a START that finds the job
   * running and unlisted lists it again (`ensureActive`).
   */
  private async listAsFinished(job: Job, revision: number, written: boolean): Promise<void> {
    const activeKeys = this.activeKeys(job.lane, job.jobId);
    const finishedAt = job.finishedAt ?? job.updatedAt;
    const finished = finishedToEntity(this.finishedKeys(job.lane, finishedAt, job.jobId), {
      jobId: job.jobId,
      tenantId: job.tenantId,
      finishedAt,
    });
    const memoryKey = rowMemoryKey(this.sweep, activeKeys);
    let active = this.recall(memoryKey);
    this.written.delete(memoryKey);
    if (active === undefined || revisionOf(active) > revision) active = await this.sweep.read(activeKeys);
    for (let attempt = 1; ; attempt += 1) {
      if (active !== undefined && revisionOf(active) > revision) return;
      if (active === undefined) {
        if (!written && (await this.sweep.read(finished)) !== undefined) return;
        await this.sweep.upsert(finished);
        return;
      }
      const outcome = await this.sweep.transact([
        { kind: 'delete', keys: activeKeys },
        { kind: 'upsert', entity: finished },
      ]);
      if (outcome.ok) return;
      if (attempt >= this.maxWriteAttempts)
        throw new WriteContentionError(`active entry of job ${job.jobId}`, this.maxWriteAttempts);
      if (attempt > 1) await contentionPause(attempt);
      active = await this.sweep.read(activeKeys);
    }
  }

  /**
   * A redriven job is in flight again: its finished entry is replaced by an active entry, due now,
   * in ONE transaction in the shard's partition. Sent first without a read (after an end there is
   * no active entry); refused, both rows are read and the transaction decided again on them (an
   * active entry at this revision or later is a later writer's and stays; this very transaction,
   * applied with its answer lost, is told by its write id). A job listed as finished before the
   * entries moved to the shards has its entry in a day partition: that one is removed on its own.
   */
  private async listAsActiveAgain(job: Job, previous: Job, revision: number, now: Date): Promise<void> {
    const activeKeys = this.activeKeys(job.lane, job.jobId);
    const activeEntity = activeToEntity(activeKeys, activeEntryOf(job, now), revision);
    const previousAt = previous.finishedAt ?? previous.updatedAt;
    const finishedKeys = this.finishedKeys(job.lane, previousAt, job.jobId);
    let ops: TransactionOp[] = [
      { kind: 'create', entity: activeEntity },
      { kind: 'delete', keys: finishedKeys },
    ];
    let finishedSeen = true;
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.sweep.transact(ops);
      if (outcome.ok) {
        const written = ops.findIndex((op) => op.kind !== 'delete');
        if (written >= 0) this.rememberRow(this.sweep, activeEntity, outcome.etags[written]);
        break;
      }
      if (attempt >= this.maxWriteAttempts)
        throw new WriteContentionError(`active entry of job ${job.jobId}`, this.maxWriteAttempts);
      if (attempt > 1) await contentionPause(attempt);
      const [active, finished] = await Promise.all([
        this.sweep.read(activeKeys),
        this.sweep.read(finishedKeys),
      ]);
      if (active !== undefined && active[WRITE_ID] === outcome.writeId) {
        this.rememberRow(this.sweep, activeEntity, active.etag);
        break;
      }
      if (finished === undefined) finishedSeen = false;
      ops = [];
      if (active === undefined) ops.push({ kind: 'create', entity: activeEntity });
      else if (revisionOf(active) < revision)
        ops.push({ kind: 'replace', entity: activeEntity, etag: active.etag });
      if (finished !== undefined) ops.push({ kind: 'delete', keys: finishedKeys });
      if (ops.length === 0) break;
    }
    if (!finishedSeen) await this.sweep.delete(this.legacyFinishedKeys(previousAt, job.jobId), '*');
  }

  /** Lists an in-flight job as active if nothing lists it (one read when it is listed). */
  private async ensureActive(job: Job, revision: number, now: Date): Promise<void> {
    const keys = this.activeKeys(job.lane, job.jobId);
    if ((await this.sweep.read(keys)) !== undefined) return;
    const entry = activeEntryOf(job, now);
    await this.sweep.insert(activeToEntity(keys, entry, revision));
  }

  private activeKeys(shard: number, jobId: string): RowKeys {
    return { partitionKey: this.layout.shardPartition(shard), rowKey: jobId };
  }

  /** A finished entry: in its shard's partition, beside the active entries. */
  private finishedKeys(shard: number, finishedAt: string, jobId: string): RowKeys {
    return { partitionKey: this.layout.shardPartition(shard), rowKey: finishedRowKey(finishedAt, jobId) };
  }

  /** A finished entry as listed before the entries moved to the shards: in its day's partition. */
  private legacyFinishedKeys(finishedAt: string, jobId: string): RowKeys {
    return {
      partitionKey: this.layout.legacyFinishedPartition(finishedDay(finishedAt)),
      rowKey: legacyFinishedRowKey(finishedAt, jobId),
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
    const followUps: Promise<void>[] = [];
    // Only the writer whose conditional write moved the job into a terminal state gets here with
    // `from`, so the slot is released exactly once.
    if (from !== undefined && !isTerminalJobStatus(from) && isTerminalJobStatus(transition.next.status)) {
      if (this.counterBesideIndex) followUps.push(this.finishInTenantPartition(transition.next, revision));
      else
        followUps.push(this.syncIndex(transition.next, revision), this.releaseSlot(transition.next.tenantId));
    } else {
      followUps.push(this.syncIndex(transition.next, revision));
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
          { remembered: true },
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
    return this.updateConditionally(
      this.steps,
      keys,
      `step ${jobId}/${stepId}`,
      (current) => {
        if (current === undefined) throw new StepNotFoundError(jobId, stepId);
        const { next, changed, result } = decide(stepFromEntity(current));
        return changed ? { write: stepToEntity(next, keys), result } : { result };
      },
      { remembered: true },
    );
  }

  /** A step's position (part of its row key), from the job row: also tells a missing job from a missing step. */
  private async stepIndexOf(jobId: string, stepId: string): Promise<number> {
    let indexes = this.stepIndexes.get(jobId);
    if (indexes === undefined) {
      if (!isJobId(jobId)) throw new JobNotFoundError(jobId);
      const row = await this.jobs.read(this.layout.jobRow(jobId));
      if (row === undefined) throw new JobNotFoundError(jobId);
      indexes = this.rememberStepIndexes(jobId, jobFromEntity(row).stepIds);
    }
    const index = indexes.get(stepId);
    if (index === undefined) throw new StepNotFoundError(jobId, stepId);
    return index;
  }

  /** planAdmission gives step i of the protocol index i, and `stepIds` lists them in that order. */
  private rememberStepIndexes(jobId: string, stepIds: readonly string[]): ReadonlyMap<string, number> {
    const indexes = new Map(stepIds.map((id, i) => [id, i]));
    if (this.stepIndexes.size >= STEP_INDEX_CACHE_SIZE) {
      const oldest = this.stepIndexes.keys().next();
      if (oldest.done !== true) this.stepIndexes.delete(oldest.value);
    }
    this.stepIndexes.set(jobId, indexes);
    return indexes;
  }

  /**
   * Brings the index row up to the job's revision. Conditional too, and never backwards: a writer
   * delayed after its job write must not put an older status back over a newer one.
   */
  private syncIndex(job: Job, revision: number): Promise<void> {
    const keys = this.indexKeys(job);
    return this.updateConditionally(
      this.jobIndex,
      keys,
      `index row of job ${job.jobId}`,
      (current) =>
        current !== undefined && revisionOf(current) >= revision
          ? { result: undefined }
          : { write: indexToEntity(job, keys, revision), result: undefined },
      { remembered: true },
    );
  }

  /**
   * The end of a job, by the writer that moved it into a terminal state, where the tenant's counter
   * shares its partition with the index row: the index row brought up to the job's revision and the
   * slot given back in ONE transaction, with If-Match on the ETags this process remembers (read,
   * together, when it remembers none). Anything else (the index row already as new, no slot to give
   * back on the counter as known, a refusal) falls back to the two separate writes, which decide on
   * their own; a transaction whose answer was lost is told by its write id, so the slot goes back once.
   */
  private async finishInTenantPartition(job: Job, revision: number): Promise<void> {
    const indexMemory = rowMemoryKey(this.jobIndex, this.indexKeys(job));
    const finished = await this.inCounterTurn(job.tenantId, () =>
      this.rowTurns.run(indexMemory, () => this.finishInOneTransaction(job, revision, indexMemory)),
    );
    if (finished) return;
    const failed = (
      await Promise.allSettled([this.syncIndex(job, revision), this.releaseSlot(job.tenantId)])
    ).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** One try of `finishInTenantPartition`, in the counter's and the index row's turns; false: not applied. */
  private async finishInOneTransaction(job: Job, revision: number, indexMemory: string): Promise<boolean> {
    const { tenantId } = job;
    const indexKeys = this.indexKeys(job);
    const counterKeys = this.layout.inflightRow(tenantId);
    let counter = this.counters.get(tenantId);
    let index = this.recall(indexMemory);
    if (counter === undefined || index === undefined) {
      [counter, index] = await Promise.all([
        counter ?? this.inflight.read(counterKeys).then(counterStateOf),
        index ?? this.jobIndex.read(indexKeys),
      ]);
    }
    // Nothing for the index row to catch up with, or no slot to give back on the counter as known.
    if (index !== undefined && revisionOf(index) >= revision) return false;
    if (counter.etag === undefined || counter.count <= 0) return false;

    const indexEntity = indexToEntity(job, indexKeys, revision);
    const count = counter.count - 1;
    const counterEntity = counterToEntity(counterKeys, tenantId, count);
    this.written.delete(indexMemory);
    this.counters.delete(tenantId);
    const outcome = await this.jobIndex.transact([
      index === undefined
        ? { kind: 'create', entity: indexEntity }
        : { kind: 'replace', entity: indexEntity, etag: index.etag },
      { kind: 'replace', entity: counterEntity, etag: counter.etag },
    ]);
    if (outcome.ok) {
      this.remember(indexMemory, indexEntity, outcome.etags[0]);
      this.rememberCounter(tenantId, { count, etag: outcome.etags[1] });
      return true;
    }
    // Refused as a whole: by a rival's write, or by this very transaction (its first answer was lost
    // and the SDK's retry met it). The rows as they now are tell which (either carrying its write id
    // proves it applied), and are what the separate writes then decide on first.
    const [counterRow, indexRow] = await Promise.all([
      this.inflight.read(counterKeys),
      this.jobIndex.read(indexKeys),
    ]);
    this.rememberCounter(tenantId, counterStateOf(counterRow));
    if (indexRow !== undefined) this.remember(indexMemory, { ...indexRow, ...indexKeys }, indexRow.etag);
    return [counterRow, indexRow].some((row) => row !== undefined && row[WRITE_ID] === outcome.writeId);
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
   * Updates of a remembered row go through the row's group commit (see `writeGroup`).
   */
  private async updateConditionally<T>(
    table: StorageTable,
    keys: RowKeys,
    what: string,
    decide: (current: StoredEntity | undefined) => Decision<T>,
    options: { readonly remembered?: boolean } = {},
  ): Promise<T> {
    if (options.remembered !== true) {
      const [answer] = await this.writeGroup(table, keys, what, [decide], undefined);
      if (answer === undefined || !answer.ok) throw answer?.error;
      return answer.result as T;
    }
    const memoryKey = rowMemoryKey(table, keys);
    // A group's write takes the row's turn too, so a job's end (`finishInTenantPartition`, which
    // writes the index row in a transaction) never runs between a group's read and its write.
    return this.rowGroups.submit<T>(memoryKey, decide, (group) =>
      this.rowTurns.run(memoryKey, () => this.writeGroup(table, keys, what, group, memoryKey)),
    );
  }

  /**
   * Decides the updates of `group` in order on one row, each on the row as the one before left it
   * (an update that throws answers its error and leaves the row as it was), and writes the row once,
   * with If-Match on the ETag of the row decided on; one answer per update. `memoryKey`: the row is
   * remembered as written under it, and the first decision is made on the remembered row.
   *
   * The write's success proves the row decided on was the stored one, so every answer of the group
   * stands, the ones that wrote nothing or threw included. A group that writes nothing proves
   * nothing on a remembered row: it is decided again on the row read. A refused write (another
   * process wrote) decides the whole group again, in the same order, on the row as it now is.
   */
  private async writeGroup(
    table: StorageTable,
    keys: RowKeys,
    what: string,
    group: readonly RowUpdate[],
    memoryKey: string | undefined,
  ): Promise<GroupAnswer[]> {
    let current = memoryKey === undefined ? undefined : this.recall(memoryKey);
    let fresh = current === undefined;
    if (fresh) current = await table.read(keys);
    for (let attempt = 1; attempt <= this.maxWriteAttempts; attempt += 1) {
      const { write, answers } = decideInOrder(current, group);
      if (write === undefined) {
        // A refusal, or nothing to write, is only ever answered on the row as it is in storage.
        if (fresh) return answers;
        if (memoryKey !== undefined) this.written.delete(memoryKey);
        current = await table.read(keys);
        fresh = true;
        continue;
      }
      const outcome =
        current === undefined ? await table.insert(write) : await table.replace(write, current.etag);
      if (outcome.ok) {
        if (memoryKey !== undefined) this.remember(memoryKey, write, outcome.etag);
        return answers;
      }
      if (memoryKey !== undefined) this.written.delete(memoryKey);
      current = outcome.current;
      // A remembered row that was out of date is no contention: only a lost race on a read row is.
      if (fresh) await contentionPause(attempt);
      fresh = true;
    }
    throw new WriteContentionError(what, this.maxWriteAttempts);
  }

  private recall(memoryKey: string): StoredEntity | undefined {
    return this.written.get(memoryKey);
  }

  /** Remembers a row as just written (most recent last; the oldest goes first when full). */
  private remember(memoryKey: string, entity: Entity, etag: string | undefined): void {
    this.written.delete(memoryKey);
    if (etag === undefined || etag === '') return;
    if (this.written.size >= ROW_MEMORY_SIZE) {
      const oldest = this.written.keys().next();
      if (oldest.done !== true) this.written.delete(oldest.value);
    }
    this.written.set(memoryKey, { ...entity, etag } as StoredEntity);
  }

  private rememberRow(table: StorageTable, entity: Entity, etag: string | undefined): void {
    this.remember(rowMemoryKey(table, entity), entity, etag);
  }
}

function rowMemoryKey(table: StorageTable, keys: RowKeys): string {
  return `${table.name}\u0000${keys.partitionKey}\u0000${keys.rowKey}`;
}

/**
 * The updates of a group in order, each on the row the one before left (an update that throws
 * answers its error and leaves the row as it was); `write`: the row after the last update that
 * wrote, undefined when none did. The rows decided on after a write carry the ETag of `base`.
 */
function decideInOrder(
  base: StoredEntity | undefined,
  group: readonly RowUpdate[],
): { readonly write: Entity | undefined; readonly answers: GroupAnswer[] } {
  let current = base;
  let write: Entity | undefined;
  const answers = group.map((decide): GroupAnswer => {
    try {
      const decision = decide(current);
      if ('write' in decision) {
        write = decision.write;
        current = { ...decision.write, etag: base?.etag ?? '' } as StoredEntity;
      }
      return { ok: true, result: decision.result };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { write, answers };
}

function counterStateOf(row: StoredEntity | undefined): CounterState {
  return { count: countOf(row), etag: row?.etag };
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
