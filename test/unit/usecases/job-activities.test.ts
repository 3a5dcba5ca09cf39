/**
 * The orchestration's activities answer the attempt as the ledger holds it: recordAttempt adopts an
 * attempt recorded under another lease instead of failing, dispatchAttempt takes the dispatch slot
 * and records the attempt in one (or leaves the step waiting for a slot), resolveTimeout never leaves an unchanged
 * attempt in flight, startJob plans each step's attempt and the run's deadline, expireJob ends a job
 * at its deadline. Memory ledger and publisher.
 */
import { toAttemptView } from '../../../src/domain/attempt';
import { PLAN_REVISION } from '../../../src/contracts/job-protocol';
import type { Step } from '../../../src/domain/step';
import {
  dispatchAttempt,
  expireJob,
  readAttempt,
  recordAttempt,
  resolveTimeout,
  startJob,
  type JobActivityDeps,
} from '../../../src/usecases/job-activities';
import { admitJob, dispatchStep, testServices, type AttemptKey, type TestServices } from '../http/fixtures';

const LEASE = '1f7e4c2a-0000-4000-8000-000000000001';

let services: TestServices;
let deps: JobActivityDeps;

beforeEach(() => {
  services = testServices();
  deps = services.jobActivities;
});

async function stepOf(jobId: string, stepId = 'ocr'): Promise<Step> {
  const found = (await services.ledger.getJob(jobId))?.steps.find((s) => s.stepId === stepId);
  if (found === undefined) throw new Error('step not found');
  return found;
}

async function running(): Promise<string> {
  const jobId = await admitJob(services, { idempotency_key: `k-${services.clock.now().getTime()}` });
  await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
  return jobId;
}

const attemptInput = (jobId: string, attemptNo: number, leaseId = LEASE) => ({
  jobId,
  stepId: 'ocr',
  attemptNo,
  leaseId,
  inputRef: 'blob://in/doc.pdf',
  ackDeadline: new Date(services.clock.now().getTime() + 30_000).toISOString(),
});

describe('recordAttempt', () => {
  it('records the next attempt of a PENDING step under the lease given', async () => {
    const jobId = await running();
    const view = await recordAttempt(deps, attemptInput(jobId, 1));
    expect(view).toMatchObject({ status: 'DISPATCHING', attemptNo: 1, leaseId: LEASE });
  });

  it('answers the attempt the ledger holds under another lease, in any state in flight', async () => {
    for (const published of [false, true]) {
      const jobId = await running();
      const held: AttemptKey = await dispatchStep(services, jobId, 'ocr', { published });
      const view = await recordAttempt(deps, attemptInput(jobId, 1));
      expect(view).toEqual(toAttemptView(await stepOf(jobId)));
      expect(view).toMatchObject({
        status: published ? 'AWAITING_ACK' : 'DISPATCHING',
        attemptNo: 1,
        leaseId: held.leaseId,
      });
    }
  });

  it('answers the ledger when it is further along than the attempt asked for', async () => {
    const jobId = await running();
    const first = await dispatchStep(services, jobId);
    await services.ledger.applyStepEvent(
      jobId,
      'ocr',
      { type: 'SUCCEED', attemptNo: 1, leaseId: first.leaseId, outputRef: 'blob://o' },
      services.clock.now(),
    );
    expect(await recordAttempt(deps, attemptInput(jobId, 1))).toMatchObject({
      status: 'SUCCEEDED',
      outputRef: 'blob://o',
    });
    expect(await recordAttempt(deps, attemptInput(jobId, 2))).toMatchObject({
      status: 'SUCCEEDED',
      attemptNo: 1,
    });
  });

  it('is idempotent: a re-run answers the attempt it recorded', async () => {
    const jobId = await running();
    const input = attemptInput(jobId, 1);
    const first = await recordAttempt(deps, input);
    expect(await recordAttempt(deps, input)).toEqual(first);
  });
});

describe('dispatchAttempt', () => {
  beforeEach(() => {
    services = testServices({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
    deps = services.jobActivities;
  });

  it('takes the slot and records the attempt, or leaves the step waiting for a slot', async () => {
    const a = await running();
    const b = await running();
    const granted = await dispatchAttempt(deps, attemptInput(a, 1));
    expect(granted).toEqual({ granted: true, view: toAttemptView(await stepOf(a)) });
    expect(granted.view).toMatchObject({ status: 'DISPATCHING', attemptNo: 1, leaseId: LEASE });
    const waiting = await dispatchAttempt(deps, attemptInput(b, 1, `${LEASE.slice(0, -1)}2`));
    expect(waiting).toEqual({ granted: false, view: toAttemptView(await stepOf(b)) });
    expect(waiting.view).toMatchObject({ status: 'WAITING_SLOT', attemptNo: 0 });
    expect(waiting.view.leaseId).toBeUndefined();
    const [row] = await deps.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([a]);
    expect(row?.waiting.map((w) => w.jobId)).toEqual([b]);
  });

  it('is idempotent: a re-run answers the attempt it recorded, keeping the one slot', async () => {
    const jobId = await running();
    const first = await dispatchAttempt(deps, attemptInput(jobId, 1));
    const again = await dispatchAttempt(deps, attemptInput(jobId, 1));
    expect(again).toEqual({ granted: false, view: first.view });
    const [row] = await deps.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([jobId]);
  });
});

describe('readAttempt', () => {
  it('answers the step attempt as the ledger holds it', async () => {
    const jobId = await running();
    await dispatchStep(services, jobId);
    expect(await readAttempt(deps, { jobId, stepId: 'ocr' })).toEqual(toAttemptView(await stepOf(jobId)));
  });
});

describe('resolveTimeout', () => {
  it('fails an attempt that did not change since the timer was armed, under the ledger lease', async () => {
    const jobId = await running();
    const held = await dispatchStep(services, jobId);
    const step = await stepOf(jobId);
    // The timer was armed for a lease the ledger does not hold (a crashed episode's).
    const view = await resolveTimeout(deps, {
      jobId,
      stepId: 'ocr',
      attemptNo: 1,
      leaseId: LEASE,
      timeout: 'ack',
      deadline: step.ackDeadline ?? '',
      held: toAttemptView(step),
    });
    expect(view).toMatchObject({
      status: 'FAILED_RETRY',
      leaseId: held.leaseId,
      // Within the not-started budget (LUCIUS_MAX_NOT_STARTED): retried, the attempt not counted.
      failure: { failureClass: 'NOT_STARTED', attemptNo: 1, notStarted: 1 },
    });
  });

  it('leaves an attempt that changed since the timer was armed for the next wait', async () => {
    const jobId = await running();
    const held = await dispatchStep(services, jobId);
    const armed = toAttemptView(await stepOf(jobId));
    const now = services.clock.now();
    await services.ledger.applyStepEvent(
      jobId,
      'ocr',
      {
        type: 'ACK',
        ...held,
        leaseExpiresAt: new Date(now.getTime() + 900_000).toISOString(),
        resultDeadline: new Date(now.getTime() + 900_000).toISOString(),
      },
      now,
    );
    const view = await resolveTimeout(deps, {
      ...held,
      timeout: 'ack',
      deadline: armed.ackDeadline ?? '',
      held: armed,
    });
    expect(view).toMatchObject({ status: 'IN_PROGRESS', attemptNo: 1 });
  });
});

describe('startJob', () => {
  it('plans each step with its attempt as the ledger holds it, and the job deadline', async () => {
    const jobId = await admitJob(services, { timeout_seconds: 120 });
    const admitted = (await services.ledger.getJob(jobId))?.job;
    const plan = await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    expect(plan.deadlineAt).toBe(admitted?.deadlineAt);
    expect(plan.revision).toBe(PLAN_REVISION);
    expect(Date.parse(plan.deadlineAt) - Date.parse(admitted?.createdAt ?? '')).toBe(120_000);
    const held = await dispatchStep(services, jobId);
    const again = await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    expect(again.steps[0]).toMatchObject({
      stepId: 'ocr',
      index: 0,
      type: 'OCR',
      status: 'AWAITING_ACK',
      attemptNo: 1,
      leaseId: held.leaseId,
      ackDeadline: expect.any(String),
    });
  });
});

describe('expireJob', () => {
  it('fails the job with TIMEOUT, cancels its steps and tells the worker holding the attempt', async () => {
    const jobId = await running();
    const held = await dispatchStep(services, jobId);
    const status = await expireJob(deps, {
      jobId,
      stepId: 'ocr',
      deadlineAt: '2026-05-01T13:00:00.000Z',
      attempt: held,
    });
    expect(status).toBe('FAILED');
    const found = await services.ledger.getJob(jobId);
    expect(found?.job).toMatchObject({
      status: 'FAILED',
      failure: {
        stepId: 'ocr',
        failureClass: 'TIMEOUT',
        message: 'the job deadline passed (2026-05-01T13:00:00.000Z)',
      },
    });
    expect(found?.steps.every((s) => s.status === 'CANCELLED')).toBe(true);
    const cancels = services.publisher.published().filter((p) => p.directive.kind === 'cancel');
    expect(cancels.map((p) => p.directive.lease_id)).toEqual([held.leaseId]);
    expect(await services.ledger.inflightCount('t1')).toBe(0);
  });

  it('keeps the outcome of a job that ended otherwise', async () => {
    const jobId = await running();
    await services.ledger.applyJobEvent(jobId, { type: 'CANCEL' }, services.clock.now());
    expect(await expireJob(deps, { jobId, stepId: 'ocr', deadlineAt: '2026-05-01T13:00:00.000Z' })).toBe(
      'CANCELLED',
    );
    expect((await services.ledger.getJob(jobId))?.job.failure).toBeUndefined();
  });
});
