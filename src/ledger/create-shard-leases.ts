/**
 * Chooses the ShardLeases adapter from the storage settings, as createJobLedger chooses the ledger:
 * memory for the `memory` backend; otherwise lease rows in the sweep table (`table` backend,
 * LUCIUS_TABLE_SWEEP) or in the single ledger table (`ledger` backend, LUCIUS_TABLE_LEDGER).
 */
import type { Settings } from '../config/settings';
import type { CreateJobLedgerOptions } from './create-job-ledger';
import { tableStorageConnection } from './table-support/table-clients';
import { MemoryShardLeases } from './memory-shard-leases';
import type { ShardLeases } from '../ports/shard-leases';
import { TableShardLeases } from './table-support/table-shard-leases';

export function createShardLeases(
  storage: Settings['storage'],
  options: CreateJobLedgerOptions = {},
): ShardLeases {
  if (storage.backend === 'memory') return new MemoryShardLeases();
  if (storage.connection === undefined)
    throw new RangeError(`the ${storage.backend} backend needs a table connection`);
  return new TableShardLeases({
    connection: tableStorageConnection(storage.connection),
    table: storage.backend === 'ledger' ? storage.tables.ledger : storage.tables.sweep,
    ...(options.clientOptions === undefined ? {} : { clientOptions: options.clientOptions }),
  });
}
