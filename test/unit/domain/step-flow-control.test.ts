/**
 * The step state machine's flow-control rules: waiting for a dispatch slot (HOLD → WAITING_SLOT) and
 * attempts that end NOT_STARTED, which do not count against maxAttempts until the not-started budget
 * is spent, after which they count as ACK_TIMEOUT.
 */
import { InvalidTransitionError } from '../../../src/domain/errors';
import { transitionStep, type Step, type StepEvent } from '../../../src/domain/step';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const lease = (n: number) => `5b0c6a36-8f52-4d3e-9a51-0d9c0d3f8f1${n}`;

const pending: Step = {
  jobId: 'j1',
  stepId: 'ocr',
  index: 0,
  type: 'OCR',
  status: 'PENDING',
  lane: 2,
  payload: {},
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
const dispatch = (n: number): StepEvent => ({
  type: 'DISPATCH',
  attemptNo: n,
  leaseId: lease(n),
  ackDeadline: at(30 * n).toISOString(),
});
const notStarted = (n: number, maxNotStarted: number, maxAttempts = 2): StepEvent => ({
  type: 'FAIL',
  attemptNo: n,
  leaseId: lease(n),
  failureClass: 'NOT_STARTED',
  message: `attempt ${n}: no ACK`,
  maxAttempts,
  maxNotStarted,
  backoff: { dispatch: [30_000], reply: [60_000], notStarted: [5_000, 15_000] },
});

describe('transitionStep: waiting for a dispatch slot', () => {
  it('holds a PENDING or FAILED_RETRY step as WAITING_SLOT, then dispatches it', () => {
    const held = run(pending, { type: 'HOLD' });
    expect(held.status).toBe('WAITING_SLOT');
    expect(transitionStep(held, { type: 'HOLD' }, at(2))).toMatchObject({ changed: false, duplicate: true });
    expect(run(held, dispatch(1))).toMatchObject({ status: 'DISPATCHING', attemptNo: 1 });

    const retrying = run(pending, dispatch(1), notStarted(1, 3));
    expect(run(retrying, { type: 'HOLD' })).toMatchObject({
      status: 'WAITING_SLOT',
      attemptNo: 1,
      failure: { failureClass: 'NOT_STARTED' },
    });
    expect(run(held, { type: 'CANCEL' }).status).toBe('CANCELLED');
  });

  it('refuses to hold an attempt in flight', () => {
    expect(() => run(pending, dispatch(1), { type: 'HOLD' })).toThrow(InvalidTransitionError);
  });
});

describe('transitionStep: not started', () => {
  it('retries a NOT_STARTED attempt on the not-started backoff without counting it', () => {
    // maxAttempts 1: a counted failure would be final.
    const once = run(pending, dispatch(1), notStarted(1, 2, 1));
    expect(once).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'NOT_STARTED', notStarted: 1, retryDelayMs: 5_000, exhausted: false },
    });
    const twice = run(once, dispatch(2), notStarted(2, 2, 1));
    expect(twice.failure).toMatchObject({ failureClass: 'NOT_STARTED', notStarted: 2, retryDelayMs: 15_000 });
    // The third attempt is the first that counts: a worker failure now is final (1 of 1).
    const failed = run(twice, dispatch(3), {
      type: 'FAIL',
      attemptNo: 3,
      leaseId: lease(3),
      failureClass: 'TRANSIENT',
      message: 'boom',
      maxAttempts: 1,
    });
    expect(failed).toMatchObject({
      status: 'FAILED_FINAL',
      failure: { failureClass: 'TRANSIENT', exhausted: true, notStarted: 2 },
    });
  });

  it('counts a NOT_STARTED past the budget as ACK_TIMEOUT, on the reply backoff', () => {
    const spent = run(pending, dispatch(1), notStarted(1, 1), dispatch(2), notStarted(2, 1));
    expect(spent).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'ACK_TIMEOUT', notStarted: 1, retryDelayMs: 60_000 },
    });
    expect(spent.failure?.message).toContain('not-started budget (1) is spent');
    const final = run(spent, dispatch(3), notStarted(3, 1));
    expect(final).toMatchObject({
      status: 'FAILED_FINAL',
      failure: { failureClass: 'ACK_TIMEOUT', attemptNo: 3, exhausted: true, notStarted: 1 },
    });
  });

  it('treats NOT_STARTED as ACK_TIMEOUT when there is no budget', () => {
    expect(run(pending, dispatch(1), notStarted(1, 0))).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'ACK_TIMEOUT', attemptNo: 1 },
    });
  });

  it('starts a redriven drive with a fresh not-started budget', () => {
    const failed = run(pending, dispatch(1), notStarted(1, 1), dispatch(2), notStarted(2, 1, 1));
    expect(failed).toMatchObject({ status: 'FAILED_FINAL', failure: { notStarted: 1 } });
    const redriven = run(failed, { type: 'REDRIVE' });
    expect(redriven.failure?.notStarted).toBeUndefined();
    expect(run(redriven, dispatch(3), notStarted(3, 1, 1)).failure).toMatchObject({
      failureClass: 'NOT_STARTED',
      notStarted: 1,
    });
  });
});
