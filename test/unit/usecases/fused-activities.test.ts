/**
 * Plan revision 3's activities, which each do what took two or three before: startJob with
 * `dispatchFirst` dispatches the first unfinished step; dispatchStep takes the slot, records the
 * attempt and publishes its directive; settleAttempt reads the step a RESULT ended and, when it
 * SUCCEEDED, dispatches the next step or finishes the job. Each stays idempotent (Durable runs an
 * activity at least once) and follows the ledger when the step moved on. Memory ledger and publisher.
 */
import { toAttemptView } from '../../../src/domain/attempt';
import type { Step } from '../../../src/domain/step';
import {
  dispatchStep,
  settleAttempt,
  startJob,
  type JobActivityDeps,
} from '../../../src/usecases/job-activities';
import { admitJob, testServices, type TestServices } from '../http/fixtures';

let services: TestServices;
let deps: JobActivityDeps;

beforeEach(() => {
  services = testServices({ LUCIUS_LANE_COUNT: '1', LUCIUS_MAX_OUTSTANDING_PER_LANE: '1' });
  deps = services.jobActivities;
});

const TWO_STEPS = {
  request_type: 'OCR->EMBEDDING',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
};

async function stepOf(jobId: string, stepId = 'ocr'): Promise<Step> {
  const found = (await services.ledger.getJob(jobId))?.steps.find((s) => s.stepId === stepId);
  if (found === undefined) throw new Error('step not found');
  return found;
}

async function admitted(key: string, overrides: Record<string, unknown> = {}): Promise<string> {
  return admitJob(services, { idempotency_key: key, ...overrides });
}

/** Ends the step's current attempt with a RESULT SUCCEEDED, as ingestion applies it. */
async function succeed(jobId: string, stepId: string, outputRef: string): Promise<void> {
  const step = await stepOf(jobId, stepId);
  await services.ledger.applyStepEvent(
    jobId,
    stepId,
    { type: 'SUCCEED', attemptNo: step.attemptNo, leaseId: step.leaseId ?? '', outputRef },
    services.clock.now(),
  );
}

describe('startJob with dispatchFirst', () => {
  it('starts the job and publishes its first step, and the plan says the slot was granted', async () => {
    const jobId = await admitted('k-a');
    const plan = await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR', dispatchFirst: true });
    expect(plan.status).toBe('RUNNING');
    const step = await stepOf(jobId);
    expect(step).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1 });
    expect(plan.steps[0]).toMatchObject(toAttemptView(step));
    expect(plan.asked).toEqual({ stepId: 'ocr', attemptNo: 1, granted: true });
    const published = services.publisher.published();
    expect(published).toHaveLength(1);
    expect(published[0]?.directive).toMatchObject({
      job_id: jobId,
      step_id: 'ocr',
      attempt_no: 1,
      lease_id: step.leaseId,
      ack_deadline: step.ackDeadline,
    });
    // Run again (at least once): nothing is published or recorded twice.
    const again = await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR', dispatchFirst: true });
    expect(again.steps[0]).toMatchObject(toAttemptView(await stepOf(jobId)));
    expect(services.publisher.published()).toHaveLength(1);
  });

  it('leaves a step that finds no free slot waiting in the ledger, and says it was not granted', async () => {
    const a = await admitted('k-a');
    const b = await admitted('k-b');
    await startJob(deps, { jobId: a, tenantId: 't1', requestType: 'OCR', dispatchFirst: true });
    const plan = await startJob(deps, { jobId: b, tenantId: 't1', requestType: 'OCR', dispatchFirst: true });
    expect(plan.asked).toEqual({ stepId: 'ocr', attemptNo: 1, granted: false });
    expect(plan.steps[0]).toMatchObject({ status: 'WAITING_SLOT', attemptNo: 0 });
    expect(services.publisher.published().map((p) => p.directive.job_id)).toEqual([a]);
  });

  it('dispatches nothing without dispatchFirst (the start of older runs)', async () => {
    const jobId = await admitted('k-a');
    const plan = await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    expect(plan.asked).toBeUndefined();
    expect(plan.steps[0]).toMatchObject({ status: 'PENDING', attemptNo: 0 });
    expect(services.publisher.published()).toHaveLength(0);
  });
});

describe('dispatchStep', () => {
  it('records a publish failure as the attempt DISPATCH_FAILED, keeping the slot for the orchestration to give back', async () => {
    const jobId = await admitted('k-a');
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    services.publisher.startOutage(new Error('namespace unreachable'));
    const answer = await dispatchStep(deps, { jobId, stepId: 'ocr', attemptNo: 1, inputRef: 'blob://in' });
    expect(answer.granted).toBe(true);
    expect(answer.view).toMatchObject({
      status: 'FAILED_RETRY',
      attemptNo: 1,
      failure: { failureClass: 'DISPATCH_FAILED' },
    });
    const [row] = await deps.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([jobId]);
  });

  it('publishes again an attempt an earlier run recorded and died on, and answers it granted', async () => {
    const jobId = await admitted('k-a');
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    // The earlier run recorded the attempt and published it, then died before recording PUBLISHED.
    const apply = services.ledger.applyStepEvent.bind(services.ledger);
    let dying = true;
    services.ledger.applyStepEvent = async (id, stepId, event, now) => {
      if (dying && event.type === 'PUBLISHED') {
        dying = false;
        throw new Error('the process died after publishing');
      }
      return apply(id, stepId, event, now);
    };
    const input = { jobId, stepId: 'ocr', attemptNo: 1, inputRef: 'blob://in' };
    await expect(dispatchStep(deps, input)).rejects.toThrow('the process died after publishing');
    const recorded = await stepOf(jobId);
    expect(recorded).toMatchObject({ status: 'DISPATCHING', attemptNo: 1 });
    const again = await dispatchStep(deps, input);
    expect(again).toEqual({ granted: true, view: toAttemptView(await stepOf(jobId)) });
    expect(again.view).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1, leaseId: recorded.leaseId });
    // The same message id both times: the topic kept one copy; the one slot is still held.
    expect(services.publisher.published()).toHaveLength(1);
    const [row] = await deps.slots.rowsOfLane(0);
    expect(row?.holders.map((h) => h.jobId)).toEqual([jobId]);
  });

  it('answers not granted, taking nothing, for a step that moved on before the attempt', async () => {
    const jobId = await admitted('k-a');
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR' });
    await services.ledger.applyStepEvent(jobId, 'ocr', { type: 'CANCEL' }, services.clock.now());
    const answer = await dispatchStep(deps, { jobId, stepId: 'ocr', attemptNo: 1, inputRef: 'blob://in' });
    expect(answer).toEqual({ granted: false, view: toAttemptView(await stepOf(jobId)) });
    expect(answer.view.status).toBe('CANCELLED');
    expect(await deps.slots.rowsOfLane(0)).toEqual([]);
  });
});

describe('settleAttempt', () => {
  it('after a success dispatches the next step with the output as its input', async () => {
    const jobId = await admitted('k-a', TWO_STEPS);
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING', dispatchFirst: true });
    await succeed(jobId, 'ocr', 'blob://out/ocr');
    const answer = await settleAttempt(deps, {
      jobId,
      stepId: 'ocr',
      then: { kind: 'dispatch', stepId: 'embedding', attemptNo: 1, inputRef: 'blob://in/doc.pdf' },
    });
    expect(answer.view).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/ocr' });
    expect(answer.next).toEqual({ granted: true, view: toAttemptView(await stepOf(jobId, 'embedding')) });
    expect(answer.next?.view).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1 });
    const last = services.publisher.published().at(-1)?.directive;
    expect(last).toMatchObject({ step_id: 'embedding', input_ref: 'blob://out/ocr' });
    expect(answer.status).toBeUndefined();
  });

  it('after the last step succeeded finishes the job', async () => {
    const jobId = await admitted('k-a');
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR', dispatchFirst: true });
    await succeed(jobId, 'ocr', 'blob://out/ocr');
    const answer = await settleAttempt(deps, { jobId, stepId: 'ocr', then: { kind: 'finish' } });
    expect(answer).toMatchObject({ status: 'SUCCEEDED', view: { status: 'SUCCEEDED' } });
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('SUCCEEDED');
    expect(await services.ledger.inflightCount('t1')).toBe(0);
  });

  it('only reads a step that did not succeed: nothing is dispatched or finished', async () => {
    const jobId = await admitted('k-a', TWO_STEPS);
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING', dispatchFirst: true });
    const answer = await settleAttempt(deps, {
      jobId,
      stepId: 'ocr',
      then: { kind: 'dispatch', stepId: 'embedding', attemptNo: 1, inputRef: 'blob://in/doc.pdf' },
    });
    expect(answer).toEqual({ view: toAttemptView(await stepOf(jobId)) });
    expect(await stepOf(jobId, 'embedding')).toMatchObject({ status: 'PENDING' });
    expect(services.publisher.published()).toHaveLength(1);
  });
});
