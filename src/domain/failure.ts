/**
 * Failure classes and the retry-or-final decision (README: "How a job runs").
 *
 * Transient, timeout, ACK-timeout, lease-expired and dispatch failures retry while attempts remain;
 * permanent, invalid-input, unsupported and cancellation are final at once. Exhausting attempts is
 * final and keeps the last class.
 *
 * NOT_STARTED (Lucius only): no ACK came by the ACK deadline, so the directive expired unread (it was
 * published with that deadline as its time to live): no worker started it. It is retried without
 * counting against the attempts, up to the not-started budget (LUCIUS_MAX_NOT_STARTED), after which
 * it counts as ACK_TIMEOUT (the step's state machine decides, see step.ts).
 */
import { backoffFor, type Backoff, type BackoffSchedule, type BackoffSchedules } from './backoff';

/** The classes a worker may report in a RESULT (the `result.v1` schema's enum). */
export const WORKER_FAILURE_CLASSES = [
  'TRANSIENT',
  'TIMEOUT',
  'ACK_TIMEOUT',
  'LEASE_EXPIRED',
  'DISPATCH_FAILED',
  'PERMANENT',
  'INVALID_INPUT',
  'UNSUPPORTED',
  'CANCELLED',
] as const;

/** Every class a step or job can fail with: the workers' ones and those only Lucius decides. */
export const FAILURE_CLASSES = [
  ...WORKER_FAILURE_CLASSES,
  /** The job's orchestration was lost (terminated, failed or purged) more often than it may be restarted. */
  'ORCHESTRATION_LOST',
  /** The directive expired unread: no worker took it by its ACK deadline (does not count as an attempt). */
  'NOT_STARTED',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

const RETRYABLE: Readonly<Record<FailureClass, boolean>> = {
  TRANSIENT: true,
  TIMEOUT: true,
  ACK_TIMEOUT: true,
  LEASE_EXPIRED: true,
  DISPATCH_FAILED: true,
  PERMANENT: false,
  INVALID_INPUT: false,
  UNSUPPORTED: false,
  CANCELLED: false,
  ORCHESTRATION_LOST: false,
  NOT_STARTED: true,
};

/**
 * A failed publish waits on the dispatch schedule, a directive nobody started on the not-started one,
 * every other retryable failure on the reply one.
 */
export function scheduleFor(failureClass: FailureClass): BackoffSchedule {
  if (failureClass === 'DISPATCH_FAILED') return 'dispatch';
  return failureClass === 'NOT_STARTED' ? 'notStarted' : 'reply';
}

export function isRetryableClass(failureClass: FailureClass): boolean {
  return RETRYABLE[failureClass];
}

export function isFailureClass(value: unknown): value is FailureClass {
  return typeof value === 'string' && (FAILURE_CLASSES as readonly string[]).includes(value);
}

export type RetryDecision =
  | { readonly kind: 'retry'; readonly nextAttemptNo: number; readonly delay: Backoff }
  | { readonly kind: 'final'; readonly failureClass: FailureClass; readonly exhausted: boolean };

/**
 * Decides what happens after attempt `attemptNo` (1-based) failed with `failureClass`.
 * `maxAttempts` counts every attempt, the first included.
 */
export function decideRetry(
  failureClass: FailureClass,
  attemptNo: number,
  maxAttempts: number,
  schedules?: BackoffSchedules,
): RetryDecision {
  if (!isRetryableClass(failureClass)) return { kind: 'final', failureClass, exhausted: false };
  if (attemptNo >= maxAttempts) return { kind: 'final', failureClass, exhausted: true };
  return {
    kind: 'retry',
    nextAttemptNo: attemptNo + 1,
    delay: backoffFor(scheduleFor(failureClass), attemptNo, schedules),
  };
}
