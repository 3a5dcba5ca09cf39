import fc from 'fast-check';
import {
  attemptOutcome,
  AttemptViewError,
  attemptDeadlines,
  attemptKey,
  decideFiredTimer,
  decideTimeout,
  nextMove,
  passedDeadline,
  sameAttemptView,
  toAttemptView,
  type AttemptView,
  type TimeoutCheck,
} from '../../../src/domain/attempt';
import { STEP_STATUSES, type Step, type StepStatus } from '../../../src/domain/step';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const LEASE = '5b0c6a36-8f52-4d3e-9a51-0d9c0d3f8f11';
const OTHER_LEASE = '9d0f1c2b-3a4e-4f5a-8b6c-7d8e9f0a1b2c';

function view(status: StepStatus, overrides: Partial<AttemptView> = {}): AttemptView {
  return { stepId: 'ocr', status, attemptNo: 1, leaseId: LEASE, ...overrides };
}

const inProgress = (leaseSeconds: number, overrides: Partial<AttemptView> = {}) =>
  view('IN_PROGRESS', { leaseExpiresAt: at(leaseSeconds), resultDeadline: at(900), ...overrides });

function step(status: StepStatus, overrides: Partial<Step> = {}): Step {
  return {
    jobId: 'j1',
    stepId: 'ocr',
    index: 0,
    type: 'OCR',
    status,
    lane: 1,
    payload: {},
    attemptNo: 1,
    attemptBase: 0,
    leaseId: LEASE,
    ackDeadline: at(30),
    staleReplies: 0,
    duplicateReplies: 0,
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

const check = (timeout: TimeoutCheck['timeout'], deadline: string): TimeoutCheck => ({
  attemptNo: 1,
  leaseId: LEASE,
  timeout,
  deadline,
  maxAttempts: 3,
});

describe('toAttemptView', () => {
  it('copies the attempt fields of a step and leaves out the ones it does not have', () => {
    const s = step('IN_PROGRESS', { leaseExpiresAt: at(300), resultDeadline: at(900) });
    expect(toAttemptView(s)).toEqual({
      stepId: 'ocr',
      status: 'IN_PROGRESS',
      attemptNo: 1,
      leaseId: LEASE,
      ackDeadline: at(30),
      leaseExpiresAt: at(300),
      resultDeadline: at(900),
    });
    expect(
      Object.keys(toAttemptView(step('PENDING', { leaseId: undefined, ackDeadline: undefined }))),
    ).toEqual(['stepId', 'status', 'attemptNo']);
  });
});

describe('attemptOutcome', () => {
  it('waits for the ACK until the ACK deadline while the attempt is dispatched or published', () => {
    for (const status of ['PENDING', 'DISPATCHING', 'AWAITING_ACK'] as const) {
      expect(attemptOutcome(view(status, { ackDeadline: at(30) }))).toEqual({
        kind: 'awaiting-ack',
        ackDeadline: at(30),
      });
    }
  });

  it('waits for the RESULT against the lease and the result deadline once ACKed', () => {
    expect(attemptOutcome(inProgress(300))).toEqual({
      kind: 'in-progress',
      leaseExpiresAt: at(300),
      resultDeadline: at(900),
    });
  });

  it('reports success with its output, a retry with its backoff, a final failure and a cancel', () => {
    expect(attemptOutcome(view('SUCCEEDED', { outputRef: 'blob://out' }))).toEqual({
      kind: 'succeeded',
      outputRef: 'blob://out',
    });
    const transient = { failureClass: 'TRANSIENT', message: 'busy', attemptNo: 1, exhausted: false } as const;
    expect(attemptOutcome(view('FAILED_RETRY', { failure: { ...transient, retryDelayMs: 4000 } }))).toEqual({
      kind: 'retry',
      delayMs: 4000,
      failure: { ...transient, retryDelayMs: 4000 },
    });
    expect(attemptOutcome(view('FAILED_RETRY', { failure: transient }))).toMatchObject({
      kind: 'retry',
      delayMs: 0,
    });
    const permanent = {
      failureClass: 'PERMANENT',
      message: 'bad scan',
      attemptNo: 1,
      exhausted: false,
    } as const;
    expect(attemptOutcome(view('FAILED_FINAL', { failure: permanent }))).toEqual({
      kind: 'failed',
      failure: permanent,
    });
    expect(attemptOutcome(view('CANCELLED'))).toEqual({ kind: 'cancelled' });
  });

  it('throws AttemptViewError for a view missing what its status needs', () => {
    expect(() => attemptOutcome(view('AWAITING_ACK'))).toThrow(AttemptViewError);
    expect(() => attemptOutcome(view('IN_PROGRESS', { leaseExpiresAt: at(300) }))).toThrow(
      /without a lease and a result deadline/,
    );
    expect(() => attemptOutcome(view('FAILED_RETRY'))).toThrow(/without its failure/);
    expect(() => attemptOutcome(view('FAILED_FINAL'))).toThrow(AttemptViewError);
  });
});

describe('decideTimeout', () => {
  it('ends an attempt with no ACK by the ACK deadline as NOT_STARTED (the step decides the budget)', () => {
    for (const status of ['DISPATCHING', 'AWAITING_ACK'] as const) {
      expect(decideTimeout(step(status), check('ack', at(30)))).toEqual({
        type: 'FAIL',
        attemptNo: 1,
        leaseId: LEASE,
        failureClass: 'NOT_STARTED',
        message: expect.stringContaining(at(30)),
        maxAttempts: 3,
      });
    }
  });

  it('fails an ACKed attempt whose lease ran out as LEASE_EXPIRED', () => {
    const acked = step('IN_PROGRESS', { leaseExpiresAt: at(300), resultDeadline: at(900) });
    expect(decideTimeout(acked, check('lease', at(300)))).toMatchObject({
      type: 'FAIL',
      failureClass: 'LEASE_EXPIRED',
    });
  });

  it('lets a lease that a heartbeat extended past the timer’s deadline live', () => {
    const extended = step('IN_PROGRESS', { leaseExpiresAt: at(301), resultDeadline: at(900) });
    expect(decideTimeout(extended, check('lease', at(300)))).toBeUndefined();
  });

  it('fails an ACKed attempt with no RESULT by the result deadline as TIMEOUT, however long its lease', () => {
    const leased = step('IN_PROGRESS', { leaseExpiresAt: at(3600), resultDeadline: at(900) });
    expect(decideTimeout(leased, check('result', at(900)))).toMatchObject({
      type: 'FAIL',
      failureClass: 'TIMEOUT',
      maxAttempts: 3,
    });
  });

  it('is moot once the step has moved on', () => {
    const acked = step('IN_PROGRESS', { leaseExpiresAt: at(300), resultDeadline: at(900) });
    expect(decideTimeout(acked, check('ack', at(30)))).toBeUndefined();
    for (const status of ['SUCCEEDED', 'FAILED_RETRY', 'FAILED_FINAL', 'CANCELLED'] as const) {
      for (const timeout of ['ack', 'lease', 'result'] as const)
        expect(decideTimeout(step(status), check(timeout, at(30)))).toBeUndefined();
    }
    expect(decideTimeout(step('AWAITING_ACK'), check('lease', at(300)))).toBeUndefined();
  });

  it('is moot for a timer of another attempt or lease', () => {
    const next = step('AWAITING_ACK', { attemptNo: 2, leaseId: OTHER_LEASE });
    expect(decideTimeout(next, check('ack', at(30)))).toBeUndefined();
    expect(
      decideTimeout(step('AWAITING_ACK', { leaseId: OTHER_LEASE }), check('ack', at(30))),
    ).toBeUndefined();
  });
});

describe('nextMove', () => {
  const none = { published: new Set<string>() };
  const failure = { failureClass: 'TRANSIENT', message: 'busy', attemptNo: 1, exhausted: false } as const;

  it('dispatches the next attempt of a PENDING step', () => {
    expect(nextMove(view('PENDING', { attemptNo: 0, leaseId: undefined }), none)).toEqual({
      kind: 'dispatch',
      attemptNo: 1,
    });
  });

  it('publishes a DISPATCHING attempt once per run, then waits on it', () => {
    const dispatching = view('DISPATCHING', { ackDeadline: at(30) });
    expect(nextMove(dispatching, none)).toEqual({ kind: 'publish' });
    expect(nextMove(dispatching, { published: new Set([attemptKey(dispatching)]) })).toEqual({
      kind: 'wait',
    });
    // Published under another lease is not this attempt.
    expect(
      nextMove(view('DISPATCHING', { leaseId: OTHER_LEASE, ackDeadline: at(30) }), {
        published: new Set([attemptKey(dispatching)]),
      }),
    ).toEqual({ kind: 'publish' });
  });

  it('waits on an attempt AWAITING_ACK or IN_PROGRESS, whatever its lease', () => {
    expect(nextMove(view('AWAITING_ACK', { leaseId: OTHER_LEASE, ackDeadline: at(30) }), none)).toEqual({
      kind: 'wait',
    });
    expect(nextMove(inProgress(300), none)).toEqual({ kind: 'wait' });
  });

  it('backs off a FAILED_RETRY attempt, then dispatches the next once its backoff is due', () => {
    const failed = view('FAILED_RETRY', { failure: { ...failure, retryDelayMs: 60_000 } });
    expect(nextMove(failed, none)).toEqual({ kind: 'backoff', delayMs: 60_000 });
    expect(nextMove(failed, { ...none, retryDue: attemptKey(failed) })).toEqual({
      kind: 'dispatch',
      attemptNo: 2,
    });
    // A due mark of another attempt does not count.
    expect(
      nextMove(view('FAILED_RETRY', { attemptNo: 2, failure }), { ...none, retryDue: attemptKey(failed) }),
    ).toEqual({
      kind: 'backoff',
      delayMs: 0,
    });
  });

  it('ends with the step', () => {
    expect(nextMove(view('SUCCEEDED', { outputRef: 'blob://o' }), none)).toEqual({
      kind: 'succeeded',
      outputRef: 'blob://o',
    });
    expect(nextMove(view('FAILED_FINAL', { failure }), none)).toEqual({ kind: 'failed', failure });
    expect(nextMove(view('CANCELLED'), none)).toEqual({ kind: 'cancelled' });
    expect(() => nextMove(view('FAILED_FINAL'), none)).toThrow(AttemptViewError);
  });
});

describe('attemptDeadlines and passedDeadline', () => {
  it('arms the ACK deadline before the ACK, the lease and the result deadline after', () => {
    expect(attemptDeadlines(view('DISPATCHING', { ackDeadline: at(30) }))).toEqual([
      { timeout: 'ack', deadline: at(30) },
    ]);
    expect(attemptDeadlines(inProgress(300))).toEqual([
      { timeout: 'lease', deadline: at(300) },
      { timeout: 'result', deadline: at(900) },
    ]);
    expect(attemptDeadlines(view('SUCCEEDED'))).toEqual([]);
  });

  it('answers the earliest deadline that has passed, none before', () => {
    expect(passedDeadline(inProgress(300), new Date(T0 + 299_000))).toBeUndefined();
    expect(passedDeadline(inProgress(300), new Date(T0 + 300_000))).toEqual({
      timeout: 'lease',
      deadline: at(300),
    });
    expect(passedDeadline(inProgress(1200), new Date(T0 + 1_000_000))).toEqual({
      timeout: 'result',
      deadline: at(900),
    });
  });
});

describe('decideFiredTimer', () => {
  it('decides as decideTimeout when the timer applies', () => {
    const s = step('AWAITING_ACK');
    expect(decideFiredTimer(s, check('ack', at(30)), toAttemptView(s))).toEqual(
      decideTimeout(s, check('ack', at(30))),
    );
  });

  it('fails an unchanged attempt under the ledger lease even when the timer was armed for another', () => {
    const s = step('AWAITING_ACK', { leaseId: OTHER_LEASE });
    expect(decideTimeout(s, check('ack', at(30)))).toBeUndefined();
    expect(decideFiredTimer(s, check('ack', at(30)), toAttemptView(s))).toMatchObject({
      type: 'FAIL',
      attemptNo: 1,
      leaseId: OTHER_LEASE,
      failureClass: 'NOT_STARTED',
    });
  });

  it('changes nothing when the attempt moved on since the timer was armed', () => {
    const held = toAttemptView(step('IN_PROGRESS', { leaseExpiresAt: at(300), resultDeadline: at(900) }));
    const extended = step('IN_PROGRESS', { leaseExpiresAt: at(600), resultDeadline: at(900) });
    expect(decideFiredTimer(extended, check('lease', at(300)), held)).toBeUndefined();
    const ended = step('SUCCEEDED');
    expect(decideFiredTimer(ended, check('ack', at(30)), toAttemptView(ended))).toBeUndefined();
  });

  it('never leaves an attempt in flight unchanged: a wait always progresses', () => {
    const anyStep = fc.record({
      status: fc.constantFrom(...STEP_STATUSES),
      leaseId: fc.constantFrom(LEASE, OTHER_LEASE),
      attemptNo: fc.integer({ min: 1, max: 3 }),
      lease: fc.integer({ min: 0, max: 1800 }),
      timeout: fc.constantFrom('ack' as const, 'lease' as const, 'result' as const),
      deadline: fc.integer({ min: 0, max: 1800 }),
    });
    fc.assert(
      fc.property(anyStep, (a) => {
        const s = step(a.status, {
          leaseId: a.leaseId,
          attemptNo: a.attemptNo,
          ...(a.status === 'IN_PROGRESS' ? { leaseExpiresAt: at(a.lease), resultDeadline: at(900) } : {}),
        });
        const event = decideFiredTimer(s, check(a.timeout, at(a.deadline)), toAttemptView(s));
        const inFlight = ['DISPATCHING', 'AWAITING_ACK', 'IN_PROGRESS'].includes(a.status);
        // Unchanged since armed: an attempt in flight is failed, under the ledger's own lease.
        expect(event !== undefined).toBe(inFlight);
        if (event !== undefined)
          expect(event).toMatchObject({ type: 'FAIL', attemptNo: a.attemptNo, leaseId: a.leaseId });
      }),
      { numRuns: 500 },
    );
  });
});

describe('sameAttemptView', () => {
  it('compares every field, absent ones included', () => {
    expect(sameAttemptView(inProgress(300), inProgress(300))).toBe(true);
    expect(sameAttemptView(inProgress(300), inProgress(301))).toBe(false);
    expect(sameAttemptView(view('SUCCEEDED'), view('SUCCEEDED', { outputRef: 'blob://o' }))).toBe(false);
  });
});
