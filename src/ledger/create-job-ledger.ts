/**
 * Chooses the ledger backend from settings (`LUCIUS_STORAGE_BACKEND`) and connects it: with a
 * connection string, or with an identity (the credential the connection's settings choose, by the
 * Functions runtime's rules) when only an endpoint is configured.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import type { Settings } from '../config/settings';
import type { JobLedger } from '../ports/job-ledger';
import { MemoryJobLedger } from './memory-job-ledger';
import { SingleTableJobLedger } from './single-table-job-ledger';
import { TableJobLedger } from './table-job-ledger';
import { tableStorageConnection } from './table-support/table-clients';

export interface CreateJobLedgerOptions {
  /** Pipeline options for every TableClient (e.g. a policy counting round trips in a benchmark). */
  readonly clientOptions?: TableServiceClientOptions;
}

export function createJobLedger(
  storage: Settings['storage'],
  options: CreateJobLedgerOptions = {},
): JobLedger {
  if (storage.backend === 'memory') return new MemoryJobLedger();
  if (storage.connection === undefined)
    throw new RangeError(`the ${storage.backend} backend needs a table connection`);
  const connection = tableStorageConnection(storage.connection);
  const clientOptions = options.clientOptions === undefined ? {} : { clientOptions: options.clientOptions };
  if (storage.backend === 'ledger')
    return new SingleTableJobLedger({ connection, table: storage.tables.ledger, ...clientOptions });
  const { ledger: _single, ...tables } = storage.tables;
  return new TableJobLedger({ connection, tables, ...clientOptions });
}
