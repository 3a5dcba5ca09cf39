/**
 * TableDispatchSlots on the run's Azurite: what a slot change costs in round trips. A process
 * decides on the row as it last wrote or read it and writes on its ETag without reading; its own
 * concurrent changes of one row go together in the next write (group commit), each answered its own
 * result; a row another process changed in between is read and decided again.
 * Round trips are counted by a pipeline policy on the store's client, retries included.
 */
import {
  acquireSlot,
  releaseSlot,
  type SlotKey,
  type SlotPolicy,
  type SlotRequest,
} from '../../../src/domain/dispatch-slots';
import { TableDispatchSlots } from '../../../src/ledger/dispatch-slots/table-dispatch-slots';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName } from '../../support/unique';
import { RoundTrips } from './table-fixtures';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const policy = (limit: number): SlotPolicy => ({ limit, checkAfterMs: 60_000 });
const request = (jobId: string): SlotRequest => ({ jobId, stepId: 'ocr', attemptNo: 1, tenantId: 't1' });

describe('TableDispatchSlots round trips', () => {
  let table: string;
  let trips: RoundTrips;
  let slots: TableDispatchSlots;
  const key: SlotKey = { lane: 3, stepType: 'OCR' };

  const slotsOn = (clientOptions?: RoundTrips['options']): TableDispatchSlots =>
    new TableDispatchSlots({
      connection: { connectionString: testTableConnectionString() },
      table,
      ...(clientOptions === undefined ? {} : { clientOptions }),
    });
  const acquire = (on: TableDispatchSlots, jobId: string, limit = 10) =>
    on.update(key, (row) => acquireSlot(row, request(jobId), policy(limit), NOW));
  const release = (on: TableDispatchSlots, jobId: string, limit = 10) =>
    on.update(key, (row) => releaseSlot(row, { jobId, stepId: 'ocr', attemptNo: 1 }, policy(limit), NOW));
  const holders = async (): Promise<string[]> =>
    ((await slotsOn().rowsOfLane(key.lane))[0]?.holders ?? []).map((h) => h.jobId).sort();

  beforeEach(async () => {
    table = uniqueTableName('slottrips');
    trips = new RoundTrips();
    slots = slotsOn(trips.options);
    // The table exists and this process knows the row (it wrote it).
    await acquire(slots, 'first');
    trips.reset();
  });

  it('acquires and releases on the row it wrote last: one write each, no read', async () => {
    expect(await acquire(slots, 'a')).toMatchObject({ granted: true });
    expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 0, writes: 1 });

    expect(await release(slots, 'a')).toMatchObject({ released: true });
    expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 0, writes: 2 });
    expect(await holders()).toEqual(['first']);
  });

  it('applies concurrent changes of one row in one process in order, in fewer writes (group commit)', async () => {
    const outcomes = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((jobId) => acquire(slots, jobId, 3)));

    // Each caller gets its own answer, as if the changes were written one by one in the order given.
    expect(outcomes.map((o) => o.granted)).toEqual([true, true, false, false, false]);
    expect(outcomes.map((o) => o.queued)).toEqual([false, false, true, true, true]);
    expect(trips.reads).toBe(0);
    expect(trips.writes).toBeGreaterThanOrEqual(1);
    expect(trips.writes).toBeLessThan(outcomes.length);
    const [row] = await slotsOn().rowsOfLane(key.lane);
    expect(row?.holders.map((h) => h.jobId)).toEqual(['first', 'a', 'b']);
    expect(row?.waiting.map((w) => w.jobId)).toEqual(['c', 'd', 'e']);
  });

  it('answers a change that fails its own error and still writes the others of its group', async () => {
    const failing = slots.update(key, () => {
      throw new Error('refused by the change');
    });
    const outcomes = await Promise.allSettled([acquire(slots, 'a'), failing, acquire(slots, 'b')]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused by the change'));
    expect(await holders()).toEqual(['a', 'b', 'first']);
  });

  it('reads and decides again when another process changed the row in between (412)', async () => {
    const other = slotsOn();
    await acquire(other, 'theirs', 2);

    // This process remembers one holder; there are two: at the limit of 2 the step must wait.
    const mine = await acquire(slots, 'mine', 2);

    expect(mine).toMatchObject({ granted: false, queued: true });
    // The refused write, the row as it now is, the write again.
    expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 1, writes: 2 });
    expect(await holders()).toEqual(['first', 'theirs']);

    // The other process gives its slot back; this one's release is refused, read, and decided again:
    // the slot goes to the waiter, nothing is lost.
    expect(await release(other, 'theirs', 2)).toMatchObject({ released: true });
    expect(await release(slots, 'first', 2)).toMatchObject({ released: true });
    expect(await holders()).toEqual(['mine']);
  });

  it('keeps the limit when groups of two processes race on one row', async () => {
    const other = slotsOn();
    const jobIds = Array.from({ length: 10 }, (_, i) => `job-${i}`);

    const outcomes = await Promise.all(
      jobIds.map((jobId, i) => acquire(i % 2 === 0 ? slots : other, jobId, 4)),
    );

    expect(outcomes.filter((o) => o.granted)).toHaveLength(3);
    expect(outcomes.every((o) => o.granted !== o.queued)).toBe(true);
    const [row] = await slotsOn().rowsOfLane(key.lane);
    expect(row?.holders).toHaveLength(4);
    expect(row?.waiting).toHaveLength(7);
    const granted = jobIds.filter((_, i) => outcomes[i]?.granted === true);
    expect(row?.holders.map((h) => h.jobId).sort()).toEqual(['first', ...granted].sort());
  });

  it('reads the row before answering a change that writes nothing on what it remembers', async () => {
    await release(slotsOn(), 'first');

    // Remembered: 'first' holds its slot, so asking again would change nothing; stored: it does not.
    const again = await acquire(slots, 'first', 1);

    expect(again).toMatchObject({ granted: true });
    expect(trips.reads).toBe(1);
    expect(await holders()).toEqual(['first']);
  });
});
