/**
 * What an orchestration needs to know about a step's current attempt, and the decisions it takes
 * from it (pure): where the attempt stands (`attemptOutcome`), what the orchestration does next with
 * the ledger's view (`nextMove`), which deadlines a wait races (`attemptDeadlines`, `passedDeadline`),
 * and whether a timer that fired still means a failure (`decideTimeout`, `decideFiredTimer`).
 *
 * The ledger's step row is the truth; an AttemptView is a copy of its attempt fields read by an
 * activity and carried in orchestration history, so replays see the same values. An event raised
 * at the orchestration (a reply, a recheck) only makes it read the view again: its payload is
 * never taken as an outcome.
 */
import type { BackoffSchedules } from './backoff';
import type { FailureClass } from './failure';
import { isTerminalStepStatus, type Step, type StepEvent, type StepFailure, type StepStatus } from './step';

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
  | { readonly kind: 'cancelled' }
  /** Waiting for a dispatch slot on its lane (no attempt recorded yet). */
  | { readonly kind: 'waiting-slot' };

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
    case 'WAITING_SLOT':
      return { kind: 'waiting-slot' };
  }
}

export function isInFlight(status: StepStatus): boolean {
  return status === 'DISPATCHING' || status === 'AWAITING_ACK' || status === 'IN_PROGRESS';
}

/** Two views describe the same attempt in the same state (every field equal). */
export function sameAttemptView(a: AttemptView, b: AttemptView): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof AttemptView>;
  for (const key of keys) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return false;
  }
  return true;
}

/**
 * What the orchestration does with the step as the ledger holds it:
 * - `dispatch`: record attempt `attemptNo` (PENDING or WAITING_SLOT, or FAILED_RETRY once its backoff
 *   has passed), once the step holds a dispatch slot (see `slotFreed` and dispatch-slots.ts);
 * - `publish`: the attempt is DISPATCHING and this run has not published it yet (an attempt adopted
 *   from a crashed episode or an earlier run, or just recorded): publish its directive under the
 *   ledger's lease (same message id, so a copy already sent is dropped by the topic);
 * - `wait`: the attempt is in flight: race its deadlines, its reply event and the job's signals;
 * - `backoff`: FAILED_RETRY: wait `delayMs` before dispatching (0 when this run found it so at its
 *   start: a redriven step, or a run that replaced one that died in its backoff);
 * - `succeeded` / `failed` / `cancelled`: the step ended.
 */
export type StepMove =
  | { readonly kind: 'dispatch'; readonly attemptNo: number }
  | { readonly kind: 'publish' }
  | { readonly kind: 'wait' }
  | { readonly kind: 'backoff'; readonly delayMs: number }
  | { readonly kind: 'succeeded'; readonly outputRef?: string }
  | { readonly kind: 'failed'; readonly failure: StepFailure }
  | { readonly kind: 'cancelled' };

export interface MoveContext {
  /** The attempts this run has already published (`attemptKey`). */
  readonly published: ReadonlySet<string>;
  /** The FAILED_RETRY attempt whose backoff has passed (or that this run found at its start). */
  readonly retryDue?: string;
}

export function attemptKey(view: Pick<AttemptView, 'attemptNo' | 'leaseId'>): string {
  return `${view.attemptNo}:${view.leaseId ?? ''}`;
}

export function nextMove(view: AttemptView, context: MoveContext): StepMove {
  switch (view.status) {
    case 'PENDING':
    case 'WAITING_SLOT':
      return { kind: 'dispatch', attemptNo: view.attemptNo + 1 };
    case 'FAILED_RETRY': {
      if (context.retryDue === attemptKey(view)) return { kind: 'dispatch', attemptNo: view.attemptNo + 1 };
      const outcome = attemptOutcome(view);
      return { kind: 'backoff', delayMs: outcome.kind === 'retry' ? outcome.delayMs : 0 };
    }
    case 'DISPATCHING':
      return context.published.has(attemptKey(view)) ? { kind: 'wait' } : { kind: 'publish' };
    case 'AWAITING_ACK':
    case 'IN_PROGRESS':
      return { kind: 'wait' };
    case 'SUCCEEDED':
      return { kind: 'succeeded', ...(view.outputRef === undefined ? {} : { outputRef: view.outputRef }) };
    case 'FAILED_FINAL': {
      if (view.failure === undefined) throw new AttemptViewError(view, 'its failure');
      return { kind: 'failed', failure: view.failure };
    }
    case 'CANCELLED':
      return { kind: 'cancelled' };
  }
}

export interface ArmedDeadline {
  readonly timeout: AttemptTimeout;
  readonly deadline: string;
}

/** The deadlines a wait on an attempt in flight races (none for an attempt that ended). */
export function attemptDeadlines(view: AttemptView): readonly ArmedDeadline[] {
  if (!isInFlight(view.status)) return [];
  const outcome = attemptOutcome(view);
  if (outcome.kind === 'awaiting-ack') return [{ timeout: 'ack', deadline: outcome.ackDeadline }];
  if (outcome.kind === 'in-progress')
    return [
      { timeout: 'lease', deadline: outcome.leaseExpiresAt },
      { timeout: 'result', deadline: outcome.resultDeadline },
    ];
  return [];
}

/** The earliest of the attempt's deadlines that is at or before `now`, if any (a recheck resolves it). */
export function passedDeadline(view: AttemptView, now: Date): ArmedDeadline | undefined {
  return attemptDeadlines(view)
    .filter((d) => Date.parse(d.deadline) <= now.getTime())
    .sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline))[0];
}

/** The orchestration's timers, and the failure each means when it fires and still applies. */
export const ATTEMPT_TIMEOUTS = ['ack', 'lease', 'result'] as const;
export type AttemptTimeout = (typeof ATTEMPT_TIMEOUTS)[number];

/**
 * An ACK timeout means NOT_STARTED: the directive carried the ACK deadline as its time to live, so
 * no worker can have started it after; the step decides whether the not-started budget still covers
 * it (else it counts as ACK_TIMEOUT).
 */
const TIMEOUT_FAILURE: Readonly<Record<AttemptTimeout, { failureClass: FailureClass; what: string }>> = {
  ack: { failureClass: 'NOT_STARTED', what: 'no ACK by the ACK deadline (the directive expired unread)' },
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
  /** LUCIUS_MAX_NOT_STARTED: ACK timeouts a drive retries without counting them as attempts. */
  readonly maxNotStarted?: number;
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
  return timeoutFailure(check.attemptNo, check.leaseId, check);
}

/**
 * A timer fired while the orchestration held `held`: `decideTimeout`, and one more rule so that a
 * wait can never loop on a decision that cannot change: when the ledger's attempt is still in flight
 * and exactly as the orchestration saw it when it armed the timer (nothing happened since, yet the
 * check says the timer does not apply, e.g. the timer was armed for another lease), the attempt
 * fails with the timer's class, under the ledger's own attempt and lease.
 */
export function decideFiredTimer(step: Step, check: TimeoutCheck, held: AttemptView): StepEvent | undefined {
  const event = decideTimeout(step, check);
  if (event !== undefined) return event;
  if (!isInFlight(step.status) || step.leaseId === undefined) return undefined;
  if (!sameAttemptView(toAttemptView(step), held)) return undefined;
  return timeoutFailure(step.attemptNo, step.leaseId, check);
}

function timeoutFailure(attemptNo: number, leaseId: string, check: TimeoutCheck): StepEvent {
  const { failureClass, what } = TIMEOUT_FAILURE[check.timeout];
  return {
    type: 'FAIL',
    attemptNo,
    leaseId,
    failureClass,
    message: `attempt ${attemptNo}: ${what} (${check.deadline})`,
    maxAttempts: check.maxAttempts,
    ...(check.backoff === undefined ? {} : { backoff: check.backoff }),
    ...(check.maxNotStarted === undefined ? {} : { maxNotStarted: check.maxNotStarted }),
  };
}

/**
 * Whether the dispatch slot a step took for attempt `slotAttemptNo` is free to give back: the step
 * ended, or that attempt (or a later one) is no longer in flight. While the step is still before the
 * attempt (granted, not yet recorded) or the attempt is in flight, the slot stays held.
 */
export function slotFreed(view: Pick<AttemptView, 'status' | 'attemptNo'>, slotAttemptNo: number): boolean {
  if (isTerminalStepStatus(view.status)) return true;
  return view.attemptNo >= slotAttemptNo && !isInFlight(view.status);
}
