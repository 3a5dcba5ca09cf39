/**
 * The lease sweeper and flow control: a dispatch slot held by an attempt that already ended (a crash
 * between the ledger write and the release) is released when its check is due, handed to the next
 * waiter (whose orchestration is told) and recorded on the job as SLOT_RELEASED; a holder whose
 * attempt still runs keeps its slot and is checked again later. Memory ledger and slots, a stepped clock.
 */
import { acquireSlot, dueHolders, type SlotKey, type SlotRow } from '../../../src/domain/dispatch-slots';
import { SLOT_EVENT } from '../../../src/contracts/job-protocol';
import { slotPolicy } from '../../../src/usecases/job-activities';
import { sweepShards, type SweepDeps } from '../../../src/usecases/sweep';
import { admitJob, dispatchStep, testServices, type TestServices } from '../http/fixtures';

const KEY: SlotKey = { lane: 0, stepType: 'OCR' };

function setup(): { services: TestServices; deps: SweepDeps } {
  const services = testServices({
    LUCIUS_LANE_COUNT: '1',
    LUCIUS_MAX_OUTSTANDING_PER_LANE: '1',
    LUCIUS_ACK_TIMEOUT_SECONDS: '30',
    LUCIUS_SWEEP_TIMER_GRACE_SECONDS: '5',
    LUCIUS_SWEEP_RECHECK_SECONDS: '300',
  });
  const deps: SweepDeps = {
    ledger: services.ledger,
    slots: services.jobActivities.slots,
    control: services.control,
    clock: services.clock,
    settings: services.settings,
    by: 'leaseSweeper',
    log: () => undefined,
  };
  return { services, deps };
}

async function running(services: TestServices, key: string): Promise<string> {
  const jobId = await admitJob(services, { idempotency_key: key });
  await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
  return jobId;
}

async function take(services: TestServices, jobId: string): Promise<boolean> {
  const r = await services.jobActivities.slots.update(KEY, (row) =>
    acquireSlot(
      row,
      { jobId, stepId: 'ocr', attemptNo: 1, tenantId: 't1' },
      slotPolicy(services.settings),
      services.clock.now(),
    ),
  );
  return r.granted;
}

describe('sweepShards: leaked dispatch slots', () => {
  it('releases a slot whose attempt ended, hands it on and records the repair', async () => {
    const { services, deps } = setup();
    const a = await running(services, 'a');
    const b = await running(services, 'b');
    expect(await take(services, a)).toBe(true);
    expect(await take(services, b)).toBe(false);
    const attempt = await dispatchStep(services, a);
    // The attempt succeeds in the ledger; the process dies before it gives the slot back.
    await services.ledger.applyStepEvent(a, 'ocr', { type: 'SUCCEED', ...attempt }, services.clock.now());

    // Not due yet: nothing is read or released.
    expect((await sweepShards(deps, 'lease', [0])).repaired).toEqual({});
    services.clock.advance(35_000);
    // The drift sweeper leaves slots to the lease sweeper.
    expect((await sweepShards(deps, 'drift', [0])).repaired.SLOT_RELEASED).toBeUndefined();
    expect((await sweepShards(deps, 'lease', [0])).repaired).toEqual({ SLOT_RELEASED: 1 });

    const [row] = await services.jobActivities.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([b]);
    expect(row?.waiting).toEqual([]);
    expect(services.signals.raised).toContainEqual({
      jobId: b,
      eventName: SLOT_EVENT,
      payload: { stepId: 'ocr', attemptNo: 1 },
    });
    const { job } = (await services.ledger.getJob(a)) ?? { job: undefined };
    expect(job?.repairs.at(-1)).toMatchObject({ kind: 'SLOT_RELEASED', by: 'leaseSweeper' });
    // Done once: a second sweep finds nothing to release.
    expect((await sweepShards(deps, 'lease', [0])).repaired).toEqual({});
  });

  it('leaves the slot of an attempt still running, and looks again after the recheck interval', async () => {
    const { services, deps } = setup();
    const a = await running(services, 'a');
    expect(await take(services, a)).toBe(true);
    await dispatchStep(services, a, 'ocr', { published: true });
    services.clock.advance(35_000);
    expect((await sweepShards(deps, 'lease', [0])).repaired).toEqual({});
    const [row] = await services.jobActivities.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([a]);
    const now = services.clock.now().getTime();
    expect(dueHolders(row as SlotRow, new Date(now + 290_000))).toEqual([]);
    expect(dueHolders(row as SlotRow, new Date(now + 300_000))).toHaveLength(1);
  });
});
