/**
 * Chooses the DispatchSlots adapter from the storage settings, as createShardLeases does: memory for
 * the `memory` backend; otherwise slot rows in the sweep table (`table` backend, LUCIUS_TABLE_SWEEP)
 * or in the single ledger table (`ledger` backend, LUCIUS_TABLE_LEDGER).
 */
import type { Settings } from '../../config/settings';
import type { DispatchSlots } from '../../ports/dispatch-slots';
import type { CreateJobLedgerOptions } from '../create-job-ledger';
import { tableStorageConnection } from '../table-support/table-clients';
import { MemoryDispatchSlots } from './memory-dispatch-slots';
import { TableDispatchSlots } from './table-dispatch-slots';

export function createDispatchSlots(
  storage: Settings['storage'],
  options: CreateJobLedgerOptions = {},
): DispatchSlots {
  if (storage.backend === 'memory') return new MemoryDispatchSlots();
  if (storage.connection === undefined)
    throw new RangeError(`the ${storage.backend} backend needs a table connection`);
  return new TableDispatchSlots({
    connection: tableStorageConnection(storage.connection),
    table: storage.backend === 'ledger' ? storage.tables.ledger : storage.tables.sweep,
    ...(options.clientOptions === undefined ? {} : { clientOptions: options.clientOptions }),
  });
}
