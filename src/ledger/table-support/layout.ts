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
}

export interface TableLedgerLayout {
  readonly tables: LedgerTableNames;
  jobRow(jobId: string): RowKeys;
  stepRow(jobId: string, index: number, stepId: string): RowKeys;
  /** The partition holding a job's step rows (their row keys all start with `STEP|`). */
  stepsPartition(jobId: string): string;
  idempotencyRow(scopeId: string): RowKeys;
  /** The partition of a tenant's job index; its row keys are `indexRowKey(createdAt, jobId)`. */
  indexPartition(tenantId: string): string;
  inflightRow(tenantId: string): RowKeys;
}

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
