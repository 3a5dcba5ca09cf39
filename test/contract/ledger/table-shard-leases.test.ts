/**
 * TableShardLeases on the run's Azurite: the shared contract, then where the rows live for each
 * backend (the sweep table, or the single ledger table) as createShardLeases chooses it.
 */
import { parseSettings } from '../../../src/config/settings';
import { createShardLeases } from '../../../src/ledger/create-shard-leases';
import { MemoryShardLeases } from '../../../src/ledger/memory-shard-leases';
import { TableShardLeases } from '../../../src/ledger/table-support/table-shard-leases';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName } from '../../support/unique';
import { describeShardLeasesContract } from './shard-leases.contract';
import { rawEntities } from './table-fixtures';

function leasesOn(table: string): TableShardLeases {
  return new TableShardLeases({ connection: { connectionString: testTableConnectionString() }, table });
}

describeShardLeasesContract('TableShardLeases', async () => leasesOn(uniqueTableName('leases')));

describe('createShardLeases', () => {
  const now = new Date('2026-01-05T10:00:00.000Z');

  it('keeps the leases in the sweep table for the table backend', async () => {
    const sweep = uniqueTableName('sweep');
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'table',
      LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
      LUCIUS_TABLE_SWEEP: sweep,
    });
    await createShardLeases(settings.storage).acquire(12, 'loop-a', now, 30);
    expect(await rawEntities(sweep)).toEqual([
      expect.objectContaining({ partitionKey: 'SWEEP|lease', rowKey: '0012', owner: 'loop-a' }),
    ]);
  });

  it('keeps the leases in the single ledger table for the ledger backend', async () => {
    const ledger = uniqueTableName('ledger');
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'ledger',
      LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
      LUCIUS_TABLE_LEDGER: ledger,
    });
    await createShardLeases(settings.storage).acquire(0, 'loop-b', now, 30);
    expect(await rawEntities(ledger)).toEqual([
      expect.objectContaining({ partitionKey: 'SWEEP|lease', rowKey: '0000', owner: 'loop-b' }),
    ]);
  });

  it('keeps the leases in memory for the memory backend', () => {
    const settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' });
    expect(createShardLeases(settings.storage)).toBeInstanceOf(MemoryShardLeases);
  });

  it('shares leases between adapters on one table, as separate processes do', async () => {
    const table = uniqueTableName('leases');
    const [a, b] = [leasesOn(table), leasesOn(table)];
    expect(await a.acquire(1, 'loop-a', now, 30)).toBe(true);
    expect(await b.acquire(1, 'loop-b', now, 30)).toBe(false);
    await a.release(1, 'loop-a');
    expect(await b.acquire(1, 'loop-b', now, 30)).toBe(true);
  });
});
