/**
 * The `ledger` backend: Azure Table Storage with everything in ONE table.
 *
 *   PK = <job id>                RK = `JOB`, `STEP|000|ocr`, ...   a job and its steps
 *   PK = `TENANT|<tenant id>`    RK = `<inverted ms>|<job id>`      the tenant's job index
 *   PK = `INFLIGHT|<tenant id>`  RK = `INFLIGHT`                    the tenant's in-flight counter
 *   PK = `IDEMP|<scope id>`      RK = `IDEMPOTENCY`                 an idempotency record
 *   PK = `SWEEP|active|<shard>`  RK = job id                        a job in flight (`checkAt`)
 *   PK = `SWEEP|done|<yyyy-mm-dd>` RK = `<finishedAt>|<job id>`     a finished job, by finish day
 *
 * A job and its steps share a partition, so they are written in one entity-group transaction and
 * read back with one query. The counter has a partition of its own rather than sharing the index's:
 * a listing stays a plain partition scan, and counter contention does not eat into the throughput
 * of the index partition (Azure's targets are per partition). Job ids are letters, digits and
 * dashes, so they never collide with the prefixed partitions.
 * All algorithms are shared with the separate-tables backend (table-support/table-ledger-engine.ts).
 */
import { JOB_ROW_KEY } from './keys';
import {
  checkedStepRowKey,
  checkShard,
  encodeKeyPart,
  prefixRange,
  type TableLedgerLayout,
} from './table-support/layout';
import { TableLedgerEngine, type TableLedgerTuning } from './table-support/table-ledger-engine';
import type { TableStorageOptions } from './table-support/table-clients';

export type { TableStorageConnection, TableStorageOptions } from './table-support/table-clients';

export const DEFAULT_LEDGER_TABLE_NAME = 'LuciusLedger';

export interface SingleTableJobLedgerOptions extends TableStorageOptions, TableLedgerTuning {
  readonly table: string;
}

export function singleTableLayout(table: string): TableLedgerLayout {
  return {
    tables: { jobs: table, steps: table, idempotency: table, jobIndex: table, inflight: table, sweep: table },
    jobRow: (jobId) => ({ partitionKey: jobId, rowKey: JOB_ROW_KEY }),
    stepRow: (jobId, index, stepId) => ({ partitionKey: jobId, rowKey: checkedStepRowKey(index, stepId) }),
    stepsPartition: (jobId) => jobId,
    idempotencyRow: (scopeId) => ({ partitionKey: `IDEMP|${encodeKeyPart(scopeId)}`, rowKey: 'IDEMPOTENCY' }),
    indexPartition: (tenantId) => `TENANT|${encodeKeyPart(tenantId)}`,
    inflightRow: (tenantId) => ({ partitionKey: `INFLIGHT|${encodeKeyPart(tenantId)}`, rowKey: 'INFLIGHT' }),
    inflightPartitions: prefixRange('INFLIGHT|'),
    activePartition: (shard) => `SWEEP|active|${checkShard(shard)}`,
    activePartitions: prefixRange('SWEEP|active|'),
    finishedPartition: (day) => `SWEEP|done|${day}`,
    finishedPartitions: prefixRange('SWEEP|done|'),
  };
}

export class SingleTableJobLedger extends TableLedgerEngine {
  constructor(options: SingleTableJobLedgerOptions) {
    super(singleTableLayout(options.table), options, options);
  }
}
