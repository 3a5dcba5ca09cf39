/**
 * Azurite's write journal (devhost/azurite-journal.ts), as devhost starts it on a data folder: every
 * kind of acknowledged write survives a SIGKILL, replaying the journal is safe to interrupt or
 * repeat, and full saves empty the journal. Writes go through the real `@azure/data-tables` SDK.
 */
import { TableClient, TableServiceClient, type TableEntityResult } from '@azure/data-tables';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  azuriteArguments,
  findFreePort,
  startAzurite,
  type AzuriteHandle,
  type StartAzuriteOptions,
} from '../../devhost/azurite';
import { JOURNAL_INFIX, REPLAY_MESSAGE } from '../../devhost/azurite-journal';

jest.setTimeout(120_000);

/** Long enough that no full save happens during a test unless it asks for one. */
const NO_FULL_SAVE_MS = 600_000;
/** Single-row writes made at once by everyKindOfWrite; a sixth of them are deleted again. */
const ROWS = 24;
const DELETED = ROWS / 6;
const started: AzuriteHandle[] = [];
const folders: string[] = [];

async function azuriteOn(location: string, options: StartAzuriteOptions = {}): Promise<AzuriteHandle> {
  const azurite = await startAzurite({ location, fullSaveIntervalMs: NO_FULL_SAVE_MS, ...options });
  started.push(azurite);
  return azurite;
}

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'devhost-azurite-journal-'));
  folders.push(folder);
  return folder;
}

function table(azurite: AzuriteHandle, name: string): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
}

function journalFiles(location: string): string[] {
  return readdirSync(location).filter((name) => name.includes(JOURNAL_INFIX));
}

function journalLines(location: string): number {
  return journalFiles(location)
    .map((name) => readFileSync(join(location, name), 'utf8').split('\n').length - 1)
    .reduce((sum, lines) => sum + lines, 0);
}

/** Everything the service answers: table names, then every table's rows with etags and timestamps. */
async function contents(azurite: AzuriteHandle): Promise<Record<string, unknown[]>> {
  const service = TableServiceClient.fromConnectionString(azurite.connectionString, {
    allowInsecureConnection: true,
  });
  const names: string[] = [];
  for await (const item of service.listTables()) names.push(item.name ?? '');
  const result: Record<string, unknown[]> = {};
  for (const name of names.sort()) {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    for await (const entity of table(azurite, name).listEntities()) rows.push(entity);
    result[name] = rows;
  }
  return result;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Acknowledged writes of every kind, many at once: inserts, replaces, merges, upserts, deletes,
 * batches (one that fails), a table created and deleted, a table deleted and created again.
 */
async function everyKindOfWrite(azurite: AzuriteHandle): Promise<void> {
  const kept = table(azurite, 'Kept');
  const dropped = table(azurite, 'Dropped');
  const recreated = table(azurite, 'Recreated');
  await Promise.all([kept.createTable(), dropped.createTable(), recreated.createTable()]);

  await Promise.all(
    range(ROWS).map(async (i) => {
      const key = { partitionKey: `p${i % 4}`, rowKey: `r${i}` };
      await kept.createEntity({ ...key, Value: i, Note: 'inserted' });
      if (i % 6 === 0) await kept.updateEntity({ ...key, Value: i * 10 }, 'Replace');
      if (i % 6 === 1) await kept.updateEntity({ ...key, Extra: 'merged' }, 'Merge');
      if (i % 6 === 2) await kept.deleteEntity(key.partitionKey, key.rowKey);
      if (i % 6 === 3) await kept.upsertEntity({ ...key, Value: -i }, 'Merge');
      if (i % 6 === 4) await kept.upsertEntity({ ...key, Value: -i }, 'Replace');
    }),
  );
  await kept.upsertEntity({ partitionKey: 'p9', rowKey: 'upserted', Value: 1 }, 'Replace');
  await kept.upsertEntity({ partitionKey: 'p9', rowKey: 'merged-in', Value: 2 }, 'Merge');

  await kept.submitTransaction([
    ['create', { partitionKey: 'batch', rowKey: 'b1', Value: 1 }],
    ['create', { partitionKey: 'batch', rowKey: 'b2', Value: 2 }],
    ['create', { partitionKey: 'batch', rowKey: 'b3', Value: 3 }],
  ]);
  await kept.submitTransaction([
    ['update', { partitionKey: 'batch', rowKey: 'b1', Value: 11 }, 'Merge'],
    ['update', { partitionKey: 'batch', rowKey: 'b2', Value: 22 }, 'Replace'],
    ['delete', { partitionKey: 'batch', rowKey: 'b3' }],
    ['upsert', { partitionKey: 'batch', rowKey: 'b4', Value: 4 }, 'Replace'],
  ]);
  await expect(
    kept.submitTransaction([
      ['create', { partitionKey: 'batch', rowKey: 'b5', Value: 5 }],
      ['create', { partitionKey: 'batch', rowKey: 'b1', Value: 111 }],
    ]),
  ).rejects.toMatchObject({ statusCode: expect.any(Number) });

  await dropped.createEntity({ partitionKey: 'x', rowKey: 'gone', Value: 1 });
  await dropped.deleteTable();
  await recreated.createEntity({ partitionKey: 'x', rowKey: 'old', Value: 1 });
  await recreated.deleteTable();
  await recreated.createTable();
  await recreated.createEntity({ partitionKey: 'x', rowKey: 'new', Value: 2 });
}

function rowsOf(snapshot: Record<string, unknown[]>, name: string): string[] {
  return (snapshot[name] ?? []).map((row) => {
    const { partitionKey, rowKey } = row as { partitionKey: string; rowKey: string };
    return `${partitionKey}/${rowKey}`;
  });
}

/** Starts Azurite on `location` and SIGKILLs it as soon as it says it replays (or has started). */
async function killDuringStartUp(location: string): Promise<void> {
  const port = await findFreePort();
  const child = spawn(process.execPath, azuriteArguments(port, { location }), {
    cwd: location,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const watch = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes(REPLAY_MESSAGE) || output.includes('successfully started')) {
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`Azurite exited (${code}): ${output}`)),
    );
  });
}

afterAll(async () => {
  await Promise.all(started.map((azurite) => azurite.stop()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('Azurite write journal', () => {
  it('keeps exactly what Azurite answered when killed right after many writes of every kind', async () => {
    const location = dataFolder();
    const azurite = await azuriteOn(location);
    await everyKindOfWrite(azurite);
    const answered = await contents(azurite);
    expect(journalLines(location)).toBeGreaterThan(0);
    await azurite.crash();

    const restarted = await azuriteOn(location);
    const recovered = await contents(restarted);

    expect(recovered).toEqual(answered);
    expect(Object.keys(recovered)).toEqual(['Kept', 'Recreated']);
    expect(rowsOf(recovered, 'Recreated')).toEqual(['x/new']);
    expect(rowsOf(recovered, 'Kept')).toEqual(expect.arrayContaining(['batch/b1', 'batch/b2', 'batch/b4']));
    expect(rowsOf(recovered, 'Kept')).not.toContain('batch/b3');
    expect(rowsOf(recovered, 'Kept')).not.toContain('p2/r2');
    // The rows written one by one, the two upserted ones, b1, b2 and b4; and b5 if Azurite kept part
    // of the failed batch (a known Azurite gap): the point is that the restart shows what it answered.
    const partialBatch = rowsOf(answered, 'Kept').includes('batch/b5') ? 1 : 0;
    expect(rowsOf(recovered, 'Kept')).toHaveLength(ROWS - DELETED + 2 + 3 + partialBatch);
    // The replay was saved into the database and the journal deleted.
    expect(journalFiles(location)).toEqual([]);
  });

  it('replays a journal again over a database that already holds it (a crash before the journal was deleted)', async () => {
    const location = dataFolder();
    const azurite = await azuriteOn(location);
    await everyKindOfWrite(azurite);
    const answered = await contents(azurite);
    await azurite.crash();
    const crashed = dataFolder();
    cpSync(location, crashed, { recursive: true });

    // This start replays the journal, saves the database and deletes the journal...
    await (await azuriteOn(location)).stop();
    // ...and this one finds the same journal again beside that database.
    for (const name of journalFiles(crashed)) cpSync(join(crashed, name), join(location, name));
    expect(journalFiles(location).length).toBeGreaterThan(0);
    const restarted = await azuriteOn(location);

    expect(await contents(restarted)).toEqual(answered);
  });

  it('loses nothing when killed during the start-up that replays the journal', async () => {
    const location = dataFolder();
    const azurite = await azuriteOn(location);
    await everyKindOfWrite(azurite);
    await Promise.all(
      range(100).map((i) =>
        table(azurite, 'Kept').createEntity({ partitionKey: 'bulk', rowKey: `r${i}`, Text: 'x'.repeat(200) }),
      ),
    );
    const answered = await contents(azurite);
    await azurite.crash();

    for (let attempt = 0; attempt < 2; attempt += 1) await killDuringStartUp(location);
    const restarted = await azuriteOn(location);

    expect(await contents(restarted)).toEqual(answered);
  });

  it('empties the journal with the full save of a graceful stop', async () => {
    const location = dataFolder();
    const azurite = await azuriteOn(location);
    await everyKindOfWrite(azurite);
    const answered = await contents(azurite);
    expect(journalLines(location)).toBeGreaterThan(ROWS);

    await azurite.stop();

    expect(journalFiles(location)).toEqual([]);
    expect(await contents(await azuriteOn(location))).toEqual(answered);
  });

  it("empties the journal with Azurite's periodic full saves, and keeps writes made after them", async () => {
    const location = dataFolder();
    const azurite = await azuriteOn(location, { fullSaveIntervalMs: 200 });
    await everyKindOfWrite(azurite);
    await until(() => journalFiles(location).length === 0);

    await table(azurite, 'Kept').createEntity({ partitionKey: 'after', rowKey: 'save', Value: 1 });
    const answered = await contents(azurite);
    await azurite.crash();

    expect(await contents(await azuriteOn(location))).toEqual(answered);
  });

  it('rejects a full save interval that is not a positive whole number of milliseconds', async () => {
    await expect(startAzurite({ location: dataFolder(), fullSaveIntervalMs: 0 })).rejects.toThrow(
      /fullSaveIntervalMs/,
    );
  });
});

/** Waits for a condition Azurite reaches on its own (a full save), polling; fails after 30 s. */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 30_000; !condition();) {
    if (Date.now() > deadline) throw new Error('condition not reached within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
