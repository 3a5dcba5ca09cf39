/**
 * Flow control in the orchestration, on the time-skipping durable environment with the real app's
 * orchestration and activities: an ACK timeout is "not started" (retried without counting, up to the
 * not-started budget, then ACK_TIMEOUT as before), and a step dispatches only once it holds one of
 * its lane's slots for its type (the rest wait in the ledger as WAITING_SLOT, served in turn).
 */
import type { StepDirective } from '../../src/contracts/directive';
import type { OrchestrationControl } from '../../src/ports/orchestration-control';
import { releaseLeakedSlots, type SweepDeps } from '../../src/usecases/sweep';
import { createHarness, START, type Harness } from './harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

let h: Harness | undefined;

afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function at(ms: number): string {
  return new Date(START.getTime() + ms).toISOString();
}

describe('jobOrchestrator: not started', () => {
  it('retries a directive nobody started after the not-started backoff, without counting the attempt', async () => {
    // One attempt allowed: without the not-started rule, the first ACK timeout would end the step.
    h = await createHarness({ LUCIUS_MAX_ATTEMPTS: '1', LUCIUS_MAX_NOT_STARTED: '3' });
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    await h.env.advanceBy(30 * SECOND);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      attemptNo: 1,
      failure: { failureClass: 'NOT_STARTED', notStarted: 1, retryDelayMs: 5 * SECOND, exhausted: false },
    });
    await h.env.advanceBy(5 * SECOND);
    const second = await h.latest(job.jobId);
    expect(second).toMatchObject({ attempt_no: 2, issued_at: at(35 * SECOND) });
    expect(second.lease_id).not.toBe(first.lease_id);
    await h.ack(second);
    await h.succeed(second);
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', steps: [{ status: 'SUCCEEDED', attempts: 2 }] });
  });

  it('fails with ACK_TIMEOUT once the not-started budget and then the attempts are spent', async () => {
    h = await createHarness({
      LUCIUS_MAX_ATTEMPTS: '2',
      LUCIUS_MAX_NOT_STARTED: '2',
      LUCIUS_NOT_STARTED_BACKOFF_SECONDS: '5',
      LUCIUS_REPLY_BACKOFF_SECONDS: '60',
    });
    const job = await h.admit('OCR');
    // A silent worker: 2 not started (30 s + 5 s each), then ACK timeouts that count: attempt 3
    // (1 of 2 counted, retried after 60 s) and attempt 4 (2 of 2: final).
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'FAILED',
      failure: { stepId: 'ocr', failureClass: 'ACK_TIMEOUT' },
      steps: [{ status: 'FAILED_FINAL', attempts: 4 }],
    });
    const step = (await h.job(job.jobId)).steps[0];
    expect(step?.failure).toMatchObject({
      failureClass: 'ACK_TIMEOUT',
      attemptNo: 4,
      exhausted: true,
      notStarted: 2,
    });
    const issued = (await h.directives(job.jobId)).map((d) => d.issued_at);
    expect(issued).toEqual([at(0), at(35 * SECOND), at(70 * SECOND), at(160 * SECOND)]);
  });
});

describe('jobOrchestrator: dispatch slots per lane and step type', () => {
  /** Directives published and not yet ended, per step type (the ledger's attempts in flight). */
  async function outstanding(harness: Harness, jobIds: readonly string[]): Promise<number> {
    let n = 0;
    for (const jobId of jobIds) {
      for (const step of (await harness.job(jobId)).steps) {
        if (['DISPATCHING', 'AWAITING_ACK', 'IN_PROGRESS'].includes(step.status)) n += 1;
      }
    }
    return n;
  }

  async function newest(harness: Harness, jobIds: readonly string[]): Promise<StepDirective[]> {
    const all: StepDirective[] = [];
    for (const jobId of jobIds) all.push(...(await harness.directives(jobId)));
    return all;
  }

  it('keeps at most N directives outstanding; the rest wait in the ledger and go out as slots free', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '2' });
    h = harness;
    const jobs: string[] = [];
    for (let i = 0; i < 5; i += 1)
      jobs.push((await harness.admit('OCR', { idempotency_key: `k-${i}` })).jobId);
    expect(await outstanding(harness, jobs)).toBe(2);
    const waiting = [];
    for (const jobId of jobs)
      waiting.push(...(await harness.job(jobId)).steps.filter((s) => s.status === 'WAITING_SLOT'));
    expect(waiting).toHaveLength(3);
    expect((await harness.status(jobs[4] as string)).customStatus).toMatchObject({ state: 'WAITING_SLOT' });

    const done = new Set<string>();
    let maxSeen = 0;
    while (done.size < jobs.length) {
      const open = (await newest(harness, jobs)).filter((d) => !done.has(d.lease_id));
      expect(open.length).toBeGreaterThan(0);
      const d = open[0] as StepDirective;
      await harness.ack(d);
      await harness.succeed(d);
      done.add(d.lease_id);
      maxSeen = Math.max(maxSeen, await outstanding(harness, jobs));
    }
    expect(maxSeen).toBeLessThanOrEqual(2);
    for (const jobId of jobs) expect((await harness.finish(jobId)).output.status).toBe('SUCCEEDED');
    // Every slot was given back.
    const rows = await harness.services.jobActivities.slots.rowsOfLane(0);
    expect(rows.every((row) => row.holders.length === 0 && row.waiting.length === 0)).toBe(true);
  });

  it('serves two tenants on one lane in turn: a tenant with many jobs does not starve the other', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    h = harness;
    const tenantOf = new Map<string, string>();
    const admit = async (tenant: string, key: string) => {
      const { jobId } = await harness.admit('OCR', { tenant_id: tenant, idempotency_key: key });
      tenantOf.set(jobId, tenant);
    };
    // The busy tenant's burst first, then the quiet tenant's few jobs behind it.
    for (let i = 0; i < 6; i += 1) await admit('busy', `b-${i}`);
    for (let i = 0; i < 3; i += 1) await admit('quiet', `q-${i}`);
    const order: string[] = [];
    const done = new Set<string>();
    while (done.size < tenantOf.size) {
      const open = (await newest(harness, [...tenantOf.keys()])).filter((d) => !done.has(d.lease_id));
      expect(open).toHaveLength(1);
      const d = open[0] as StepDirective;
      order.push(tenantOf.get(d.job_id) as string);
      await harness.ack(d);
      await harness.succeed(d);
      done.add(d.lease_id);
    }
    // The first busy job took the free slot; from then on the grants alternate while both wait.
    expect(order).toEqual(['busy', 'busy', 'quiet', 'busy', 'quiet', 'busy', 'quiet', 'busy', 'busy']);
  });

  it('gives a waiting step up when its job is cancelled, and the slot of a cancelled attempt back', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    h = harness;
    const a = (await harness.admit('OCR', { idempotency_key: 'k-a' })).jobId;
    const b = (await harness.admit('OCR', { idempotency_key: 'k-b' })).jobId;
    const c = (await harness.admit('OCR', { idempotency_key: 'k-c' })).jobId;
    expect((await harness.job(b)).steps[0]?.status).toBe('WAITING_SLOT');
    await harness.cancel(b);
    expect((await harness.finish(b)).output.status).toBe('CANCELLED');
    await harness.cancel(a);
    expect((await harness.finish(a)).output.status).toBe('CANCELLED');
    // The slot went past the cancelled waiter to the next one.
    const d = await harness.latest(c);
    await harness.succeed(d);
    expect((await harness.finish(c)).output.status).toBe('SUCCEEDED');
  });

  it('finds a slot by its recheck timer when the signal of the release is lost', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    h = harness;
    const a = (await harness.admit('OCR', { idempotency_key: 'k-a' })).jobId;
    const b = (await harness.admit('OCR', { idempotency_key: 'k-b' })).jobId;
    const first = await harness.latest(a);
    // The hand-over happens in the slot store, but nobody tells b's orchestration.
    const slots = harness.services.jobActivities.slots;
    const { releaseSlot } = await import('../../src/domain/dispatch-slots');
    await slots.update({ lane: 0, stepType: 'OCR' }, (row) =>
      releaseSlot(row, { jobId: a, stepId: 'ocr', attemptNo: 1 }, { limit: 1, checkAfterMs: MINUTE }, START),
    );
    expect(await harness.directives(b)).toHaveLength(0);
    await harness.env.advanceBy(30 * SECOND);
    expect(await harness.directives(b)).toHaveLength(1);
    await harness.succeed(first);
    await harness.succeed(await harness.latest(b));
    expect((await harness.finish(b)).output.status).toBe('SUCCEEDED');
  });

  it('leaves the slot of a succeeded attempt to the RESULT; the lease sweeper repairs a release lost there', async () => {
    const harness = await createHarness({
      LUCIUS_LANE_COUNT: '1',
      LUCIUS_MAX_OUTSTANDING_PER_LANE: '1',
      LUCIUS_SWEEP_TIMER_GRACE_SECONDS: '5',
    });
    h = harness;
    const a = (await harness.admit('OCR', { idempotency_key: 'k-a' })).jobId;
    const b = (await harness.admit('OCR', { idempotency_key: 'k-b' })).jobId;
    expect((await harness.job(b)).steps[0]?.status).toBe('WAITING_SLOT');
    // The RESULT is applied, but its release is lost (the slot store fails once): a's orchestration
    // does not release a slot whose attempt SUCCEEDED, so the slot stays held.
    const slots = harness.services.jobActivities.slots;
    jest.spyOn(slots, 'update').mockRejectedValueOnce(new Error('the slot store is unreachable'));
    await harness.succeed(await harness.latest(a));
    expect((await harness.finish(a)).output.status).toBe('SUCCEEDED');
    await harness.env.advanceBy(45 * SECOND);
    const [held] = await slots.rowsOfLane(0);
    expect(held?.holders.map((holder) => holder.jobId)).toEqual([a]);
    expect(await harness.directives(b)).toHaveLength(0);

    // The lease sweeper finds the holder's attempt ended: SLOT_RELEASED, handed to b, b is told.
    const control: OrchestrationControl = Object.assign(
      Object.create(harness.services.control) as OrchestrationControl,
      { raise: (jobId: string, name: string, payload: unknown) => harness.raise(jobId, name, payload) },
    );
    const deps: SweepDeps = {
      ledger: harness.services.ledger,
      slots,
      control,
      clock: harness.services.clock,
      settings: harness.services.settings,
      by: 'leaseSweeper',
      log: () => undefined,
    };
    expect(await releaseLeakedSlots(deps, slots, 0)).toBe(1);
    expect((await harness.job(a)).job.repairs.at(-1)).toMatchObject({ kind: 'SLOT_RELEASED' });
    const d = await harness.latest(b);
    expect(d).toMatchObject({ attempt_no: 1, issued_at: at(45 * SECOND) });
    await harness.succeed(d);
    expect((await harness.finish(b)).output.status).toBe('SUCCEEDED');
    const [after] = await slots.rowsOfLane(0);
    expect(after?.holders).toEqual([]);
  });

  it('runs a plan of revision 1 (a run started before dispatchAttempt) as its history was written', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    h = harness;
    // startJob answers the plan as runs started before plan revisions got it (and dispatches nothing).
    const startJob = harness.activities.startJob;
    jest.spyOn(harness.activities, 'startJob').mockImplementation(async (deps, input, log) => {
      const { revision: _revision, ...plan } = await startJob(deps, { ...input, dispatchFirst: false }, log);
      return plan;
    });
    const a = (await harness.admit('OCR', { idempotency_key: 'k-a' })).jobId;
    const b = (await harness.admit('OCR', { idempotency_key: 'k-b' })).jobId;
    expect((await harness.job(b)).steps[0]?.status).toBe('WAITING_SLOT');
    const first = await harness.latest(a);
    await harness.ack(first);
    await harness.succeed(first);
    const second = await harness.latest(b);
    await harness.succeed(second);
    for (const jobId of [a, b]) expect((await harness.finish(jobId)).output.status).toBe('SUCCEEDED');
    const runs = (await harness.history(a))
      .filter((e) => e.EventType === 'TaskCompleted')
      .map((e) => String(e.FunctionName));
    expect(runs).toEqual([
      'startJob',
      'acquireSlot',
      'recordAttempt',
      'publishDirective',
      'readAttempt',
      'releaseSlot',
      'finishJob',
    ]);
    const [row] = await harness.services.jobActivities.slots.rowsOfLane(0);
    expect(row?.holders).toEqual([]);
  });
  it('runs a plan of revision 2 (a run started before dispatchStep) as its history was written', async () => {
    const harness = await createHarness({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    h = harness;
    const startJob = harness.activities.startJob;
    jest.spyOn(harness.activities, 'startJob').mockImplementation(async (deps, input, log) => ({
      ...(await startJob(deps, { ...input, dispatchFirst: false }, log)),
      revision: 2,
    }));
    const a = (await harness.admit('OCR->EMBEDDING', { idempotency_key: 'k-a' })).jobId;
    for (const stepId of ['ocr', 'embedding']) {
      const d = await harness.latest(a);
      expect(d.step_id).toBe(stepId);
      await harness.ack(d);
      await harness.succeed(d);
    }
    expect((await harness.finish(a)).output.status).toBe('SUCCEEDED');
    const runs = (await harness.history(a))
      .filter((e) => e.EventType === 'TaskCompleted')
      .map((e) => String(e.FunctionName));
    expect(runs).toEqual([
      'startJob',
      ...['dispatchAttempt', 'publishDirective', 'readAttempt'],
      ...['dispatchAttempt', 'publishDirective', 'readAttempt'],
      'finishJob',
    ]);
    expect(await harness.episodes(a)).toBe(11);
  });
});
