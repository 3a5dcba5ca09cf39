/**
 * The step lifecycle (README: "How a job runs"), as a transition table plus the lease rules.
 *
 *   PENDING → DISPATCHING → AWAITING_ACK → IN_PROGRESS → SUCCEEDED
 *   PENDING or FAILED_RETRY → WAITING_SLOT (HOLD: no dispatch slot free on the step's lane for its
 *   type, see dispatch-slots.ts) → DISPATCHING once a slot is granted;
 *   any attempt may fail: FAILED_RETRY (re-dispatched as attempt n+1) or FAILED_FINAL; CANCELLED.
 *   a redriven job's failed step: FAILED_FINAL → FAILED_RETRY (REDRIVE), then re-dispatched as usual;
 *   so is a step CANCELLED because its job failed as a whole (job TIMEOUT, ORCHESTRATION_LOST): the
 *   job's redrive reopens it (a job that was cancelled cannot be redriven, so neither can its steps).
 *
 * Every attempt has a 1-based `attemptNo` and a fresh `leaseId`, written by DISPATCH before the
 * directive is published. Replies (ACK, HEARTBEAT, SUCCEED, worker FAIL) must echo both: a mismatch
 * throws StaleLeaseError and is never applied. A RESULT before the ACK implies the ACK. Repeating an
 * event that was already applied is a duplicate: `changed: false, duplicate: true`.
 *
 * Not started: an attempt that ends with NOT_STARTED (no ACK by its ACK deadline: the directive
 * expired unread) is retried without counting against maxAttempts while the drive's not-started
 * budget (`maxNotStarted` on the FAIL event) lasts; `failure.notStarted` counts them over the drive.
 * Once the budget is spent, a NOT_STARTED counts as ACK_TIMEOUT (an attempt, retried or final as usual).
 *
 * Redrive: attempt numbers keep increasing across drives (DISPATCH always takes attemptNo + 1), so
 * leases and message ids of a new drive never collide with an old one's. REDRIVE records the attempt
 * the new drive starts after in `attemptBase`, and the retry decision of FAIL counts only the
 * attempts of the current drive (`attemptNo - attemptBase`). REDRIVE is not a worker reply and
 * carries no lease; it keeps the last failure (without its retry delay) as history.
 */
import { assertNever, type Transition } from './job';
import { InvalidTransitionError, StaleLeaseError } from './errors';
import { backoffFor, type BackoffSchedules } from './backoff';
import { decideRetry, type FailureClass } from './failure';

export const STEP_STATUSES = [
  'PENDING',
  'WAITING_SLOT',
  'DISPATCHING',
  'AWAITING_ACK',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED_RETRY',
  'FAILED_FINAL',
  'CANCELLED',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const STEP_TYPES = ['OCR', 'EMBEDDING', 'SIS'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const TERMINAL_STEP_STATUSES: ReadonlySet<StepStatus> = new Set([
  'SUCCEEDED',
  'FAILED_FINAL',
  'CANCELLED',
]);

export function isTerminalStepStatus(status: StepStatus): boolean {
  return TERMINAL_STEP_STATUSES.has(status);
}

export function isStepType(value: unknown): value is StepType {
  return typeof value === 'string' && (STEP_TYPES as readonly string[]).includes(value);
}

export function isStepStatus(value: unknown): value is StepStatus {
  return typeof value === 'string' && (STEP_STATUSES as readonly string[]).includes(value);
}

export interface StepFailure {
  readonly failureClass: FailureClass;
  readonly message: string;
  readonly attemptNo: number;
  /** True when the class would have retried but attempts ran out. */
  readonly exhausted: boolean;
  /** When FAILED_RETRY: the wait before the next attempt, from the decided backoff schedule. */
  readonly retryDelayMs?: number;
  /**
   * Attempts of the current drive that ended NOT_STARTED and did not count against maxAttempts
   * (carried from failure to failure; a redrive starts again from 0).
   */
  readonly notStarted?: number;
}

export interface Step {
  readonly jobId: string;
  /** The job's tenant, so a step tells whose it is without its job; absent on rows from before it was kept. */
  readonly tenantId?: string;
  readonly stepId: string;
  /** 0-based position in the protocol. */
  readonly index: number;
  readonly type: StepType;
  readonly status: StepStatus;
  readonly lane: number;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The step's input: the job's input_ref for the first step, the previous step's output after. */
  readonly inputRef?: string;
  readonly outputRef?: string;
  readonly result?: Readonly<Record<string, unknown>>;
  /** 0 before the first dispatch. Keeps counting across redrives. */
  readonly attemptNo: number;
  /** The attemptNo the current drive started after: 0 at admission, set by REDRIVE. */
  readonly attemptBase: number;
  readonly leaseId?: string;
  readonly ackDeadline?: string;
  readonly leaseExpiresAt?: string;
  readonly resultDeadline?: string;
  readonly failure?: StepFailure;
  readonly staleReplies: number;
  readonly duplicateReplies: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

interface LeaseEcho {
  readonly attemptNo: number;
  readonly leaseId: string;
}

export type StepEvent =
  | {
      readonly type: 'DISPATCH';
      readonly attemptNo: number;
      readonly leaseId: string;
      readonly inputRef?: string;
      readonly ackDeadline: string;
    }
  /** No dispatch slot is free: the step waits for one (no attempt is recorded yet). */
  | { readonly type: 'HOLD' }
  | ({ readonly type: 'PUBLISHED' } & LeaseEcho)
  | ({ readonly type: 'ACK'; readonly leaseExpiresAt: string; readonly resultDeadline: string } & LeaseEcho)
  | ({ readonly type: 'HEARTBEAT'; readonly leaseExpiresAt: string } & LeaseEcho)
  | ({
      readonly type: 'SUCCEED';
      readonly outputRef?: string;
      readonly result?: Readonly<Record<string, unknown>>;
      /** Used when the RESULT arrives before the ACK (it implies the ACK). */
      readonly resultDeadline?: string;
    } & LeaseEcho)
  | ({
      readonly type: 'FAIL';
      readonly failureClass: FailureClass;
      readonly message: string;
      readonly maxAttempts: number;
      /** The backoff schedules in force (settings); the decided ones when absent. */
      readonly backoff?: BackoffSchedules;
      /** NOT_STARTED attempts a drive may retry without counting (LUCIUS_MAX_NOT_STARTED); 0 when absent. */
      readonly maxNotStarted?: number;
    } & LeaseEcho)
  | { readonly type: 'CANCEL'; readonly reason?: string }
  | { readonly type: 'REDRIVE' };

export type StepEventType = StepEvent['type'];

/**
 * Allowed (state, event) → next state. `FAIL`'s target is decided by the failure class and the
 * attempts left, so the table holds the marker 'DECIDE'. Duplicates (`isDuplicate`) are answered
 * before the table is consulted.
 */
const STEP_TRANSITIONS: Readonly<Record<StepStatus, Partial<Record<StepEventType, StepStatus | 'DECIDE'>>>> =
  {
    PENDING: { HOLD: 'WAITING_SLOT', DISPATCH: 'DISPATCHING', CANCEL: 'CANCELLED' },
    WAITING_SLOT: { DISPATCH: 'DISPATCHING', CANCEL: 'CANCELLED' },
    DISPATCHING: {
      PUBLISHED: 'AWAITING_ACK',
      ACK: 'IN_PROGRESS',
      SUCCEED: 'SUCCEEDED',
      FAIL: 'DECIDE',
      CANCEL: 'CANCELLED',
    },
    AWAITING_ACK: { ACK: 'IN_PROGRESS', SUCCEED: 'SUCCEEDED', FAIL: 'DECIDE', CANCEL: 'CANCELLED' },
    IN_PROGRESS: { HEARTBEAT: 'IN_PROGRESS', SUCCEED: 'SUCCEEDED', FAIL: 'DECIDE', CANCEL: 'CANCELLED' },
    FAILED_RETRY: { HOLD: 'WAITING_SLOT', DISPATCH: 'DISPATCHING', CANCEL: 'CANCELLED' },
    SUCCEEDED: {},
    FAILED_FINAL: { REDRIVE: 'FAILED_RETRY' },
    CANCELLED: { CANCEL: 'CANCELLED', REDRIVE: 'FAILED_RETRY' },
  };

/** Events a worker's reply carries, which must echo the current attempt's lease. */
const LEASED_EVENTS: ReadonlySet<StepEventType> = new Set([
  'PUBLISHED',
  'ACK',
  'HEARTBEAT',
  'SUCCEED',
  'FAIL',
]);

export interface StepTransition extends Transition<Step> {
  /** The event repeats one already applied for this attempt (a duplicate reply). */
  readonly duplicate: boolean;
}

function subjectOf(step: Step): string {
  return `${step.jobId}/${step.stepId}`;
}

function isDuplicate(step: Step, event: StepEvent): boolean {
  switch (event.type) {
    case 'PUBLISHED':
      return step.status === 'AWAITING_ACK' || step.status === 'IN_PROGRESS' || step.status === 'SUCCEEDED';
    case 'ACK':
      return step.status === 'IN_PROGRESS' || step.status === 'SUCCEEDED';
    case 'SUCCEED':
      return step.status === 'SUCCEEDED';
    case 'FAIL':
      return step.status === 'FAILED_RETRY' || step.status === 'FAILED_FINAL';
    case 'CANCEL':
      return step.status === 'CANCELLED';
    case 'HOLD':
      return step.status === 'WAITING_SLOT';
    case 'REDRIVE':
      // Redriven and not dispatched since: the drive starts after the current attempt.
      return step.status === 'FAILED_RETRY' && step.attemptBase === step.attemptNo;
    case 'DISPATCH':
    case 'HEARTBEAT':
      return false;
    default:
      return assertNever(event);
  }
}

export function transitionStep(step: Step, event: StepEvent, now: Date): StepTransition {
  if (LEASED_EVENTS.has(event.type)) {
    const echo = event as LeaseEcho;
    if (echo.attemptNo !== step.attemptNo || echo.leaseId !== step.leaseId) {
      throw new StaleLeaseError(
        subjectOf(step),
        { attemptNo: step.attemptNo, ...(step.leaseId === undefined ? {} : { leaseId: step.leaseId }) },
        { attemptNo: echo.attemptNo, leaseId: echo.leaseId },
      );
    }
  }
  if (isDuplicate(step, event)) return { next: step, changed: false, duplicate: true };
  const target = STEP_TRANSITIONS[step.status][event.type];
  if (target === undefined)
    throw new InvalidTransitionError('step', subjectOf(step), step.status, event.type);

  const at = now.toISOString();
  switch (event.type) {
    case 'DISPATCH': {
      if (event.attemptNo !== step.attemptNo + 1) {
        throw new InvalidTransitionError(
          'step',
          subjectOf(step),
          step.status,
          `DISPATCH(attempt ${event.attemptNo} after ${step.attemptNo})`,
        );
      }
      const { leaseExpiresAt: _l, resultDeadline: _r, ...rest } = step;
      return applied({
        ...rest,
        status: 'DISPATCHING',
        attemptNo: event.attemptNo,
        leaseId: event.leaseId,
        ackDeadline: event.ackDeadline,
        ...(event.inputRef === undefined ? {} : { inputRef: event.inputRef }),
        startedAt: step.startedAt ?? at,
        updatedAt: at,
      });
    }
    case 'HOLD':
      return applied({ ...step, status: 'WAITING_SLOT', updatedAt: at });
    case 'PUBLISHED':
      return applied({ ...step, status: 'AWAITING_ACK', updatedAt: at });
    case 'ACK':
      return applied({
        ...step,
        status: 'IN_PROGRESS',
        leaseExpiresAt: event.leaseExpiresAt,
        resultDeadline: event.resultDeadline,
        updatedAt: at,
      });
    case 'HEARTBEAT':
      return applied({
        ...step,
        leaseExpiresAt: laterOf(step.leaseExpiresAt, event.leaseExpiresAt),
        updatedAt: at,
      });
    case 'SUCCEED':
      return applied({
        ...step,
        status: 'SUCCEEDED',
        ...(event.outputRef === undefined ? {} : { outputRef: event.outputRef }),
        ...(event.result === undefined ? {} : { result: event.result }),
        ...(step.resultDeadline === undefined && event.resultDeadline !== undefined
          ? { resultDeadline: event.resultDeadline }
          : {}),
        updatedAt: at,
        finishedAt: at,
      });
    case 'FAIL': {
      const notStartedSoFar = step.failure?.notStarted ?? 0;
      if (event.failureClass === 'NOT_STARTED' && notStartedSoFar < (event.maxNotStarted ?? 0)) {
        // The directive expired unread: retried without counting against maxAttempts.
        const notStarted = notStartedSoFar + 1;
        return applied({
          ...step,
          status: 'FAILED_RETRY',
          failure: {
            failureClass: 'NOT_STARTED',
            message: event.message,
            attemptNo: step.attemptNo,
            exhausted: false,
            retryDelayMs: backoffFor('notStarted', notStarted, event.backoff).delayMs,
            notStarted,
          },
          updatedAt: at,
        });
      }
      // A NOT_STARTED past the budget is an ACK timeout, which counts.
      const failureClass = event.failureClass === 'NOT_STARTED' ? 'ACK_TIMEOUT' : event.failureClass;
      const message =
        event.failureClass === 'NOT_STARTED'
          ? `${event.message}; the not-started budget (${event.maxNotStarted ?? 0}) is spent`
          : event.message;
      // Only the attempts of the current drive that started (or may have) count against maxAttempts.
      const decision = decideRetry(
        failureClass,
        step.attemptNo - step.attemptBase - notStartedSoFar,
        event.maxAttempts,
        event.backoff,
      );
      const counted = notStartedSoFar === 0 ? {} : { notStarted: notStartedSoFar };
      const failure: StepFailure =
        decision.kind === 'retry'
          ? {
              failureClass,
              message,
              attemptNo: step.attemptNo,
              exhausted: false,
              retryDelayMs: decision.delay.delayMs,
              ...counted,
            }
          : {
              failureClass: decision.failureClass,
              message,
              attemptNo: step.attemptNo,
              exhausted: decision.exhausted,
              ...counted,
            };
      return applied({
        ...step,
        status: decision.kind === 'retry' ? 'FAILED_RETRY' : 'FAILED_FINAL',
        failure,
        updatedAt: at,
        ...(decision.kind === 'final' ? { finishedAt: at } : {}),
      });
    }
    case 'CANCEL':
      return applied({ ...step, status: 'CANCELLED', updatedAt: at, finishedAt: at });
    case 'REDRIVE': {
      const { finishedAt: _finishedAt, failure, ...rest } = step;
      return applied({
        ...rest,
        status: 'FAILED_RETRY',
        attemptBase: step.attemptNo,
        // The last failure stays as history; without a retry delay, the new drive dispatches at once.
        ...(failure === undefined ? {} : { failure: withoutRetryDelay(failure) }),
        updatedAt: at,
      });
    }
    default:
      return assertNever(event);
  }
}

/** The failure kept as history by a redrive: no retry delay, and the new drive's not-started count starts at 0. */
function withoutRetryDelay(failure: StepFailure): StepFailure {
  const { retryDelayMs: _retryDelayMs, notStarted: _notStarted, ...rest } = failure;
  return rest;
}

function applied(next: Step): StepTransition {
  return { next, changed: true, duplicate: false };
}

function laterOf(current: string | undefined, proposed: string): string {
  if (current === undefined) return proposed;
  return Date.parse(proposed) > Date.parse(current) ? proposed : current;
}

/** Counts a reply that was not applied (stale lease or duplicate), so it is visible on the step. */
export function noteIgnoredReply(step: Step, kind: 'stale' | 'duplicate', now: Date): Step {
  const at = now.toISOString();
  return kind === 'stale'
    ? { ...step, staleReplies: step.staleReplies + 1, updatedAt: at }
    : { ...step, duplicateReplies: step.duplicateReplies + 1, updatedAt: at };
}
