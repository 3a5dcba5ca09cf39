import { InvalidTransitionError, StaleLeaseError } from '../../../src/domain/errors';
import type { FailureClass } from '../../../src/domain/failure';
import { noteIgnoredReply, transitionStep, type Step, type StepEvent } from '../../../src/domain/step';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const LEASE = '5b0c6a36-8f52-4d3e-9a51-0d9c0d3f8f11';

const pending: Step = {
  jobId: 'j1',
  stepId: 'ocr',
  index: 0,
  type: 'OCR',
  status: 'PENDING',
  lane: 2,
  payload: { output_format: 'TEXT' },
  inputRef: 'in',
  attemptNo: 0,
  attemptBase: 0,
  staleReplies: 0,
  duplicateReplies: 0,
  createdAt: T0.toISOString(),
  updatedAt: T0.toISOString(),
};

function run(step: Step, ...events: StepEvent[]): Step {
  return events.reduce((s, e, i) => transitionStep(s, e, at(i + 1)).next, step);
}

const dispatch = (attemptNo: number, leaseId = LEASE): StepEvent => ({
  type: 'DISPATCH',
  attemptNo,
  leaseId,
  ackDeadline: at(30).toISOString(),
});
const ack = (attemptNo = 1, leaseId = LEASE): StepEvent => ({
  type: 'ACK',
  attemptNo,
  leaseId,
  leaseExpiresAt: at(900).toISOString(),
  resultDeadline: at(900).toISOString(),
});

describe('transitionStep', () => {
  it('walks the happy path PENDING → DISPATCHING → AWAITING_ACK → IN_PROGRESS → SUCCEEDED', () => {
    const dispatched = run(pending, dispatch(1));
    expect(dispatched).toMatchObject({ status: 'DISPATCHING', attemptNo: 1, leaseId: LEASE });
    const published = run(dispatched, { type: 'PUBLISHED', attemptNo: 1, leaseId: LEASE });
    expect(published.status).toBe('AWAITING_ACK');
    const acked = run(published, ack());
    expect(acked.status).toBe('IN_PROGRESS');
    const done = run(acked, {
      type: 'SUCCEED',
      attemptNo: 1,
      leaseId: LEASE,
      outputRef: 'out/ocr',
      result: { pages: 3 },
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', outputRef: 'out/ocr', result: { pages: 3 } });
    expect(done.finishedAt).toBeDefined();
  });

  it('lets a RESULT before the ACK imply the ACK', () => {
    const awaiting = run(pending, dispatch(1), { type: 'PUBLISHED', attemptNo: 1, leaseId: LEASE });
    const done = transitionStep(
      awaiting,
      { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE, outputRef: 'o' },
      at(5),
    );
    expect(done.changed).toBe(true);
    expect(done.next.status).toBe('SUCCEEDED');
  });

  it('rejects a reply whose lease is not the current attempt and changes nothing', () => {
    const awaiting = run(pending, dispatch(1), { type: 'PUBLISHED', attemptNo: 1, leaseId: LEASE });
    expect(() => transitionStep(awaiting, ack(1, 'another-lease'), at(5))).toThrow(StaleLeaseError);
    expect(() => transitionStep(awaiting, ack(2, LEASE), at(5))).toThrow(StaleLeaseError);
    expect(awaiting.status).toBe('AWAITING_ACK');
  });

  it('rejects a reply for an earlier attempt after a retry', () => {
    const retrying = run(pending, dispatch(1), {
      type: 'FAIL',
      attemptNo: 1,
      leaseId: LEASE,
      failureClass: 'ACK_TIMEOUT',
      message: 'no ack',
      maxAttempts: 3,
    });
    const second = run(retrying, dispatch(2, 'lease-2'));
    expect(() => transitionStep(second, ack(1, LEASE), at(9))).toThrow(StaleLeaseError);
  });

  it('marks duplicate replies as no-ops', () => {
    const acked = run(pending, dispatch(1), ack());
    const again = transitionStep(acked, ack(), at(9));
    expect(again).toEqual({ next: acked, changed: false, duplicate: true });
    const done = run(acked, { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE });
    expect(transitionStep(done, { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE }, at(10)).duplicate).toBe(
      true,
    );
  });

  it('extends the lease on heartbeat and never shortens it', () => {
    const acked = run(pending, dispatch(1), ack());
    const later = transitionStep(
      acked,
      { type: 'HEARTBEAT', attemptNo: 1, leaseId: LEASE, leaseExpiresAt: at(2000).toISOString() },
      at(10),
    ).next;
    expect(later.leaseExpiresAt).toBe(at(2000).toISOString());
    const earlier = transitionStep(
      later,
      { type: 'HEARTBEAT', attemptNo: 1, leaseId: LEASE, leaseExpiresAt: at(100).toISOString() },
      at(11),
    ).next;
    expect(earlier.leaseExpiresAt).toBe(at(2000).toISOString());
  });

  it('retries a retryable failure with the decided backoff, then fails finally when attempts run out', () => {
    const fail = (attemptNo: number, leaseId: string): StepEvent => ({
      type: 'FAIL',
      attemptNo,
      leaseId,
      failureClass: 'LEASE_EXPIRED',
      message: 'lease expired',
      maxAttempts: 2,
    });
    const first = run(pending, dispatch(1), ack(), fail(1, LEASE));
    expect(first).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'LEASE_EXPIRED', attemptNo: 1, exhausted: false, retryDelayMs: 60_000 },
    });
    const second = run(first, dispatch(2, 'l2'), fail(2, 'l2'));
    expect(second).toMatchObject({
      status: 'FAILED_FINAL',
      failure: { failureClass: 'LEASE_EXPIRED', attemptNo: 2, exhausted: true },
    });
  });

  it('fails a permanent failure finally at once', () => {
    const failed = run(pending, dispatch(1), {
      type: 'FAIL',
      attemptNo: 1,
      leaseId: LEASE,
      failureClass: 'PERMANENT',
      message: 'corrupt',
      maxAttempts: 3,
    });
    expect(failed).toMatchObject({
      status: 'FAILED_FINAL',
      failure: { failureClass: 'PERMANENT', exhausted: false },
    });
  });

  it('requires the next attempt number on dispatch and clears the old lease deadlines', () => {
    expect(() => transitionStep(pending, dispatch(2), at(1))).toThrow(InvalidTransitionError);
    const retrying = run(pending, dispatch(1), ack(), {
      type: 'FAIL',
      attemptNo: 1,
      leaseId: LEASE,
      failureClass: 'TRANSIENT',
      message: 'x',
      maxAttempts: 3,
    });
    const second = run(retrying, dispatch(2, 'l2'));
    expect(second).toMatchObject({ status: 'DISPATCHING', attemptNo: 2, leaseId: 'l2' });
    expect(second.leaseExpiresAt).toBeUndefined();
  });

  it('cancels from any unfinished state and refuses to touch a finished step', () => {
    for (const step of [pending, run(pending, dispatch(1)), run(pending, dispatch(1), ack())]) {
      expect(transitionStep(step, { type: 'CANCEL' }, at(20)).next.status).toBe('CANCELLED');
    }
    const done = run(pending, dispatch(1), { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE });
    expect(() => transitionStep(done, { type: 'CANCEL' }, at(20))).toThrow(InvalidTransitionError);
  });

  it('refuses a heartbeat before the step is in progress', () => {
    const dispatched = run(pending, dispatch(1));
    expect(() =>
      transitionStep(
        dispatched,
        { type: 'HEARTBEAT', attemptNo: 1, leaseId: LEASE, leaseExpiresAt: at(99).toISOString() },
        at(2),
      ),
    ).toThrow(InvalidTransitionError);
  });
});

describe('transitionStep REDRIVE', () => {
  const fail = (attemptNo: number, leaseId: string, failureClass: FailureClass = 'TRANSIENT'): StepEvent => ({
    type: 'FAIL',
    attemptNo,
    leaseId,
    failureClass,
    message: `attempt ${attemptNo} failed`,
    maxAttempts: 2,
  });
  /** Attempts 1 and 2 failed; the second exhausted the attempts. */
  const exhausted = run(pending, dispatch(1), ack(), fail(1, LEASE), dispatch(2, 'l2'), fail(2, 'l2'));

  it('reopens a finally failed step for a new drive after its last attempt', () => {
    expect(exhausted).toMatchObject({ status: 'FAILED_FINAL', attemptNo: 2, attemptBase: 0 });

    const redriven = transitionStep(exhausted, { type: 'REDRIVE' }, at(50));

    expect(redriven).toMatchObject({ changed: true, duplicate: false });
    expect(redriven.next).toMatchObject({
      status: 'FAILED_RETRY',
      attemptNo: 2,
      attemptBase: 2,
      leaseId: 'l2',
      failure: { failureClass: 'TRANSIENT', attemptNo: 2, exhausted: true },
      updatedAt: at(50).toISOString(),
    });
    expect(redriven.next).not.toHaveProperty('finishedAt');
  });

  it('keeps the last failure without its retry delay', () => {
    const withDelay: Step = {
      ...exhausted,
      failure: {
        failureClass: 'TRANSIENT',
        message: 'x',
        attemptNo: 2,
        exhausted: false,
        retryDelayMs: 60_000,
      },
    };
    const { next } = transitionStep(withDelay, { type: 'REDRIVE' }, at(50));
    expect(next.failure).toEqual({ failureClass: 'TRANSIENT', message: 'x', attemptNo: 2, exhausted: false });
  });

  it('treats a repeated redrive before the next dispatch as a duplicate', () => {
    const redriven = transitionStep(exhausted, { type: 'REDRIVE' }, at(50)).next;
    expect(transitionStep(redriven, { type: 'REDRIVE' }, at(51))).toEqual({
      next: redriven,
      changed: false,
      duplicate: true,
    });
  });

  it('continues the attempt numbers and counts only the new drive against maxAttempts', () => {
    const redriven = transitionStep(exhausted, { type: 'REDRIVE' }, at(50)).next;
    expect(() => transitionStep(redriven, dispatch(1, 'l3'), at(51))).toThrow(InvalidTransitionError);

    const third = run(redriven, dispatch(3, 'l3'), fail(3, 'l3'));
    expect(third).toMatchObject({
      status: 'FAILED_RETRY',
      attemptNo: 3,
      attemptBase: 2,
      failure: { attemptNo: 3, exhausted: false, retryDelayMs: 60_000 },
    });
    const fourth = run(third, dispatch(4, 'l4'), fail(4, 'l4'));
    expect(fourth).toMatchObject({
      status: 'FAILED_FINAL',
      attemptNo: 4,
      failure: { attemptNo: 4, exhausted: true },
    });
  });

  it('rejects a reply of the previous drive as stale once the new drive dispatched', () => {
    const redriven = transitionStep(exhausted, { type: 'REDRIVE' }, at(50)).next;
    const dispatched = run(redriven, dispatch(3, 'l3'));
    expect(() => transitionStep(dispatched, ack(2, 'l2'), at(60))).toThrow(StaleLeaseError);
  });

  it('reopens a step cancelled when its job failed as a whole, after its last attempt', () => {
    const cancelledInFlight = run(pending, dispatch(1), ack(), { type: 'CANCEL', reason: 'job deadline' });
    const redriven = transitionStep(cancelledInFlight, { type: 'REDRIVE' }, at(50)).next;
    expect(redriven).toMatchObject({ status: 'FAILED_RETRY', attemptNo: 1, attemptBase: 1 });
    expect(redriven).not.toHaveProperty('finishedAt');
    expect(run(redriven, dispatch(2, 'l2'))).toMatchObject({ status: 'DISPATCHING', attemptNo: 2 });

    const neverRan = transitionStep(run(pending, { type: 'CANCEL' }), { type: 'REDRIVE' }, at(50)).next;
    expect(neverRan).toMatchObject({ status: 'FAILED_RETRY', attemptNo: 0, attemptBase: 0 });
  });

  it('refuses to redrive a step that did not fail finally', () => {
    const retrying = run(pending, dispatch(1), fail(1, LEASE));
    const done = run(pending, dispatch(1), { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE });
    for (const step of [pending, run(pending, dispatch(1)), retrying, done]) {
      expect(() => transitionStep(step, { type: 'REDRIVE' }, at(50))).toThrow(InvalidTransitionError);
    }
  });
});

describe('noteIgnoredReply', () => {
  it('counts stale and duplicate replies separately', () => {
    const once = noteIgnoredReply(pending, 'stale', at(1));
    const twice = noteIgnoredReply(noteIgnoredReply(once, 'stale', at(2)), 'duplicate', at(3));
    expect(twice).toMatchObject({ staleReplies: 2, duplicateReplies: 1, status: 'PENDING' });
  });
});
