/**
 * Where each kind of ledger row lives: the one thing that differs between the `table` backend
 * (separate tables) and the `ledger` backend (one table). The engine (table-ledger-engine.ts) runs
 * the same algorithms over either layout.
 *
 * Keys must be valid on real Azure Tables (no `/ \ # ?` or control characters, at most 1 KiB):
 * values that come from callers (tenant ids) go through `encodeKeyPart`, generated ids are checked.
 */
import { assertValidKey, stepRowKey } from '../keys';
import type { RowKeys } from './storage-table';

export interface LedgerTableNames {
  readonly jobs: string;
  readonly steps: string;
  readonly idempotency: string;
  readonly jobIndex: string;
  readonly inflight: string;
  /** The sweepers' work lists (active and finished jobs, by shard). */
  readonly sweep: string;
}

/** An inclusive-exclusive range of partition keys: `from <= PartitionKey < to`. */
export interface PartitionRange {
  readonly from: string;
  readonly to: string;
}

export interface TableLedgerLayout {
  readonly tables: LedgerTableNames;
  jobRow(jobId: string): RowKeys;
  stepRow(jobId: string, index: number, stepId: string): RowKeys;
  /** The partition holding a job's step rows (their row keys all start with `STEP|`). */
  stepsPartition(jobId: string): string;
  /** A tenant's idempotency record for one key (`scopeId` already names the tenant). */
  idempotencyRow(tenantId: string, scopeId: string): RowKeys;
  /** The partition of a tenant's job index; its row keys are `indexRowKey(createdAt, jobId)`. */
  indexPartition(tenantId: string): string;
  inflightRow(tenantId: string): RowKeys;
  /**
   * Where the counters are listed when they share their partitions with other rows (the single
   * table keeps a tenant's counter beside its index rows): one directory row per tenant with a
   * counter, in these partitions. Absent: the counters have their table to themselves.
   */
  readonly inflightDirectory?: {
    row(tenantId: string): RowKeys;
    readonly partitions: PartitionRange;
  };
  /**
   * Present when a tenant's counter, idempotency records and index rows share one partition of one
   * table: an admission then takes its slot, claims its key and lists the job in ONE entity-group
   * transaction.
   */
  readonly admissionInTenantPartition?: true;
  /**
   * The sweepers' work lists of one shard, both in one partition: the shard's active entries (row
   * key: the job id) and its finished entries (row key `finishedRowKey(finishedAt, jobId)`), so a
   * job's end replaces the one by the other in one entity-group transaction. Every query of either
   * kind bounds its row keys (below `ACTIVE_ROW_KEY_TO`; from `FINISHED_ROW_KEY_FROM`).
   */
  shardPartition(shard: number): string;
  /** Every shard's work-list partition. */
  readonly shardPartitions: PartitionRange;
  /**
   * The finished-jobs list of one day (`yyyy-mm-dd` of `finishedAt`), row keys
   * `legacyFinishedRowKey(finishedAt, jobId)`: where finished entries were written before they moved
   * into the shard partitions. Only read and purged now (no migration): it empties as retention runs.
   */
  legacyFinishedPartition(day: string): string;
  /** Every day's legacy finished-jobs partition. */
  readonly legacyFinishedPartitions: PartitionRange;
}

/** The range of every partition key starting with `prefix` (`}` sorts right after `|`). */
export function prefixRange(prefix: string): PartitionRange {
  if (!prefix.endsWith('|')) throw new RangeError(`partition prefix "${prefix}" must end with "|"`);
  return { from: prefix, to: `${prefix.slice(0, -1)}}` };
}

/**
 * Row keys of the work lists, shared by both layouts. In a shard's partition, active entries are
 * keyed by job id (letters, digits, dashes: all before `~`) and finished entries by
 * `~done|{finishedAt}|{jobId}` (after every job id), oldest first; the two ranges never overlap.
 */
export const ACTIVE_ROW_KEY_TO = '~';
export const FINISHED_ROW_KEY_FROM = '~done|';

export function finishedRowKey(finishedAt: string, jobId: string): string {
  return assertValidKey(`${FINISHED_ROW_KEY_FROM}${finishedAt}|${jobId}`, 'finished-job row key');
}

/** The first finished-entry row key at or after `finishedAt`: rows below it finished earlier. */
export function finishedRowKeyBound(finishedAt: string): string {
  return `${FINISHED_ROW_KEY_FROM}${finishedAt}`;
}

/** A finished entry's row key in a legacy day partition. */
export function legacyFinishedRowKey(finishedAt: string, jobId: string): string {
  return assertValidKey(`${finishedAt}|${jobId}`, 'finished-job row key');
}

/** The legacy day partition of a finish time: its UTC date. */
export function finishedDay(finishedAt: string): string {
  return new Date(finishedAt).toISOString().slice(0, 10);
}

export function checkShard(shard: number): number {
  if (!Number.isInteger(shard) || shard < 0 || shard > 9999)
    throw new RangeError(`shard must be an integer in 0..9999, got ${shard}`);
  return shard;
}

/**
 * Index row keys start with digits (`<inverted ms>|<job id>`); rows that share an index partition
 * sort after them, from `~` on, so a listing bounds its scan with `RowKey lt INDEX_ROW_KEY_TO`.
 */
export const INDEX_ROW_KEY_TO = '~';

/** Row-key bounds of step rows: every `STEP|...` key sorts in [STEP|, STEP}). */
export const STEP_ROW_KEY_FROM = 'STEP|';
export const STEP_ROW_KEY_TO = 'STEP}';

/** Job ids are generated (UUIDs); continuation tokens and single-table keys rely on this shape. */
const JOB_ID = /^[A-Za-z0-9-]{1,128}$/;

export function isJobId(jobId: string): boolean {
  return JOB_ID.test(jobId);
}

export function checkJobId(jobId: string): string {
  if (!isJobId(jobId)) throw new RangeError(`job id "${jobId}" must be 1-128 letters, digits or dashes`);
  return jobId;
}

// eslint-disable-next-line no-control-regex
const KEY_UNSAFE = /[%/\\#?\u0000-\u001f\u007f-\u009f]/g;

/**
 * Makes any string usable inside a key: characters Azure forbids, and `%` itself, become `%XX`.
 * Reversible and the identity for ordinary ids, so keys stay readable in Storage Explorer.
 */
export function encodeKeyPart(value: string): string {
  return value.replace(KEY_UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function checkedStepRowKey(index: number, stepId: string): string {
  return assertValidKey(stepRowKey(index, stepId), 'step row key');
}
