/**
 * Azurite as devhost starts it, with data on disk, killed right after it acknowledged writes: a new
 * Azurite on the same folder has them (from its write journal; azurite-journal.test.ts tests the
 * journal in depth). Writes go through the real `@azure/data-tables` SDK.
 */
import { TableClient } from '@azure/data-tables';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../../devhost/azurite';

// Each test starts Azurite twice; on a loaded machine one start alone can take over ten seconds.
jest.setTimeout(90_000);

const TABLE = 'Durability';
const started: AzuriteHandle[] = [];
const folders: string[] = [];

async function azuriteOn(location: string, durableWrites?: boolean): Promise<AzuriteHandle> {
  const azurite = await startAzurite({
    location,
    ...(durableWrites === undefined ? {} : { durableWrites }),
  });
  started.push(azurite);
  return azurite;
}

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'devhost-azurite-'));
  folders.push(folder);
  return folder;
}

/** One single-entity write and one two-row transaction, each acknowledged, then a SIGKILL. */
async function writeThenCrash(azurite: AzuriteHandle): Promise<void> {
  const client = TableClient.fromConnectionString(azurite.connectionString, TABLE, {
    allowInsecureConnection: true,
  });
  await client.createTable();
  await client.upsertEntity({ partitionKey: 'p', rowKey: 'single', Value: 'acknowledged' }, 'Replace');
  await client.submitTransaction([
    ['create', { partitionKey: 'p', rowKey: 'batch-1', Value: 'one' }],
    ['create', { partitionKey: 'p', rowKey: 'batch-2', Value: 'two' }],
  ]);
  await azurite.crash();
}

async function rowsAfterRestart(location: string): Promise<string[]> {
  const azurite = await azuriteOn(location);
  const client = TableClient.fromConnectionString(azurite.connectionString, TABLE, {
    allowInsecureConnection: true,
  });
  const rows: string[] = [];
  try {
    for await (const entity of client.listEntities<{ Value: string }>())
      rows.push(`${entity.rowKey}=${entity.Value}`);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  return rows.sort();
}

afterAll(async () => {
  await Promise.all(started.map((azurite) => azurite.stop()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('startAzurite with a data folder', () => {
  it('keeps every acknowledged write when Azurite is killed right after it', async () => {
    const location = dataFolder();
    await writeThenCrash(await azuriteOn(location));

    expect(await rowsAfterRestart(location)).toEqual(['batch-1=one', 'batch-2=two', 'single=acknowledged']);
  });

  it("loses them with Azurite's own interval saves (durableWrites: false), which is why they are on", async () => {
    const location = dataFolder();
    await writeThenCrash(await azuriteOn(location, false));

    expect(await rowsAfterRestart(location)).toEqual([]);
  });
});
