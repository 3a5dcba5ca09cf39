/**
 * The DispatchSlots contract, run against every adapter: rows start empty, changes are atomic under
 * concurrency (never more holders than the limit, no grant lost or given twice), a lane's rows are
 * listed, and waiters are served round-robin by tenant.
 */
import {
  acquireSlot,
  releaseSlot,
  type SlotKey,
  type SlotPolicy,
  type SlotRequest,
} from '../../../src/domain/dispatch-slots';
import type { DispatchSlots } from '../../../src/ports/dispatch-slots';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const policy = (limit: number): SlotPolicy => ({ limit, checkAfterMs: 60_000 });
const request = (jobId: string, tenantId = 't1'): SlotRequest => ({
  jobId,
  stepId: 'ocr',
  attemptNo: 1,
  tenantId,
});

export function describeDispatchSlotsContract(name: string, make: () => Promise<DispatchSlots>): void {
  describe(`${name} (DispatchSlots contract)`, () => {
    let slots: DispatchSlots;
    let key: SlotKey;
    let lane = 0;

    beforeEach(async () => {
      slots = await make();
      lane += 1;
      key = { lane, stepType: 'OCR' };
    });

    const acquire = (r: SlotRequest, limit: number) =>
      slots.update(key, (row) => acquireSlot(row, r, policy(limit), NOW));
    const release = (jobId: string, limit: number) =>
      slots.update(key, (row) =>
        releaseSlot(row, { jobId, stepId: 'ocr', attemptNo: 1 }, policy(limit), NOW),
      );

    it('grants up to the limit, queues the rest, and hands a freed slot to the next waiter', async () => {
      expect(await slots.rowsOfLane(lane)).toEqual([]);
      expect(await acquire(request('a'), 2)).toMatchObject({ granted: true });
      expect(await acquire(request('b'), 2)).toMatchObject({ granted: true });
      expect(await acquire(request('c'), 2)).toMatchObject({ granted: false, queued: true });
      // Asking again keeps the place, and changes nothing.
      expect(await acquire(request('c'), 2)).toMatchObject({ granted: false, queued: true });
      const [row] = await slots.rowsOfLane(lane);
      expect(row?.holders.map((h) => h.jobId)).toEqual(['a', 'b']);
      expect(row?.waiting.map((w) => w.jobId)).toEqual(['c']);

      const released = await release('a', 2);
      expect(released).toMatchObject({ released: true, handedTo: [expect.objectContaining({ jobId: 'c' })] });
      expect(await acquire(request('c'), 2)).toMatchObject({ granted: true });
      expect(await release('a', 2)).toMatchObject({ released: false, handedTo: [] });
      expect((await slots.rowsOfLane(lane))[0]?.holders.map((h) => h.jobId).sort()).toEqual(['b', 'c']);
      // Another lane's rows are not listed.
      expect(await slots.rowsOfLane(lane + 1000)).toEqual([]);
    });

    it('never has more than N holders with many concurrent jobs, and grants each exactly once', async () => {
      const limit = 3;
      const jobs = Array.from({ length: 24 }, (_, i) => request(`job-${i}`, `tenant-${i % 3}`));
      let holding = 0;
      let most = 0;
      const grants = new Map<string, number>();
      const waiters = new Map<string, () => void>();
      const granted = (jobId: string) => grants.set(jobId, (grants.get(jobId) ?? 0) + 1);
      const hold = async (jobId: string) => {
        holding += 1;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 5));
        holding -= 1;
        const { handedTo } = await release(jobId, limit);
        for (const next of handedTo) {
          granted(next.jobId);
          waiters.get(next.jobId)?.();
        }
      };
      await Promise.all(
        jobs.map(async (job) => {
          const handedToMe = new Promise<void>((resolve) => waiters.set(job.jobId, resolve));
          const answer = await acquire(job, limit);
          for (const next of answer.handedTo) {
            granted(next.jobId);
            waiters.get(next.jobId)?.();
          }
          if (answer.granted) granted(job.jobId);
          else await handedToMe;
          await hold(job.jobId);
        }),
      );
      expect(most).toBeLessThanOrEqual(limit);
      expect(most).toBeGreaterThan(0);
      expect([...grants.values()].every((n) => n === 1)).toBe(true);
      expect(grants.size).toBe(jobs.length);
      const [row] = await slots.rowsOfLane(lane);
      expect(row).toMatchObject({ holders: [], waiting: [], turns: [] });
    });

    it('hands freed slots to tenants in turn', async () => {
      expect(await acquire(request('busy-0', 'busy'), 1)).toMatchObject({ granted: true });
      for (let i = 1; i < 5; i += 1) await acquire(request(`busy-${i}`, 'busy'), 1);
      for (let i = 0; i < 3; i += 1) await acquire(request(`quiet-${i}`, 'quiet'), 1);
      const order: string[] = [];
      let current = 'busy-0';
      for (let i = 0; i < 7; i += 1) {
        const { handedTo } = await release(current, 1);
        current = handedTo[0]?.jobId ?? '';
        order.push(current.split('-')[0] ?? '');
      }
      expect(order).toEqual(['busy', 'quiet', 'busy', 'quiet', 'busy', 'quiet', 'busy']);
    });
  });
}
