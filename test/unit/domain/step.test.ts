import { InvalidTransitionError, StaleLeaseError } from '../../../src/domain/errors';
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

describe('noteIgnoredReply', () => {
  it('counts stale and duplicate replies separately', () => {
    const once = noteIgnoredReply(pending, 'stale', at(1));
    const twice = noteIgnoredReply(noteIgnoredReply(once, 'stale', at(2)), 'duplicate', at(3));
    expect(twice).toMatchObject({ staleReplies: 2, duplicateReplies: 1, status: 'PENDING' });
  });
});
