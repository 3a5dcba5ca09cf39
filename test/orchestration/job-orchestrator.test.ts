/**
 * jobOrchestrator, one test per path, on the time-skipping durable environment with the real app's
 * orchestration and activities. Each asserts the ledger rows and the orchestration's output.
 */
import { createHarness, START, type Harness } from './harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
});

afterEach(async () => {
  await h.stop();
});

function at(ms: number): string {
  return new Date(START.getTime() + ms).toISOString();
}

describe('jobOrchestrator', () => {
  it('runs a one-step job to SUCCEEDED', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    expect(d).toMatchObject({ step_id: 'ocr', attempt_no: 1, input_ref: job.inputRef, lane: job.lane });
    expect((await h.status(job.jobId)).customStatus).toMatchObject({
      stepId: 'ocr',
      attemptNo: 1,
      state: 'AWAITING_ACK',
    });

    await h.ack(d);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'IN_PROGRESS', attemptNo: 1 });
    // The ACK is recorded in the ledger only: the orchestration sleeps on until the RESULT.
    expect((await h.status(job.jobId)).customStatus).toMatchObject({ state: 'AWAITING_ACK' });
    await h.succeed(d, 'blob://out/ocr.txt');

    const { output } = await h.finish(job.jobId);
    expect(output).toEqual({
      jobId: job.jobId,
      status: 'SUCCEEDED',
      outputRef: 'blob://out/ocr.txt',
      steps: [{ stepId: 'ocr', status: 'SUCCEEDED', attempts: 1, outputRef: 'blob://out/ocr.txt' }],
    });
    const { job: row, steps } = await h.job(job.jobId);
    expect(row.status).toBe('SUCCEEDED');
    expect(steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      attemptNo: 1,
      leaseId: d.lease_id,
      outputRef: 'blob://out/ocr.txt',
    });
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  });

  it('wakes only for the RESULT: the ACK and heartbeats raise no event', async () => {
    const job = await h.admit('OCR->EMBEDDING');
    for (const stepId of ['ocr', 'embedding']) {
      const d = await h.latest(job.jobId);
      expect(d.step_id).toBe(stepId);
      await h.ack(d);
      await h.heartbeat(d, 5);
      await h.succeed(d, `blob://out/${stepId}`);
    }
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/embedding' });
    const raised = (await h.history(job.jobId)).filter((e) => e.EventType === 'EventRaised');
    expect(raised.map((e) => String(e.Name).split(':')[0])).toEqual(['reply', 'reply']);
    const runs = (await h.history(job.jobId))
      .filter((e) => e.EventType === 'TaskCompleted')
      .map((e) => String(e.FunctionName));
    // startJob dispatches the first step (slot, record, publish); the read after each RESULT
    // dispatches the next step, or finishes the job after the last; the RESULT's ingestion gave each
    // slot back, so no releaseSlot.
    expect(runs).toEqual(['startJob', 'settleAttempt', 'settleAttempt']);
    // Six episodes: the start, after startJob, after each RESULT's event and after each settle.
    expect(await h.episodes(job.jobId)).toBe(6);
    const rows = await h.services.jobActivities.slots.rowsOfLane(job.lane);
    expect(rows.every((row) => row.holders.length === 0)).toBe(true);
  });

  it('resolves the ACK deadline of a slow worker that ACKed through the ledger, then takes its RESULT', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    await h.env.advanceBy(20 * SECOND);
    await h.ack(d);
    // The ACK deadline (30 s) passes: the timer is resolved in the ledger, which shows the attempt
    // ACKed, so the wait re-arms on the lease and the result deadline instead of failing it.
    await h.env.advanceBy(20 * SECOND);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'IN_PROGRESS', attemptNo: 1 });
    expect((await h.status(job.jobId)).customStatus).toMatchObject({ state: 'IN_PROGRESS', attemptNo: 1 });
    await h.heartbeat(d, 10);
    await h.env.advanceBy(5 * MINUTE);
    await h.succeed(d, 'blob://out/slow.txt');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'SUCCEEDED',
      outputRef: 'blob://out/slow.txt',
      steps: [{ status: 'SUCCEEDED', attempts: 1 }],
    });
    const step = (await h.job(job.jobId)).steps[0];
    expect(step).toMatchObject({ status: 'SUCCEEDED', attemptNo: 1, leaseId: d.lease_id });
  });

  it('runs three steps in order, passing each output_ref on as the next input_ref', async () => {
    const job = await h.admit('OCR->EMBEDDING->SIS');
    const outputs = ['blob://o/1', 'blob://o/2', 'blob://o/3'];
    const seen: string[] = [];
    for (const [i, out] of outputs.entries()) {
      const d = await h.latest(job.jobId);
      seen.push(`${d.step_id}<${d.input_ref}`);
      expect(d.step_index).toBe(i);
      await h.ack(d);
      await h.succeed(d, out);
    }
    expect(seen).toEqual([`ocr<${job.inputRef}`, 'embedding<blob://o/1', 'sis<blob://o/2']);
    const { output } = await h.finish(job.jobId);
    expect(output.status).toBe('SUCCEEDED');
    expect(output.outputRef).toBe('blob://o/3');
    const { job: row, steps } = await h.job(job.jobId);
    expect(row.status).toBe('SUCCEEDED');
    expect(steps.map((s) => [s.stepId, s.status, s.inputRef, s.outputRef])).toEqual([
      ['ocr', 'SUCCEEDED', job.inputRef, 'blob://o/1'],
      ['embedding', 'SUCCEEDED', 'blob://o/1', 'blob://o/2'],
      ['sis', 'SUCCEEDED', 'blob://o/2', 'blob://o/3'],
    ]);
  });

  it('retries after an ACK timeout on the ACK backoff, with a new lease, then succeeds', async () => {
    // Without a not-started budget, an ACK timeout counts as an attempt (ACK_TIMEOUT), as before.
    await h.stop();
    h = await createHarness({ LUCIUS_MAX_NOT_STARTED: '0' });
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    // Nobody answers: the 30 s ACK timeout fires, then the 1 min backoff.
    await h.env.advanceBy(30 * SECOND);
    const afterTimeout = (await h.job(job.jobId)).steps[0];
    expect(afterTimeout).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'ACK_TIMEOUT', attemptNo: 1, retryDelayMs: MINUTE },
    });
    expect((await h.status(job.jobId)).customStatus).toMatchObject({
      state: 'RETRY_BACKOFF',
      retryAt: at(90 * SECOND),
    });
    await h.env.advanceBy(MINUTE);
    const second = await h.latest(job.jobId);
    expect(second.attempt_no).toBe(2);
    expect(second.lease_id).not.toBe(first.lease_id);
    expect(second.issued_at).toBe(at(90 * SECOND));

    await h.ack(second);
    await h.succeed(second);
    const { output } = await h.finish(job.jobId);
    expect(output.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      attemptNo: 2,
      leaseId: second.lease_id,
    });
  });

  it('fails the attempt when the lease expires without a heartbeat, and retries', async () => {
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    await h.ack(first);
    // The default lease is 15 minutes; no heartbeat comes.
    await h.env.advanceBy(15 * MINUTE);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'LEASE_EXPIRED', attemptNo: 1 },
    });
    await h.env.advanceBy(MINUTE);
    const second = await h.latest(job.jobId);
    expect(second.attempt_no).toBe(2);
    await h.succeed(second);
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', steps: [{ attempts: 2 }] });
  });

  it('keeps a long step alive while heartbeats extend its lease', async () => {
    await h.stop();
    h = await createHarness({ LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: '7200' });
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    await h.ack(d);
    // Heartbeats ten minutes apart carry the step far past one 15-minute lease.
    for (let i = 0; i < 4; i += 1) {
      await h.env.advanceBy(10 * MINUTE);
      expect((await h.heartbeat(d)).kind).toBe('applied');
    }
    const step = (await h.job(job.jobId)).steps[0];
    expect(step).toMatchObject({ status: 'IN_PROGRESS', attemptNo: 1 });
    expect(step?.leaseExpiresAt).toBe(at(40 * MINUTE + 15 * MINUTE));
    await h.succeed(d);
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', steps: [{ attempts: 1 }] });
  });

  it('fails the attempt at the step result timeout even while heartbeats keep the lease', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    await h.ack(d);
    for (let i = 0; i < 2; i += 1) {
      await h.env.advanceBy(10 * MINUTE);
      await h.heartbeat(d);
    }
    // 900 s after the ACK the result deadline passes although the lease runs to 35 min.
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'TIMEOUT', attemptNo: 1 },
    });
  });

  it('retries a worker-reported transient failure, then succeeds', async () => {
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    await h.ack(first);
    await h.fail(first, 'TRANSIENT', 'model server busy');
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'TRANSIENT', message: 'model server busy', retryDelayMs: MINUTE },
    });
    await h.env.advanceBy(MINUTE);
    const second = await h.latest(job.jobId);
    expect(second.attempt_no).toBe(2);
    await h.ack(second);
    await h.succeed(second);
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', steps: [{ status: 'SUCCEEDED', attempts: 2 }] });
  });

  it('fails the job at once on a permanent failure, naming the step, class and message', async () => {
    const job = await h.admit('OCR->EMBEDDING');
    const d = await h.latest(job.jobId);
    await h.ack(d);
    await h.fail(d, 'PERMANENT', 'document is encrypted');
    const { output } = await h.finish(job.jobId);
    const failure = { stepId: 'ocr', failureClass: 'PERMANENT', message: 'document is encrypted' };
    expect(output).toMatchObject({ status: 'FAILED', failure });
    const { job: row, steps } = await h.job(job.jobId);
    expect(row).toMatchObject({ status: 'FAILED', failure });
    expect(steps.map((s) => s.status)).toEqual(['FAILED_FINAL', 'PENDING']);
    expect(steps[0]?.failure).toMatchObject({ exhausted: false, attemptNo: 1 });
    expect(await h.directives(job.jobId)).toHaveLength(1);
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  });

  it('fails the job when attempts run out, keeping the last failure class', async () => {
    const job = await h.admit('OCR');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const d = await h.latest(job.jobId);
      expect(d.attempt_no).toBe(attempt);
      await h.ack(d);
      await h.fail(d, 'TRANSIENT', `busy ${attempt}`);
      await h.env.advanceBy(15 * MINUTE);
    }
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'FAILED',
      failure: { stepId: 'ocr', failureClass: 'TRANSIENT', message: 'busy 3' },
      steps: [{ status: 'FAILED_FINAL', attempts: 3 }],
    });
    expect((await h.job(job.jobId)).steps[0]?.failure).toMatchObject({ exhausted: true, attemptNo: 3 });
  });

  it('retries a failed publish on the dispatch backoff', async () => {
    h.services.publisher.startOutage(new Error('namespace unreachable'));
    const job = await h.admit('OCR');
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'DISPATCH_FAILED', retryDelayMs: 30 * SECOND },
    });
    h.services.publisher.endOutage();
    await h.env.advanceBy(30 * SECOND);
    const d = await h.latest(job.jobId);
    expect(d.attempt_no).toBe(2);
    await h.succeed(d);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');
  });

  it('ignores a reply with a stale lease and counts it on the step', async () => {
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    await h.env.advanceBy(30 * SECOND); // attempt 1 times out
    await h.env.advanceBy(MINUTE); // the backoff passes, attempt 2 is published
    const second = await h.latest(job.jobId);
    expect(second.attempt_no).toBe(2);

    const late = await h.succeed(first, 'blob://stale');
    expect(late.kind).toBe('stale');
    const step = (await h.job(job.jobId)).steps[0];
    expect(step).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 2, staleReplies: 1 });
    expect(step?.outputRef).toBeUndefined();

    await h.ack(second);
    await h.succeed(second, 'blob://fresh');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://fresh' });
  });

  it('treats a repeated RESULT as a duplicate that changes nothing', async () => {
    const job = await h.admit('OCR->EMBEDDING');
    const d = await h.latest(job.jobId);
    await h.ack(d);
    expect((await h.succeed(d, 'blob://one')).kind).toBe('applied');
    expect((await h.succeed(d, 'blob://one')).kind).toBe('duplicate');
    const steps = (await h.job(job.jobId)).steps;
    expect(steps[0]).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://one', duplicateReplies: 1 });
    // The next step was dispatched once.
    const embedding = (await h.directives(job.jobId)).filter((x) => x.step_id === 'embedding');
    expect(embedding).toHaveLength(1);
    await h.succeed(embedding[0]!);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');
  });

  it('takes a RESULT before the ACK as both', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    expect((await h.succeed(d, 'blob://early')).kind).toBe('applied');
    expect((await h.ack(d)).kind).toBe('duplicate');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://early' });
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      resultDeadline: expect.any(String),
    });
  });

  it('cancels while waiting for the ACK and tells the worker', async () => {
    const job = await h.admit('OCR->EMBEDDING');
    const d = await h.latest(job.jobId);
    const result = await h.cancel(job.jobId, 'not needed');
    expect(result.job.status).toBe('CANCELLED');
    const { status, output } = await h.finish(job.jobId);
    expect(status.runtimeStatus).toBe('Completed');
    expect(output).toMatchObject({
      status: 'CANCELLED',
      steps: [{ status: 'CANCELLED' }, { status: 'CANCELLED' }],
    });
    const { job: row, steps } = await h.job(job.jobId);
    expect(row).toMatchObject({ status: 'CANCELLED', cancelReason: 'not needed' });
    expect(steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    const cancels = h.services.publisher.published().filter((p) => p.directive.kind === 'cancel');
    expect(cancels.map((p) => [p.directive.lease_id, p.topic])).toEqual([
      [d.lease_id, `global-bus-p${d.lane}`],
    ]);
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
    // A late RESULT from the cancelled attempt is a no-op.
    expect((await h.succeed(d)).kind).toBe('finished');
    expect((await h.job(job.jobId)).steps[0]?.status).toBe('CANCELLED');
  });

  it('cancels a step in progress', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    await h.ack(d);
    await h.env.advanceBy(5 * MINUTE);
    await h.cancel(job.jobId);
    const { output } = await h.finish(job.jobId);
    expect(output.status).toBe('CANCELLED');
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'CANCELLED', attemptNo: 1 });
    expect(h.services.publisher.published().filter((p) => p.directive.kind === 'cancel')).toHaveLength(1);
  });

  it('redrives a failed job from its failed step, keeping the succeeded steps and outputs', async () => {
    const job = await h.admit('OCR->EMBEDDING');
    const ocr = await h.latest(job.jobId);
    await h.succeed(ocr, 'blob://text');
    const embedding = await h.latest(job.jobId);
    await h.fail(embedding, 'PERMANENT', 'model missing');
    expect((await h.finish(job.jobId)).output.status).toBe('FAILED');
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);

    const redriven = await h.redrive(job.jobId);
    expect(redriven.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
    expect(await h.services.ledger.inflightCount('t1')).toBe(1);
    const again = await h.latest(job.jobId);
    expect(again).toMatchObject({ step_id: 'embedding', attempt_no: 2, input_ref: 'blob://text' });
    await h.succeed(again, 'blob://vectors');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'SUCCEEDED',
      outputRef: 'blob://vectors',
      steps: [
        { stepId: 'ocr', status: 'SUCCEEDED', attempts: 1, outputRef: 'blob://text' },
        { stepId: 'embedding', status: 'SUCCEEDED', attempts: 2 },
      ],
    });
    // OCR ran once.
    expect((await h.directives(job.jobId)).filter((d) => d.step_id === 'ocr')).toHaveLength(1);
    const { job: row } = await h.job(job.jobId);
    expect(row.status).toBe('SUCCEEDED');
    expect(row.failure).toBeUndefined();
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  });
});
