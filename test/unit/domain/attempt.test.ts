import fc from 'fast-check';
import {
  attemptOutcome,
  AttemptViewError,
  decideTimeout,
  mergeAttemptViews,
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

describe('mergeAttemptViews', () => {
  it('takes a view further along the lifecycle', () => {
    const acked = inProgress(300);
    expect(mergeAttemptViews(view('AWAITING_ACK', { ackDeadline: at(30) }), acked)).toBe(acked);
    const done = view('SUCCEEDED', { outputRef: 'blob://out' });
    expect(mergeAttemptViews(acked, done)).toBe(done);
  });

  it('never moves backwards: an older event arriving late is ignored', () => {
    const done = view('SUCCEEDED', { outputRef: 'blob://out' });
    expect(mergeAttemptViews(done, inProgress(300))).toBe(done);
    const acked = inProgress(300);
    expect(mergeAttemptViews(acked, view('AWAITING_ACK', { ackDeadline: at(30) }))).toBe(acked);
  });

  it('keeps the later lease within IN_PROGRESS, whichever view carries it', () => {
    const extended = inProgress(1800, { resultDeadline: at(900) });
    expect(mergeAttemptViews(inProgress(300), extended)).toBe(extended);
    const merged = mergeAttemptViews(extended, inProgress(300, { resultDeadline: at(901) }));
    expect(merged).toMatchObject({
      status: 'IN_PROGRESS',
      leaseExpiresAt: at(1800),
      resultDeadline: at(901),
    });
  });

  it('ignores a view of another attempt or lease', () => {
    const current = view('AWAITING_ACK', { ackDeadline: at(30) });
    expect(mergeAttemptViews(current, inProgress(300, { attemptNo: 2 }))).toBe(current);
    expect(mergeAttemptViews(current, inProgress(300, { leaseId: OTHER_LEASE }))).toBe(current);
  });

  it('never moves a view backwards nor shortens its lease, in any order of arrival', () => {
    const progress = (s: StepStatus) => (STEP_STATUSES.indexOf(s) >= 4 ? 4 : STEP_STATUSES.indexOf(s));
    const anyView = fc.record({
      status: fc.constantFrom(...STEP_STATUSES),
      attemptNo: fc.constantFrom(1, 2),
      leaseId: fc.constantFrom(LEASE, OTHER_LEASE),
      lease: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(anyView, { minLength: 1, maxLength: 8 }), (arrivals) => {
        const views = arrivals.map((a) =>
          view(a.status, {
            attemptNo: a.attemptNo,
            leaseId: a.leaseId,
            ...(a.lease === undefined ? {} : { leaseExpiresAt: at(a.lease) }),
          }),
        );
        let merged = views[0] as AttemptView;
        for (const incoming of views.slice(1)) {
          const next = mergeAttemptViews(merged, incoming);
          expect(progress(next.status)).toBeGreaterThanOrEqual(progress(merged.status));
          expect([next.attemptNo, next.leaseId]).toEqual([merged.attemptNo, merged.leaseId]);
          if (merged.status === 'IN_PROGRESS' && next.status === 'IN_PROGRESS' && merged.leaseExpiresAt)
            expect(Date.parse(next.leaseExpiresAt ?? '')).toBeGreaterThanOrEqual(
              Date.parse(merged.leaseExpiresAt),
            );
          merged = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('decideTimeout', () => {
  it('fails an attempt with no ACK by the ACK deadline as ACK_TIMEOUT', () => {
    for (const status of ['DISPATCHING', 'AWAITING_ACK'] as const) {
      expect(decideTimeout(step(status), check('ack', at(30)))).toEqual({
        type: 'FAIL',
        attemptNo: 1,
        leaseId: LEASE,
        failureClass: 'ACK_TIMEOUT',
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
