/**
 * The `table` ledger backend: Azure Table Storage with one table per kind of row.
 *
 *   Jobs         PK = job id              RK = `JOB`
 *   Steps        PK = job id              RK = `STEP|000|ocr`        (protocol order)
 *   Idempotency  PK = scope id (hash)     RK = `IDEMPOTENCY`
 *   JobIndex     PK = tenant id           RK = `<inverted ms>|<job id>` (newest first)
 *   Inflight     PK = tenant id           RK = `INFLIGHT`
 *   Sweep        PK = `active|<shard>`     RK = job id                 (jobs in flight, `checkAt`)
 *                                         RK = `~done|<finishedAt>|<job id>` (finished jobs)
 *                PK = `done|<yyyy-mm-dd>`  RK = `<finishedAt>|<job id>` (finished before they moved
 *                                                                     to the shards: read, not written)
 *
 * Jobs and steps are in different tables, so no transaction spans them: the steps are written first
 * and the job row last, the job row being the commit point (readers without it see no job).
 * All algorithms are shared with the single-table backend (table-support/table-ledger-engine.ts).
 */
import { JOB_ROW_KEY } from './keys';
import {
  checkedStepRowKey,
  checkShard,
  encodeKeyPart,
  prefixRange,
  type LedgerTableNames,
  type TableLedgerLayout,
} from './table-support/layout';
import { TableLedgerEngine, type TableLedgerTuning } from './table-support/table-ledger-engine';
import type { TableStorageOptions } from './table-support/table-clients';

export type { LedgerTableNames } from './table-support/layout';
export type { TableStorageConnection, TableStorageOptions } from './table-support/table-clients';

export const DEFAULT_LEDGER_TABLE_NAMES: LedgerTableNames = Object.freeze({
  jobs: 'LuciusJobs',
  steps: 'LuciusSteps',
  idempotency: 'LuciusIdempotency',
  jobIndex: 'LuciusJobIndex',
  inflight: 'LuciusInflight',
  sweep: 'LuciusSweep',
});

export interface TableJobLedgerOptions extends TableStorageOptions, TableLedgerTuning {
  readonly tables: LedgerTableNames;
}

const IDEMPOTENCY_ROW_KEY = 'IDEMPOTENCY';
const INFLIGHT_ROW_KEY = 'INFLIGHT';

export function separateTablesLayout(tables: LedgerTableNames): TableLedgerLayout {
  return {
    tables,
    jobRow: (jobId) => ({ partitionKey: jobId, rowKey: JOB_ROW_KEY }),
    stepRow: (jobId, index, stepId) => ({ partitionKey: jobId, rowKey: checkedStepRowKey(index, stepId) }),
    stepsPartition: (jobId) => jobId,
    idempotencyRow: (_tenantId, scopeId) => ({
      partitionKey: encodeKeyPart(scopeId),
      rowKey: IDEMPOTENCY_ROW_KEY,
    }),
    indexPartition: (tenantId) => encodeKeyPart(tenantId),
    inflightRow: (tenantId) => ({ partitionKey: encodeKeyPart(tenantId), rowKey: INFLIGHT_ROW_KEY }),
    // `active` names the shard partitions for what they first held: renaming them would strand the
    // entries of the jobs in flight.
    shardPartition: (shard) => `active|${checkShard(shard)}`,
    shardPartitions: prefixRange('active|'),
    legacyFinishedPartition: (day) => `done|${day}`,
    legacyFinishedPartitions: prefixRange('done|'),
  };
}

export class TableJobLedger extends TableLedgerEngine {
  constructor(options: TableJobLedgerOptions) {
    super(separateTablesLayout(options.tables), options, options);
  }
}
