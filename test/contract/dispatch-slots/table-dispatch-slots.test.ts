/**
 * TableDispatchSlots on the run's Azurite: the shared contract (its concurrency case runs real
 * conditional writes racing on one row), then where the rows live for each backend, as
 * createDispatchSlots chooses it.
 */
import { parseSettings } from '../../../src/config/settings';
import { acquireSlot } from '../../../src/domain/dispatch-slots';
import { createDispatchSlots } from '../../../src/ledger/dispatch-slots/create-dispatch-slots';
import { MemoryDispatchSlots } from '../../../src/ledger/dispatch-slots/memory-dispatch-slots';
import { TableDispatchSlots } from '../../../src/ledger/dispatch-slots/table-dispatch-slots';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName } from '../../support/unique';
import { rawEntities } from '../ledger/table-fixtures';
import { describeDispatchSlotsContract } from './dispatch-slots.contract';

describeDispatchSlotsContract(
  'TableDispatchSlots',
  async () =>
    new TableDispatchSlots({
      connection: { connectionString: testTableConnectionString() },
      table: uniqueTableName('slots'),
    }),
);

describe('createDispatchSlots', () => {
  const now = new Date('2026-12-02T10:00:00.000Z');
  const take = (slots: ReturnType<typeof createDispatchSlots>) =>
    slots.update({ lane: 7, stepType: 'EMBEDDING' }, (row) =>
      acquireSlot(
        row,
        { jobId: 'j', stepId: 'embedding', attemptNo: 1, tenantId: 't1' },
        { limit: 2, checkAfterMs: 1 },
        now,
      ),
    );

  it('keeps the rows in the sweep table for the table backend, one partition per lane', async () => {
    const sweep = uniqueTableName('sweep');
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'table',
      LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
      LUCIUS_TABLE_SWEEP: sweep,
    });
    await take(createDispatchSlots(settings.storage));
    expect(await rawEntities(sweep)).toEqual([
      expect.objectContaining({ partitionKey: 'SLOTS|0007', rowKey: 'EMBEDDING', lane: 7 }),
    ]);
  });

  it('keeps the rows in the single ledger table for the ledger backend', async () => {
    const ledger = uniqueTableName('ledger');
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'ledger',
      LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
      LUCIUS_TABLE_LEDGER: ledger,
    });
    await take(createDispatchSlots(settings.storage));
    expect(await rawEntities(ledger)).toEqual([
      expect.objectContaining({ partitionKey: 'SLOTS|0007', rowKey: 'EMBEDDING' }),
    ]);
  });

  it('keeps the rows in memory for the memory backend', () => {
    expect(createDispatchSlots(parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' }).storage)).toBeInstanceOf(
      MemoryDispatchSlots,
    );
  });
});
