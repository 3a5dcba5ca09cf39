/**
 * ShardLeases on Azure Table Storage: one row per shard in the sweep table (the `table` backend's
 * `LuciusSweep`, or the `ledger` backend's single table), partition `SWEEP|lease`, row key the shard
 * number padded to 4 digits, properties `owner` and `expiresAt`.
 *
 * Every write is conditional on what was read: `acquire` reads the row, then inserts it when absent
 * or replaces it with If-Match on its ETag when it is expired or already this owner's; `release`
 * deletes it with If-Match when this owner holds it. A lost precondition means another owner wrote
 * in between: the acquire answers false, so at most one owner holds an unexpired lease on a shard.
 * Expiry is judged by the caller's clock (`now`), so owners' clocks should agree to within a
 * fraction of the lease period.
 */
import { odata } from '@azure/data-tables';
import { checkLeaseArguments, leaseExpiry } from '../memory-shard-leases';
import type { ShardLease, ShardLeases } from '../../ports/shard-leases';
import { StorageTable, type RowKeys, type StoredEntity } from './storage-table';
import { createTableClient, tableCreator, type TableStorageOptions } from './table-clients';

export const LEASE_PARTITION = 'SWEEP|lease';

export interface TableShardLeasesOptions extends TableStorageOptions {
  readonly table: string;
}

export function leaseRow(shard: number): RowKeys {
  return { partitionKey: LEASE_PARTITION, rowKey: String(shard).padStart(4, '0') };
}

export class TableShardLeases implements ShardLeases {
  private readonly table: StorageTable;
  private readonly ensureTable: () => Promise<void>;

  constructor(options: TableShardLeasesOptions) {
    const client = createTableClient(options, options.table);
    this.table = new StorageTable(client);
    this.ensureTable = tableCreator([client]);
  }

  async acquire(shard: number, owner: string, now: Date, ttlSeconds: number): Promise<boolean> {
    checkLeaseArguments(shard, owner, ttlSeconds);
    await this.ensureTable();
    const keys = leaseRow(shard);
    const current = await this.table.read(keys);
    const entity = { ...keys, shard, owner, expiresAt: leaseExpiry(now, ttlSeconds) };
    if (current === undefined) return (await this.table.insert(entity)).ok;
    if (!isFree(current, owner, now)) return false;
    return (await this.table.replace(entity, current.etag)).ok;
  }

  async release(shard: number, owner: string): Promise<void> {
    await this.ensureTable();
    const keys = leaseRow(shard);
    const current = await this.table.read(keys);
    if (current === undefined || current['owner'] !== owner) return;
    // A lost precondition means another owner took it after expiry: theirs now, nothing to give up.
    await this.table.delete(keys, current.etag);
  }

  async list(): Promise<readonly ShardLease[]> {
    await this.ensureTable();
    const rows = await this.table.queryAll(odata`PartitionKey eq ${LEASE_PARTITION}`);
    return rows.map(toLease).sort((a, b) => a.shard - b.shard);
  }
}

function isFree(row: StoredEntity, owner: string, now: Date): boolean {
  return row['owner'] === owner || Date.parse(String(row['expiresAt'])) <= now.getTime();
}

function toLease(row: StoredEntity): ShardLease {
  return { shard: Number(row.rowKey), owner: String(row['owner']), expiresAt: String(row['expiresAt']) };
}
