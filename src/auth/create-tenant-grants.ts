/**
 * Chooses where the grants live from settings, as the ledger does (create-job-ledger.ts): the
 * memory backend keeps them in memory (empty at start); the `table` and `ledger` backends keep them
 * in their own table (`LUCIUS_TABLE_GRANTS`) on the ledger's connection, read through a per-process
 * cache of `LUCIUS_AUTH_GRANTS_CACHE_SECONDS`. `createTenantGrantsAdmin` is the uncached write side
 * that `lucius grants` uses.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import type { Settings } from '../config/settings';
import type { Clock } from '../domain/clock';
import { tableStorageConnection } from '../ledger/table-support/table-clients';
import { CachedTenantGrants } from './cached-tenant-grants';
import { MemoryTenantGrants } from './memory-tenant-grants';
import { TableTenantGrants } from './table-tenant-grants';
import type { TenantGrantsAdmin } from './tenant-grants-admin';
import type { TenantGrants } from './tenant-grants';

export interface CreateTenantGrantsOptions {
  /** The cache's clock (default: the system clock). */
  readonly clock?: Clock;
  /** Pipeline options for the TableClient (e.g. a round-trip counter in a benchmark). */
  readonly clientOptions?: TableServiceClientOptions;
}

const systemClock: Clock = { now: () => new Date() };

export function createTenantGrants(
  settings: Settings,
  options: CreateTenantGrantsOptions = {},
): TenantGrants {
  if (settings.storage.backend === 'memory') return new MemoryTenantGrants();
  return new CachedTenantGrants(createTenantGrantsAdmin(settings, options), {
    ttlSeconds: settings.security.grants.cacheSeconds,
    clock: options.clock ?? systemClock,
  });
}

/** The grants table itself, uncached; a RangeError for the memory backend (nothing would last). */
export function createTenantGrantsAdmin(
  settings: Settings,
  options: Pick<CreateTenantGrantsOptions, 'clientOptions'> = {},
): TenantGrantsAdmin {
  const { storage } = settings;
  if (storage.backend === 'memory')
    throw new RangeError(
      'the memory backend keeps grants only inside the app process: set LUCIUS_STORAGE_BACKEND=table or ledger (and its table connection) to manage grants',
    );
  if (storage.connection === undefined)
    throw new RangeError(`the ${storage.backend} backend needs a table connection`);
  return new TableTenantGrants({
    connection: tableStorageConnection(storage.connection),
    table: settings.security.grants.table,
    ...(options.clientOptions === undefined ? {} : { clientOptions: options.clientOptions }),
  });
}
