/**
 * Flow control's pure rules: the limit, the waiting queue and its round-robin by tenant, releases
 * that only free the attempt they name, and when a holder's slot has leaked.
 */
import {
  acquireSlot,
  dueHolders,
  emptySlotRow,
  MAX_SLOT_WAITERS,
  postponeCheck,
  releaseSlot,
  slotLeaked,
  type SlotRow,
} from '../../../src/domain/dispatch-slots';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const KEY = { lane: 3, stepType: 'OCR' as const };
const policy = (limit: number) => ({ limit, checkAfterMs: 40_000 });
const req = (jobId: string, tenantId = 't1', attemptNo = 1) => ({
  jobId,
  stepId: 'ocr',
  attemptNo,
  tenantId,
});

function take(row: SlotRow, jobId: string, tenantId = 't1', limit = 1): SlotRow {
  return acquireSlot(row, req(jobId, tenantId), policy(limit), NOW).row;
}

describe('acquireSlot', () => {
  it('grants while slots are free, with the first check due after the ACK window', () => {
    const { row, result } = acquireSlot(emptySlotRow(KEY), req('a'), policy(2), NOW);
    expect(result).toEqual({ granted: true, queued: false, handedTo: [] });
    expect(row.holders).toEqual([
      { ...req('a'), grantedAt: NOW.toISOString(), checkAt: new Date(NOW.getTime() + 40_000).toISOString() },
    ]);
  });

  it('queues a step behind waiters even when a slot is free (waiters come first)', () => {
    let row = take(take(emptySlotRow(KEY), 'a'), 'b');
    // The limit was raised: the waiter gets the free slot, the newcomer queues behind.
    const answer = acquireSlot(row, req('c'), policy(2), NOW);
    expect(answer.result).toMatchObject({ granted: false, queued: true, handedTo: [{ jobId: 'b' }] });
    row = answer.row;
    expect(row.holders.map((h) => h.jobId)).toEqual(['a', 'b']);
    expect(row.waiting.map((w) => w.jobId)).toEqual(['c']);
  });

  it('keeps a holder its slot when it asks again, for its next attempt too', () => {
    const row = take(emptySlotRow(KEY), 'a');
    expect(acquireSlot(row, req('a'), policy(1), NOW)).toMatchObject({
      changed: false,
      result: { granted: true },
    });
    const next = acquireSlot(row, req('a', 't1', 2), policy(1), NOW);
    expect(next.result.granted).toBe(true);
    expect(next.row.holders.map((h) => h.attemptNo)).toEqual([2]);
  });

  it('does not queue past the waiting limit', () => {
    let row = take(emptySlotRow(KEY), 'holder');
    row = {
      ...row,
      waiting: Array.from({ length: MAX_SLOT_WAITERS }, (_, i) => ({
        ...req(`w${i}`),
        since: NOW.toISOString(),
      })),
      turns: ['t1'],
    };
    expect(acquireSlot(row, req('late'), policy(1), NOW).result).toEqual({
      granted: false,
      queued: false,
      handedTo: [],
    });
  });
});

describe('releaseSlot', () => {
  it('serves waiting tenants in turn, oldest first within a tenant', () => {
    let row = take(emptySlotRow(KEY), 'a0', 'A');
    for (const [job, tenant] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['a3', 'A'],
      ['b1', 'B'],
      ['c1', 'C'],
      ['b2', 'B'],
    ] as const)
      row = take(row, job, tenant);
    const order: string[] = [];
    let holder = 'a0';
    for (;;) {
      const { row: next, result } = releaseSlot(row, { jobId: holder, stepId: 'ocr' }, policy(1), NOW);
      row = next;
      if (result.handedTo.length === 0) break;
      holder = result.handedTo[0]?.jobId as string;
      order.push(holder);
    }
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(row).toEqual(emptySlotRow(KEY));
  });

  it('frees only the attempt it names, never a later attempt of the step', () => {
    const row = acquireSlot(emptySlotRow(KEY), req('a', 't1', 2), policy(1), NOW).row;
    expect(releaseSlot(row, { jobId: 'a', stepId: 'ocr', attemptNo: 1 }, policy(1), NOW)).toMatchObject({
      changed: false,
      result: { released: false },
    });
    expect(
      releaseSlot(row, { jobId: 'a', stepId: 'ocr', attemptNo: 2 }, policy(1), NOW).result.released,
    ).toBe(true);
  });

  it('takes a cancelled step out of the queue', () => {
    const row = take(take(emptySlotRow(KEY), 'a'), 'b');
    const { row: next, result } = releaseSlot(row, { jobId: 'b', stepId: 'ocr' }, policy(1), NOW);
    expect(result).toEqual({ released: true, handedTo: [] });
    expect(next).toMatchObject({ waiting: [], turns: [] });
  });
});

describe('the sweeper checks', () => {
  it('lists the holders due and postpones one still running', () => {
    const row = take(emptySlotRow(KEY), 'a', 't1', 2);
    expect(dueHolders(row, NOW)).toEqual([]);
    const later = new Date(NOW.getTime() + 40_000);
    expect(dueHolders(row, later).map((h) => h.jobId)).toEqual(['a']);
    const postponed = postponeCheck(row, req('a'), new Date(later.getTime() + 300_000)).row;
    expect(dueHolders(postponed, later)).toEqual([]);
  });

  it('finds a slot leaked when its attempt ended, and held while it runs or is about to', () => {
    const holder = { attemptNo: 2 };
    const running = (status: string, attemptNo: number) =>
      slotLeaked(holder, { jobStatus: 'RUNNING', step: { status: status as never, attemptNo } });
    expect(running('AWAITING_ACK', 2)).toBe(false);
    expect(running('IN_PROGRESS', 2)).toBe(false);
    expect(running('FAILED_RETRY', 1)).toBe(false); // granted, not yet recorded
    expect(running('WAITING_SLOT', 1)).toBe(false);
    expect(running('FAILED_RETRY', 2)).toBe(true); // the attempt ended
    expect(running('SUCCEEDED', 2)).toBe(true);
    expect(running('DISPATCHING', 3)).toBe(true); // a later attempt
    expect(
      slotLeaked(holder, { jobStatus: 'CANCELLED', step: { status: 'IN_PROGRESS', attemptNo: 2 } }),
    ).toBe(true);
    expect(slotLeaked(holder, {})).toBe(true); // the job is gone
  });
});
