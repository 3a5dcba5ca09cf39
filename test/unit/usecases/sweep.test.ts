import type { AdmissionRecord } from '../../../src/ports/job-ledger';
import { MemoryJobLedger } from '../../../src/ledger/memory-job-ledger';
import { MemoryShardLeases } from '../../../src/ledger/memory-shard-leases';
import { RECHECK_EVENT } from '../../../src/contracts/job-protocol';
import {
  purgeExpiredJobs,
  reconcileInflight,
  sweepJob,
  sweepLeasedShards,
  sweepShards,
  type SweepDeps,
} from '../../../src/usecases/sweep';
import { admitJob, dispatchStep, testServices, type TestServices } from '../http/fixtures';

const ENV = {
  LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS: '10',
  LUCIUS_SWEEP_TIMER_GRACE_SECONDS: '5',
  LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS: '20',
  LUCIUS_SWEEP_RECHECK_SECONDS: '300',
  LUCIUS_MAX_ORCHESTRATION_RESTARTS: '1',
  LUCIUS_JOB_TIMEOUT_SECONDS: '3600',
  LUCIUS_RETENTION_DAYS: '1',
};
const SECOND = 1000;

interface Harness {
  readonly services: TestServices;
  readonly deps: SweepDeps;
  readonly logged: Array<{ event: string; fields: Readonly<Record<string, unknown>> }>;
  readonly allShards: readonly number[];
}

function harness(env: Record<string, string> = {}, ledger = new MemoryJobLedger()): Harness {
  const services = testServices({ ...ENV, ...env }, { ledger });
  const logged: Harness['logged'] = [];
  return {
    services,
    logged,
    allShards: Array.from({ length: services.settings.admission.laneCount }, (_, i) => i),
    deps: {
      ledger: services.ledger,
      control: services.control,
      clock: services.clock,
      settings: services.settings,
      by: 'test-sweeper',
      log: (event, fields) => logged.push({ event, fields }),
    },
  };
}

/** A job admitted whose orchestration runs (as admission starts it). */
let admissions = 0;
async function admitRunning(h: Harness, overrides: Record<string, unknown> = {}): Promise<string> {
  admissions += 1;
  const jobId = await admitJob(h.services, { idempotency_key: `k-${admissions}`, ...overrides });
  await h.services.control.start({ jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING', drive: 0 });
  await h.services.ledger.applyJobEvent(jobId, { type: 'START' }, h.services.clock.now());
  return jobId;
}

async function jobOf(h: Harness, jobId: string) {
  const found = await h.services.ledger.getJob(jobId);
  if (found === undefined) throw new Error(`job ${jobId} is gone`);
  return found;
}

async function dueCount(h: Harness): Promise<number> {
  const now = h.services.clock.now();
  let due = 0;
  for (const shard of h.allShards) due += (await h.services.ledger.listDueJobs(shard, now, 100)).length;
  return due;
}

describe('sweepShards', () => {
  it('starts the orchestration of a job admitted without one, once the accept grace passed', async () => {
    const h = harness();
    const jobId = await admitJob(h.services); // the starter answered, but no instance exists
    const early = await sweepShards(h.deps, 'drift', h.allShards);
    expect(early.examined).toBe(0);

    h.services.clock.advance(11 * SECOND);
    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary).toMatchObject({
      kind: 'drift',
      examined: 1,
      repaired: { ORCHESTRATION_STARTED: 1 },
      errors: 0,
    });
    expect(await h.services.control.inspect(jobId)).toMatchObject({ state: 'Running', drive: 0 });
    const { job } = await jobOf(h, jobId);
    expect(job.repairs).toEqual([
      expect.objectContaining({ kind: 'ORCHESTRATION_STARTED', by: 'test-sweeper' }),
    ]);
    expect(await dueCount(h)).toBe(0);
  });

  it('leaves a repair of the other kind due, for the other sweeper', async () => {
    const h = harness();
    const jobId = await admitJob(h.services);
    h.services.clock.advance(11 * SECOND);
    const lease = await sweepShards(h.deps, 'lease', h.allShards);
    expect(lease).toMatchObject({ examined: 1, repaired: {} });
    expect(await dueCount(h)).toBe(1);
    const drift = await sweepShards(h.deps, 'drift', h.allShards);
    expect(drift.repaired).toEqual({ ORCHESTRATION_STARTED: 1 });
    expect((await jobOf(h, jobId)).job.repairs).toHaveLength(1);
  });

  it('restarts a terminated orchestration from the current run and counts the restart', async () => {
    const h = harness();
    const jobId = await admitRunning(h);
    await dispatchStep(h.services, jobId, 'ocr');
    h.services.control.end(jobId, 'Terminated');
    h.services.clock.advance(11 * SECOND);

    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary.repaired).toEqual({ ORCHESTRATION_RESTARTED: 1 });
    expect(await h.services.control.inspect(jobId)).toMatchObject({ state: 'Running', drive: 0 });
    const { job } = await jobOf(h, jobId);
    expect(job).toMatchObject({ status: 'RUNNING', orchestrationRestarts: 1 });
    expect(job.repairs.at(-1)?.reason).toContain('Terminated');
    expect(await h.services.ledger.inflightCount('t1')).toBe(1);
  });

  it('fails the job as ORCHESTRATION_LOST when its restarts are spent, releasing its slot and cancelling its steps', async () => {
    const h = harness({ LUCIUS_MAX_ORCHESTRATION_RESTARTS: '0' });
    const jobId = await admitRunning(h);
    await dispatchStep(h.services, jobId, 'ocr');
    await h.services.control.purge(jobId);
    h.services.clock.advance(11 * SECOND);

    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary.repaired).toEqual({ ORCHESTRATION_LOST: 1 });
    const { job, steps } = await jobOf(h, jobId);
    expect(job).toMatchObject({
      status: 'FAILED',
      failure: { failureClass: 'ORCHESTRATION_LOST', stepId: 'ocr' },
    });
    expect(job.failure?.message).toContain('missing');
    expect(steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
    expect(await dueCount(h)).toBe(0);
  });

  it('tells a running orchestration to re-check a step deadline that passed long ago', async () => {
    const h = harness();
    const jobId = await admitRunning(h);
    await dispatchStep(h.services, jobId, 'ocr'); // ACK deadline in 30 s
    h.services.clock.advance(36 * SECOND);

    expect((await sweepShards(h.deps, 'drift', h.allShards)).repaired).toEqual({});
    const summary = await sweepShards(h.deps, 'lease', h.allShards);
    expect(summary.repaired).toEqual({ TIMER_RECHECKED: 1 });
    expect(h.services.signals.raised).toEqual([
      { jobId, eventName: RECHECK_EVENT, payload: { reason: expect.stringContaining('AWAITING_ACK') } },
    ]);
    // Not raised again before the timer grace has passed once more.
    expect((await sweepShards(h.deps, 'lease', h.allShards)).examined).toBe(0);
  });

  it('asks for a redispatch of a step whose publish was never confirmed', async () => {
    const h = harness();
    const jobId = await admitRunning(h);
    await dispatchStep(h.services, jobId, 'ocr', { published: false });
    h.services.clock.advance(21 * SECOND);

    const summary = await sweepShards(h.deps, 'lease', h.allShards);
    expect(summary.repaired).toEqual({ DISPATCH_RETRIED: 1 });
    expect(h.services.signals.raised[0]).toMatchObject({
      jobId,
      eventName: RECHECK_EVENT,
      payload: { redispatch: true },
    });
    expect((await jobOf(h, jobId)).job.repairs.at(-1)?.kind).toBe('DISPATCH_RETRIED');
  });

  it('fails a job past its deadline whose orchestration is gone with TIMEOUT', async () => {
    const h = harness({ LUCIUS_JOB_TIMEOUT_SECONDS: '100' });
    const jobId = await admitRunning(h);
    h.services.control.end(jobId, 'Failed');
    h.services.clock.advance(106 * SECOND);

    expect((await sweepShards(h.deps, 'drift', h.allShards)).repaired).toEqual({});
    const summary = await sweepShards(h.deps, 'lease', h.allShards);
    expect(summary.repaired).toEqual({ JOB_TIMED_OUT: 1 });
    expect((await jobOf(h, jobId)).job).toMatchObject({
      status: 'FAILED',
      failure: { failureClass: 'TIMEOUT' },
    });
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  });

  it('removes the idempotency record and work-list entry an admission left when it died before the job', async () => {
    class DyingLedger extends MemoryJobLedger {
      dying = true;
      protected override commitJob(record: AdmissionRecord): void {
        if (this.dying) throw new Error('process died at the commit point');
        super.commitJob(record);
      }
    }
    const ledger = new DyingLedger();
    const h = harness({}, ledger);
    await expect(admitJob(h.services, { idempotency_key: 'k-orphan' })).rejects.toThrow(/answered 500/);
    ledger.dying = false;
    h.services.clock.advance(11 * SECOND);

    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary.repaired).toEqual({ IDEMPOTENCY_ORPHAN_REMOVED: 1 });
    expect(h.logged.find((l) => l.event === 'sweep.repaired')?.fields).toMatchObject({
      kind: 'IDEMPOTENCY_ORPHAN_REMOVED',
      idempotency_removed: true,
    });
    expect(await dueCount(h)).toBe(0);
    // The command is admitted again as a new job.
    const again = await admitJob(h.services, { idempotency_key: 'k-orphan' });
    expect((await jobOf(h, again)).job.status).toBe('ACCEPTED');
  });

  it('does nothing when the job changed between examining it and repairing it', async () => {
    const h = harness();
    const jobId = await admitRunning(h);
    h.services.control.end(jobId, 'Completed');
    h.services.clock.advance(11 * SECOND);
    const inspect = h.services.control.inspect.bind(h.services.control);
    // The orchestration's last write lands while the sweeper looks at the instance.
    h.services.control.inspect = async (id) => {
      const info = await inspect(id);
      await h.services.ledger.applyJobEvent(id, { type: 'SUCCEED' }, h.services.clock.now());
      return info;
    };
    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary).toMatchObject({ examined: 1, repaired: {} });
    expect((await jobOf(h, jobId)).job).toMatchObject({
      status: 'SUCCEEDED',
      orchestrationRestarts: 0,
      repairs: [],
    });
  });

  it('counts a job it could not examine as an error, keeps it due and goes on with the others', async () => {
    const h = harness();
    await admitRunning(h);
    h.services.control.failing = true;
    h.services.clock.advance(301 * SECOND);
    const summary = await sweepShards(h.deps, 'drift', h.allShards);
    expect(summary).toMatchObject({ examined: 1, errors: 1 });
    expect(await dueCount(h)).toBe(1);
    expect(h.logged.map((l) => l.event)).toEqual(['sweep.job_failed', 'sweep.completed']);
  });

  it('logs one summary line with the counters it answers', async () => {
    const h = harness();
    await admitJob(h.services);
    h.services.clock.advance(11 * SECOND);
    const summary = await sweepShards(h.deps, 'all', h.allShards);
    const completed = h.logged.filter((l) => l.event === 'sweep.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.fields).toMatchObject({ ...summary, by: 'test-sweeper' });
  });
});

describe('sweepJob', () => {
  it('examines one job now, whatever its next check', async () => {
    const h = harness();
    const jobId = await admitRunning(h);
    h.services.control.end(jobId, 'Terminated');
    expect(await sweepJob(h.deps, jobId)).toBe('ORCHESTRATION_RESTARTED');
    expect(await sweepJob(h.deps, jobId)).toBeUndefined();
    expect(await sweepJob(h.deps, 'no-such-job')).toBeUndefined();
  });
});

describe('reconcileInflight', () => {
  async function skewCounter(h: Harness, to: number): Promise<void> {
    const counter = (await h.services.ledger.listInflightCounters()).find((c) => c.tenantId === 't1');
    if (counter === undefined) throw new Error('no counter');
    await h.services.ledger.correctInflight('t1', counter.version, to);
  }

  it('corrects a counter only when the same drift is seen twice, a grace apart', async () => {
    const h = harness();
    await admitRunning(h);
    await admitRunning(h);
    await skewCounter(h, 5);

    expect(await reconcileInflight(h.deps)).toBe(0); // first sighting
    h.services.clock.advance(5 * SECOND);
    expect(await reconcileInflight(h.deps)).toBe(0); // too soon
    expect(await h.services.ledger.inflightCount('t1')).toBe(5);
    h.services.clock.advance(6 * SECOND);
    expect(await reconcileInflight(h.deps)).toBe(1);
    expect(await h.services.ledger.inflightCount('t1')).toBe(2);
    expect(h.logged.at(-1)).toMatchObject({
      event: 'sweep.repaired',
      fields: { kind: 'INFLIGHT_CORRECTED' },
    });
  });

  it('does not correct when an admission changed the counter between the sightings', async () => {
    const h = harness();
    await admitRunning(h);
    await skewCounter(h, 4);
    expect(await reconcileInflight(h.deps)).toBe(0);
    await admitRunning(h);
    h.services.clock.advance(11 * SECOND);
    expect(await reconcileInflight(h.deps)).toBe(0); // a new first sighting
    expect(await h.services.ledger.inflightCount('t1')).toBe(5);
    h.services.clock.advance(11 * SECOND);
    expect(await reconcileInflight(h.deps)).toBe(1);
    expect(await h.services.ledger.inflightCount('t1')).toBe(2);
  });

  it('runs with a drift sweep holding shard 0, and not with a lease sweep', async () => {
    const h = harness();
    await admitRunning(h);
    await skewCounter(h, 3);
    await sweepShards(h.deps, 'lease', [0]);
    h.services.clock.advance(11 * SECOND);
    await sweepShards(h.deps, 'drift', [1]);
    expect(await h.services.ledger.inflightCount('t1')).toBe(3);
    await sweepShards(h.deps, 'drift', [0]);
    h.services.clock.advance(11 * SECOND);
    const summary = await sweepShards(h.deps, 'drift', [0]);
    expect(summary.repaired.INFLIGHT_CORRECTED).toBe(1);
    expect(await h.services.ledger.inflightCount('t1')).toBe(1);
  });
});

describe('purgeExpiredJobs', () => {
  it('purges finished jobs older than the retention window with their orchestration, and keeps the rest', async () => {
    const h = harness();
    const old = await admitRunning(h);
    await failJobOf(h, old);
    const running = await admitRunning(h);
    h.services.clock.advance(86_400 * SECOND + SECOND);
    const recent = await admitRunning(h);
    await failJobOf(h, recent);

    expect(await purgeExpiredJobs(h.deps)).toBe(1);
    expect(await h.services.ledger.getJob(old)).toBeUndefined();
    expect(h.services.control.purged).toEqual([old]);
    expect((await jobOf(h, running)).job.status).toBe('RUNNING');
    expect((await jobOf(h, recent)).job.status).toBe('FAILED');
  });
});

describe('sweepLeasedShards', () => {
  it('sweeps only the shards no other owner holds, and gives its leases back', async () => {
    const h = harness();
    const jobId = await admitJob(h.services);
    const { job } = await jobOf(h, jobId);
    const leases = new MemoryShardLeases();
    await leases.acquire(job.lane, 'someone-else', h.services.clock.now(), 60);
    h.services.clock.advance(11 * SECOND);

    const summary = await sweepLeasedShards({ ...h.deps, leases }, 'me', 'drift');
    expect(summary.shards).not.toContain(job.lane);
    expect(summary.examined).toBe(0);
    expect((await leases.list()).map((l) => l.owner)).toEqual(['someone-else']);

    await leases.release(job.lane, 'someone-else');
    expect((await sweepLeasedShards({ ...h.deps, leases }, 'me', 'drift')).repaired).toEqual({
      ORCHESTRATION_STARTED: 1,
    });
    expect(await leases.list()).toEqual([]);
  });
});

/** Drives a started job to FAILED as its orchestration would (the instance completes). */
async function failJobOf(h: Harness, jobId: string): Promise<void> {
  const { ledger, clock } = h.services;
  await ledger.applyJobEvent(
    jobId,
    { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'unreadable scan' } },
    clock.now(),
  );
  h.services.control.end(jobId, 'Completed');
}
