/**
 * The `ledger` backend: Azure Table Storage with everything in ONE table.
 *
 *   PK = <job id>                RK = `JOB`, `STEP|000|ocr`, ...   a job and its steps
 *   PK = `TENANT|<tenant id>`    RK = `<inverted ms>|<job id>`      the tenant's job index
 *                                RK = `~INFLIGHT`                   the tenant's in-flight counter
 *                                RK = `~IDEMP|<scope id>`           an idempotency record of the tenant
 *   PK = `INFLIGHT|`             RK = <tenant id>                   directory of the tenants with a counter
 *   PK = `SWEEP|active|<shard>`  RK = job id                        a job in flight (`checkAt`)
 *                                RK = `~done|<finishedAt>|<job id>` a finished job, in its shard
 *   PK = `SWEEP|done|<yyyy-mm-dd>` RK = `<finishedAt>|<job id>`     a finished job listed before
 *                                                                   they moved (read, never written)
 *
 * A job and its steps share a partition, so they are written in one entity-group transaction and
 * read back with one query. A tenant's counter, idempotency records and index rows share the
 * tenant's partition, so an admission takes its slot, claims its key and lists its job in one
 * transaction too: three round trips in all (that one, the active entry, the job with its steps);
 * and a job's end updates its index row and gives its slot back in one transaction, and replaces
 * its active entry by its finished entry in another (both in the shard's partition).
 * The `~` rows sort after every index row, so a listing is a bounded range of the partition; the
 * counters are listed through their directory (written once per tenant), never by a scan of the
 * index partitions. Job ids are letters, digits and dashes, so they never collide with the prefixed
 * partitions.
 * All algorithms are shared with the separate-tables backend (table-support/table-ledger-engine.ts).
 */
import { JOB_ROW_KEY } from './keys';
import {
  checkedStepRowKey,
  checkShard,
  encodeKeyPart,
  INDEX_ROW_KEY_TO,
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

const INFLIGHT_DIRECTORY = 'INFLIGHT|';

function tenantPartition(tenantId: string): string {
  return `TENANT|${encodeKeyPart(tenantId)}`;
}

export function singleTableLayout(table: string): TableLedgerLayout {
  return {
    tables: { jobs: table, steps: table, idempotency: table, jobIndex: table, inflight: table, sweep: table },
    jobRow: (jobId) => ({ partitionKey: jobId, rowKey: JOB_ROW_KEY }),
    stepRow: (jobId, index, stepId) => ({ partitionKey: jobId, rowKey: checkedStepRowKey(index, stepId) }),
    stepsPartition: (jobId) => jobId,
    idempotencyRow: (tenantId, scopeId) => ({
      partitionKey: tenantPartition(tenantId),
      rowKey: `${INDEX_ROW_KEY_TO}IDEMP|${encodeKeyPart(scopeId)}`,
    }),
    indexPartition: tenantPartition,
    inflightRow: (tenantId) => ({
      partitionKey: tenantPartition(tenantId),
      rowKey: `${INDEX_ROW_KEY_TO}INFLIGHT`,
    }),
    inflightDirectory: {
      row: (tenantId) => ({ partitionKey: INFLIGHT_DIRECTORY, rowKey: encodeKeyPart(tenantId) }),
      partitions: prefixRange(INFLIGHT_DIRECTORY),
    },
    admissionInTenantPartition: true,
    // `active` names the shard partitions for what they first held: renaming them would strand the
    // entries of the jobs in flight.
    shardPartition: (shard) => `SWEEP|active|${checkShard(shard)}`,
    shardPartitions: prefixRange('SWEEP|active|'),
    legacyFinishedPartition: (day) => `SWEEP|done|${day}`,
    legacyFinishedPartitions: prefixRange('SWEEP|done|'),
  };
}

export class SingleTableJobLedger extends TableLedgerEngine {
  constructor(options: SingleTableJobLedgerOptions) {
    super(singleTableLayout(options.table), options, options);
  }
}
