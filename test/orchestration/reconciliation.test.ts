/**
 * jobOrchestrator takes every outcome from the ledger: forged events change nothing, an attempt the
 * ledger holds under another lease is adopted, a run started over a RUNNING job resumes from any
 * state the ledger can be in, `recheck` re-reads the ledger (and re-publishes with the same message
 * id), and the job deadline fails the job with TIMEOUT. Time-skipping durable environment with the
 * real app's orchestration and activities over the memory ledger.
 */
import type { StepEvent } from '../../src/domain/step';
import type { JobLedger } from '../../src/ports/job-ledger';
import { directiveMessageId } from '../../src/messaging/directive-message';
import { RECHECK_EVENT, replyEventName, type RecheckEvent } from '../../src/contracts/job-protocol';
import { createHarness, START, type Harness } from './harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const CRASHED_LEASE = '6c0f6f0e-0000-4000-8000-00000000c4a5';

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

/** How many times each activity completed or failed in the orchestration's history. */
async function activityRuns(jobId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const event of await h.history(jobId)) {
    if (event.EventType !== 'TaskCompleted' && event.EventType !== 'TaskFailed') continue;
    const name = String(event.FunctionName);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * Makes the ledger record the next DISPATCH under CRASHED_LEASE first (and optionally its PUBLISHED),
 * as an episode that crashed after its recordAttempt (and publish) ran would have left it.
 */
function crashBeforeNextDispatch(ledger: JobLedger, options: { readonly published: boolean }): void {
  const apply = ledger.applyStepEvent.bind(ledger);
  let crashed = false;
  ledger.applyStepEvent = async (jobId: string, stepId: string, event: StepEvent, now: Date) => {
    if (!crashed && event.type === 'DISPATCH') {
      crashed = true;
      await apply(jobId, stepId, { ...event, leaseId: CRASHED_LEASE }, now);
      if (options.published)
        await apply(
          jobId,
          stepId,
          { type: 'PUBLISHED', attemptNo: event.attemptNo, leaseId: CRASHED_LEASE },
          now,
        );
    }
    return apply(jobId, stepId, event, now);
  };
}

describe('jobOrchestrator: outcomes come from the ledger', () => {
  it('ignores a forged reply event: the job does not succeed and its output is not taken', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    await h.raise(job.jobId, replyEventName('ocr', 1, d.lease_id), {
      kind: 'result',
      attempt: {
        stepId: 'ocr',
        status: 'SUCCEEDED',
        attemptNo: 1,
        leaseId: d.lease_id,
        outputRef: 'blob://attacker/evil',
      },
    });

    const { job: row, steps } = await h.job(job.jobId);
    expect(row.status).toBe('RUNNING');
    expect(steps[0]).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1 });
    expect(steps[0]?.outputRef).toBeUndefined();
    const status = await h.status(job.jobId);
    expect(status.runtimeStatus).toBe('Running');
    expect(status.customStatus).toMatchObject({ stepId: 'ocr', attemptNo: 1, state: 'AWAITING_ACK' });

    // The real worker's replies still run the job, to the worker's output.
    await h.ack(d);
    await h.succeed(d, 'blob://out/real.txt');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/real.txt' });
    expect(JSON.stringify(output)).not.toContain('evil');
  });

  it('adopts the attempt a crashed episode recorded under another lease, and completes', async () => {
    crashBeforeNextDispatch(h.services.ledger, { published: true });
    const job = await h.admit('OCR');
    // The orchestration waits on the ledger's lease: its worker's replies reach it.
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'AWAITING_ACK',
      attemptNo: 1,
      leaseId: CRASHED_LEASE,
    });
    // The crashed episode's directive reached a worker, which answers under its lease.
    const attempt = { jobId: job.jobId, stepId: 'ocr', attemptNo: 1, leaseId: CRASHED_LEASE };
    const now = () => h.env.clock.now().toISOString();
    expect((await h.reply({ kind: 'ack', ...attempt, ackedAt: now() })).kind).toBe('applied');
    expect(
      (
        await h.reply({
          kind: 'result',
          ...attempt,
          status: 'SUCCEEDED',
          completedAt: now(),
          outputRef: 'blob://out/adopted.txt',
        })
      ).kind,
    ).toBe('applied');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'SUCCEEDED',
      outputRef: 'blob://out/adopted.txt',
      steps: [{ status: 'SUCCEEDED', attempts: 1 }],
    });
  });

  it('fails an adopted attempt at its ACK deadline and retries, without looping', async () => {
    crashBeforeNextDispatch(h.services.ledger, { published: true });
    const job = await h.admit('OCR');
    // Nobody answers the crashed episode's directive: its ACK deadline ends it, not started, under
    // its own lease; retried after the 5 s not-started backoff.
    await h.env.advanceBy(30 * SECOND);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({
      status: 'FAILED_RETRY',
      attemptNo: 1,
      leaseId: CRASHED_LEASE,
      failure: { failureClass: 'NOT_STARTED', notStarted: 1 },
    });
    await h.env.advanceBy(5 * SECOND);
    const second = await h.latest(job.jobId);
    expect(second).toMatchObject({ attempt_no: 2, issued_at: at(35 * SECOND) });
    expect(second.lease_id).not.toBe(CRASHED_LEASE);
    await h.succeed(second);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');

    const runs = await activityRuns(job.jobId);
    // startJob adopted the crashed episode's attempt; the retry is one dispatchStep (slot, record,
    // publish) and its RESULT one settleAttempt (which finishes the job).
    expect(runs).toEqual({
      startJob: 1,
      resolveTimeout: 1,
      releaseSlot: 1,
      dispatchStep: 1,
      settleAttempt: 1,
    });
    expect((await h.history(job.jobId)).length).toBeLessThan(40);
  });

  it('publishes an adopted DISPATCHING attempt under the ledger lease, with the same message id', async () => {
    crashBeforeNextDispatch(h.services.ledger, { published: false });
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    expect(d).toMatchObject({ attempt_no: 1, lease_id: CRASHED_LEASE });
    expect(h.services.publisher.published().map((p) => p.messageId)).toEqual([`${job.jobId}:ocr:1`]);
    await h.succeed(d);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');
  });

  it('runs again a settleAttempt that died after dispatching the next step: one directive, the job succeeds', async () => {
    const settle = h.activities.settleAttempt;
    let died = false;
    jest.spyOn(h.activities, 'settleAttempt').mockImplementation(async (deps, input, log) => {
      const answer = await settle(deps, input, log);
      if (!died && answer.next !== undefined) {
        died = true;
        throw new Error('the worker process was killed after the next step was dispatched');
      }
      return answer;
    });
    const job = await h.admit('OCR->EMBEDDING');
    await h.succeed(await h.latest(job.jobId), 'blob://out/ocr');
    const embedding = await h.latest(job.jobId);
    expect(embedding).toMatchObject({ step_id: 'embedding', attempt_no: 1, input_ref: 'blob://out/ocr' });
    await h.succeed(embedding, 'blob://out/embedding');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/embedding' });
    expect(died).toBe(true);
    // The run again found the attempt recorded and published: the topic holds one directive for it.
    const directives = h.services.publisher.published().filter((p) => p.directive.step_id === 'embedding');
    expect(directives).toHaveLength(1);
    const runs = await activityRuns(job.jobId);
    expect(runs).toMatchObject({ startJob: 1, settleAttempt: 2 });
  });
});

describe('jobOrchestrator: a run started over a RUNNING job', () => {
  /** Leaves the job RUNNING with its orchestration terminated, then shapes the ledger. */
  async function terminatedAt(shape: (jobId: string, lease: string) => Promise<void>) {
    const job = await h.admit('OCR->EMBEDDING');
    const d = await h.latest(job.jobId);
    await h.terminate(job.jobId);
    expect((await h.status(job.jobId)).runtimeStatus).toBe('Terminated');
    await shape(job.jobId, d.lease_id);
    expect((await h.job(job.jobId)).job.status).toBe('RUNNING');
    return { job, d };
  }
  const apply = (jobId: string, event: StepEvent) =>
    h.services.ledger.applyStepEvent(jobId, 'ocr', event, h.env.clock.now());
  const fail = (jobId: string, lease: string): StepEvent => ({
    type: 'FAIL',
    attemptNo: 1,
    leaseId: lease,
    failureClass: 'TRANSIENT',
    message: 'busy',
    maxAttempts: 3,
  });

  async function finishesBoth(jobId: string, first: { attempt: number; lease?: string }) {
    const ocr = (await h.directives(jobId)).filter((x) => x.step_id === 'ocr').pop();
    if (ocr === undefined) throw new Error('no OCR directive');
    const reply = { ...ocr, attempt_no: first.attempt, lease_id: first.lease ?? ocr.lease_id };
    await h.succeed(reply, 'blob://text');
    const embedding = await h.latest(jobId);
    expect(embedding).toMatchObject({ step_id: 'embedding', input_ref: 'blob://text' });
    await h.succeed(embedding, 'blob://vectors');
    const { status, output } = await h.finish(jobId);
    expect(status.runtimeStatus).toBe('Completed');
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://vectors' });
    const { job, steps } = await h.job(jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  }

  it('adopts a step AWAITING_ACK (redrive after terminate)', async () => {
    const { job, d } = await terminatedAt(async () => undefined);
    await h.redrive(job.jobId);
    expect((await h.status(job.jobId)).customStatus).toMatchObject({ state: 'AWAITING_ACK', attemptNo: 1 });
    const runs = await activityRuns(job.jobId);
    expect((runs.recordAttempt ?? 0) + (runs.dispatchAttempt ?? 0)).toBe(0);
    await finishesBoth(job.jobId, { attempt: 1, lease: d.lease_id });
  });

  it('adopts a step IN_PROGRESS', async () => {
    const { job, d } = await terminatedAt(async (jobId, lease) => {
      await apply(jobId, {
        type: 'ACK',
        attemptNo: 1,
        leaseId: lease,
        leaseExpiresAt: at(15 * MINUTE),
        resultDeadline: at(15 * MINUTE),
      });
    });
    await h.redrive(job.jobId);
    expect((await h.status(job.jobId)).customStatus).toMatchObject({ state: 'IN_PROGRESS', attemptNo: 1 });
    await finishesBoth(job.jobId, { attempt: 1, lease: d.lease_id });
  });

  it('publishes a step left DISPATCHING under its recorded lease', async () => {
    const { job } = await terminatedAt(async (jobId, lease) => {
      await apply(jobId, fail(jobId, lease));
      await apply(jobId, {
        type: 'DISPATCH',
        attemptNo: 2,
        leaseId: CRASHED_LEASE,
        ackDeadline: at(30 * SECOND),
      });
    });
    await h.redrive(job.jobId);
    const d = await h.latest(job.jobId);
    expect(d).toMatchObject({ step_id: 'ocr', attempt_no: 2, lease_id: CRASHED_LEASE });
    await finishesBoth(job.jobId, { attempt: 2 });
  });

  it('dispatches a FAILED_RETRY step at once, as its next attempt', async () => {
    const { job, d } = await terminatedAt(async (jobId, lease) => {
      await apply(jobId, fail(jobId, lease));
    });
    await h.redrive(job.jobId);
    const second = await h.latest(job.jobId);
    expect(second).toMatchObject({ step_id: 'ocr', attempt_no: 2, issued_at: at(0) });
    expect(second.lease_id).not.toBe(d.lease_id);
    await finishesBoth(job.jobId, { attempt: 2 });
  });

  it('skips a SUCCEEDED step, keeping its output, and dispatches the PENDING one', async () => {
    const { job } = await terminatedAt(async (jobId, lease) => {
      await apply(jobId, { type: 'SUCCEED', attemptNo: 1, leaseId: lease, outputRef: 'blob://text' });
    });
    await h.redrive(job.jobId);
    const embedding = await h.latest(job.jobId);
    expect(embedding).toMatchObject({ step_id: 'embedding', attempt_no: 1, input_ref: 'blob://text' });
    await h.succeed(embedding, 'blob://vectors');
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://vectors' });
    expect((await h.directives(job.jobId)).filter((x) => x.step_id === 'ocr')).toHaveLength(1);
  });
});

describe('jobOrchestrator: recheck', () => {
  it('re-publishes a DISPATCHING attempt with the same message id on recheck with redispatch', async () => {
    // The PUBLISHED write of the first publish is lost: the ledger still shows DISPATCHING.
    const ledger = h.services.ledger;
    const apply = ledger.applyStepEvent.bind(ledger);
    let lost = false;
    ledger.applyStepEvent = async (jobId: string, stepId: string, event: StepEvent, now: Date) => {
      if (!lost && event.type === 'PUBLISHED') {
        lost = true;
        const found = await ledger.getJob(jobId);
        const step = found?.steps.find((s) => s.stepId === stepId);
        if (step === undefined) throw new Error('no step');
        return { next: step, changed: false, duplicate: false };
      }
      return apply(jobId, stepId, event, now);
    };
    const publish = jest.spyOn(h.services.publisher, 'publish');
    const job = await h.admit('OCR');
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'DISPATCHING', attemptNo: 1 });

    const recheck: RecheckEvent = { reason: 'dispatching past the grace', redispatch: true };
    await h.raise(job.jobId, RECHECK_EVENT, recheck);
    const ids = publish.mock.calls.map(([directive]) => directiveMessageId(directive));
    expect(ids).toEqual([`${job.jobId}:ocr:1`, `${job.jobId}:ocr:1`]);
    expect(h.services.publisher.published()).toHaveLength(1);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1 });

    const d = await h.latest(job.jobId);
    await h.succeed(d);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');
  });

  it('re-reads the ledger on a recheck and changes nothing when nothing is due', async () => {
    const job = await h.admit('OCR');
    await h.raise(job.jobId, RECHECK_EVENT, { reason: 'periodic' } satisfies RecheckEvent);
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 1 });
    expect((await activityRuns(job.jobId)).readAttempt).toBe(1);
    expect((await h.status(job.jobId)).runtimeStatus).toBe('Running');
  });

  it('keeps waiting its backoff on a recheck during it', async () => {
    const job = await h.admit('OCR');
    await h.env.advanceBy(30 * SECOND); // ACK timeout: not started, FAILED_RETRY, backoff 5 s
    await h.raise(job.jobId, RECHECK_EVENT, { reason: 'periodic' } satisfies RecheckEvent);
    expect((await h.status(job.jobId)).customStatus).toMatchObject({
      state: 'RETRY_BACKOFF',
      retryAt: at(35 * SECOND),
    });
    await h.env.advanceBy(5 * SECOND);
    const second = await h.latest(job.jobId);
    expect(second).toMatchObject({ attempt_no: 2, issued_at: at(35 * SECOND) });
  });
});

describe('jobOrchestrator: the job deadline', () => {
  it('fails the job with TIMEOUT at its deadline, cancels its steps and tells the worker', async () => {
    const job = await h.admit('OCR->EMBEDDING', { timeout_seconds: 600 });
    expect(job.deadlineAt).toBe(at(600 * SECOND));
    const d = await h.latest(job.jobId);
    await h.ack(d);
    // Heartbeats keep the attempt alive; the job deadline still ends it.
    for (let i = 0; i < 2; i += 1) {
      await h.env.advanceBy(4 * MINUTE);
      await h.heartbeat(d);
    }
    await h.env.advanceBy(2 * MINUTE);
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({
      status: 'FAILED',
      failure: { stepId: 'ocr', failureClass: 'TIMEOUT', message: expect.stringContaining('job deadline') },
      steps: [{ status: 'CANCELLED' }, { status: 'CANCELLED' }],
    });
    const { job: row, steps } = await h.job(job.jobId);
    expect(row).toMatchObject({ status: 'FAILED', failure: { failureClass: 'TIMEOUT' } });
    expect(row.finishedAt).toBe(at(600 * SECOND));
    expect(steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    const cancels = h.services.publisher.published().filter((p) => p.directive.kind === 'cancel');
    expect(cancels.map((p) => p.directive.lease_id)).toEqual([d.lease_id]);
    expect(await h.services.ledger.inflightCount('t1')).toBe(0);
  });

  it('ends a job in its retry backoff at the deadline (settings default)', async () => {
    await h.stop();
    // No not-started budget: the ACK timeout counts as ACK_TIMEOUT, with the 1 min reply backoff.
    h = await createHarness({ LUCIUS_JOB_TIMEOUT_SECONDS: '60', LUCIUS_MAX_NOT_STARTED: '0' });
    const job = await h.admit('OCR');
    expect(job.deadlineAt).toBe(at(MINUTE));
    // ACK timeout at 30 s, then a 1 min backoff that the 60 s deadline cuts short.
    const { output } = await h.finish(job.jobId);
    expect(output).toMatchObject({ status: 'FAILED', failure: { failureClass: 'TIMEOUT' } });
    expect((await h.job(job.jobId)).steps[0]).toMatchObject({ status: 'CANCELLED', attemptNo: 1 });
    expect((await h.job(job.jobId)).job.finishedAt).toBe(at(MINUTE));
    expect(h.services.publisher.published().filter((p) => p.directive.kind === 'cancel')).toHaveLength(0);
  });

  it('refuses a timeout_seconds over the maximum as a validation failure', async () => {
    await h.stop();
    h = await createHarness({ LUCIUS_MAX_JOB_TIMEOUT_SECONDS: '3600' });
    for (const timeout of [3601, 0, 1.5]) {
      await expect(h.admit('OCR', { timeout_seconds: timeout })).rejects.toMatchObject({
        code: 'validation_failed',
        fault: 'caller',
        violations: [expect.objectContaining({ pointer: '/timeout_seconds' })],
      });
    }
  });

  it('gives a redriven job a new window of the same length', async () => {
    const job = await h.admit('OCR', { timeout_seconds: 600 });
    const d = await h.latest(job.jobId);
    await h.fail(d, 'PERMANENT', 'bad page');
    expect((await h.finish(job.jobId)).output.status).toBe('FAILED');
    await h.env.advanceBy(20 * MINUTE); // past the admission deadline
    await h.redrive(job.jobId);
    const again = await h.latest(job.jobId);
    expect(again.attempt_no).toBe(2);
    // Past the first window's end by far, inside the new one (20 min + 600 s).
    await h.ack(again);
    await h.env.advanceBy(9 * MINUTE);
    expect((await h.job(job.jobId)).job.status).toBe('RUNNING');
    await h.succeed(again);
    expect((await h.finish(job.jobId)).output.status).toBe('SUCCEEDED');
  });
});
