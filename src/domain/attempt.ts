/**
 * What an orchestration needs to know about a step's current attempt, and the decisions it takes
 * from it (pure): where the attempt stands (`attemptOutcome`), how two views of it combine
 * (`mergeAttemptViews`), and whether a timer that fired still means a failure (`decideTimeout`).
 *
 * The ledger's step row is the truth; an AttemptView is a copy of its attempt fields taken after a
 * write (by an activity or by reply ingestion) and carried in orchestration history, so replays
 * see the same values.
 */
import type { BackoffSchedules } from './backoff';
import type { FailureClass } from './failure';
import type { Step, StepEvent, StepFailure, StepStatus } from './step';

export interface AttemptView {
  readonly stepId: string;
  readonly status: StepStatus;
  readonly attemptNo: number;
  readonly leaseId?: string;
  readonly ackDeadline?: string;
  readonly leaseExpiresAt?: string;
  readonly resultDeadline?: string;
  readonly outputRef?: string;
  readonly failure?: StepFailure;
}

export function toAttemptView(step: Step): AttemptView {
  return {
    stepId: step.stepId,
    status: step.status,
    attemptNo: step.attemptNo,
    ...(step.leaseId === undefined ? {} : { leaseId: step.leaseId }),
    ...(step.ackDeadline === undefined ? {} : { ackDeadline: step.ackDeadline }),
    ...(step.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: step.leaseExpiresAt }),
    ...(step.resultDeadline === undefined ? {} : { resultDeadline: step.resultDeadline }),
    ...(step.outputRef === undefined ? {} : { outputRef: step.outputRef }),
    ...(step.failure === undefined ? {} : { failure: step.failure }),
  };
}

/** Where an attempt stands, and so what the orchestration does next. */
export type AttemptOutcome =
  /** Published (or being published): wait for the ACK until `ackDeadline`. */
  | { readonly kind: 'awaiting-ack'; readonly ackDeadline: string }
  /** ACKed: wait for the RESULT until the lease or the result deadline, whichever comes first. */
  | { readonly kind: 'in-progress'; readonly leaseExpiresAt: string; readonly resultDeadline: string }
  | { readonly kind: 'succeeded'; readonly outputRef?: string }
  /** The attempt failed and the step will be dispatched again after `delayMs`. */
  | { readonly kind: 'retry'; readonly delayMs: number; readonly failure: StepFailure }
  | { readonly kind: 'failed'; readonly failure: StepFailure }
  | { readonly kind: 'cancelled' };

export class AttemptViewError extends Error {
  constructor(view: AttemptView, missing: string) {
    super(`step ${view.stepId} attempt ${view.attemptNo} is ${view.status} without ${missing}`);
    this.name = 'AttemptViewError';
  }
}

export function attemptOutcome(view: AttemptView): AttemptOutcome {
  switch (view.status) {
    case 'PENDING':
    case 'DISPATCHING':
    case 'AWAITING_ACK':
      if (view.ackDeadline === undefined) throw new AttemptViewError(view, 'an ACK deadline');
      return { kind: 'awaiting-ack', ackDeadline: view.ackDeadline };
    case 'IN_PROGRESS':
      if (view.leaseExpiresAt === undefined || view.resultDeadline === undefined)
        throw new AttemptViewError(view, 'a lease and a result deadline');
      return {
        kind: 'in-progress',
        leaseExpiresAt: view.leaseExpiresAt,
        resultDeadline: view.resultDeadline,
      };
    case 'SUCCEEDED':
      return { kind: 'succeeded', ...(view.outputRef === undefined ? {} : { outputRef: view.outputRef }) };
    case 'FAILED_RETRY':
      if (view.failure === undefined) throw new AttemptViewError(view, 'its failure');
      return { kind: 'retry', delayMs: view.failure.retryDelayMs ?? 0, failure: view.failure };
    case 'FAILED_FINAL':
      if (view.failure === undefined) throw new AttemptViewError(view, 'its failure');
      return { kind: 'failed', failure: view.failure };
    case 'CANCELLED':
      return { kind: 'cancelled' };
  }
}

/** How far along the lifecycle a status is; views of one attempt never move backwards. */
const PROGRESS: Readonly<Record<StepStatus, number>> = {
  PENDING: 0,
  DISPATCHING: 1,
  AWAITING_ACK: 2,
  IN_PROGRESS: 3,
  SUCCEEDED: 4,
  FAILED_RETRY: 4,
  FAILED_FINAL: 4,
  CANCELLED: 4,
};

/**
 * Combines the view the orchestration holds with a newer one of the same attempt. Replies are
 * applied concurrently, so their events may arrive out of order: the further status wins, and
 * within IN_PROGRESS the later lease (a heartbeat's extension is never undone by an older event).
 * A view of another attempt is ignored.
 */
export function mergeAttemptViews(current: AttemptView, incoming: AttemptView): AttemptView {
  if (incoming.attemptNo !== current.attemptNo || incoming.leaseId !== current.leaseId) return current;
  const [from, to] = [PROGRESS[current.status], PROGRESS[incoming.status]];
  if (to < from) return current;
  if (to > from || current.status !== 'IN_PROGRESS') return incoming;
  return later(incoming.leaseExpiresAt, current.leaseExpiresAt) === incoming.leaseExpiresAt
    ? incoming
    : {
        ...incoming,
        ...(current.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: current.leaseExpiresAt }),
      };
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** The orchestration's timers, and the failure each means when it fires and still applies. */
export const ATTEMPT_TIMEOUTS = ['ack', 'lease', 'result'] as const;
export type AttemptTimeout = (typeof ATTEMPT_TIMEOUTS)[number];

const TIMEOUT_FAILURE: Readonly<Record<AttemptTimeout, { failureClass: FailureClass; what: string }>> = {
  ack: { failureClass: 'ACK_TIMEOUT', what: 'no ACK by the ACK deadline' },
  lease: { failureClass: 'LEASE_EXPIRED', what: 'the lease expired without a heartbeat or RESULT' },
  result: { failureClass: 'TIMEOUT', what: 'no RESULT by the step result deadline' },
};

export interface TimeoutCheck {
  readonly attemptNo: number;
  readonly leaseId: string;
  readonly timeout: AttemptTimeout;
  /** The deadline the timer was armed for. */
  readonly deadline: string;
  readonly maxAttempts: number;
  readonly backoff?: BackoffSchedules;
}

/**
 * A timer fired for an attempt: the FAIL event to apply, or undefined when the step has moved on
 * meanwhile (a reply won the race, or a heartbeat extended the lease past the timer's deadline).
 * Decided from the step row and the timer's own deadline, never from a clock, so a clock that lags
 * the timer's cannot make an expired lease look alive.
 */
export function decideTimeout(step: Step, check: TimeoutCheck): StepEvent | undefined {
  if (step.attemptNo !== check.attemptNo || step.leaseId !== check.leaseId) return undefined;
  const applies = (() => {
    switch (check.timeout) {
      case 'ack':
        return step.status === 'DISPATCHING' || step.status === 'AWAITING_ACK';
      case 'lease':
        return (
          step.status === 'IN_PROGRESS' &&
          (step.leaseExpiresAt === undefined || Date.parse(step.leaseExpiresAt) <= Date.parse(check.deadline))
        );
      case 'result':
        return step.status === 'IN_PROGRESS';
    }
  })();
  if (!applies) return undefined;
  const { failureClass, what } = TIMEOUT_FAILURE[check.timeout];
  return {
    type: 'FAIL',
    attemptNo: check.attemptNo,
    leaseId: check.leaseId,
    failureClass,
    message: `attempt ${check.attemptNo}: ${what} (${check.deadline})`,
    maxAttempts: check.maxAttempts,
    ...(check.backoff === undefined ? {} : { backoff: check.backoff }),
  };
}
