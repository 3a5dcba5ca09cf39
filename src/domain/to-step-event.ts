/**
 * A decoded worker reply → the step event the ledger's state machine applies (pure; `now` is the
 * time the reply is applied, so deadlines derive from it):
 *
 * - ACK → ACK: lease until now + the lease the worker asked for (capped) or the configured lease;
 *   result deadline now + the step result timeout.
 * - heartbeat → HEARTBEAT: lease until now + `extend_minutes` (capped) or the configured lease.
 * - RESULT SUCCEEDED → SUCCEED with the output and result (and a result deadline, used when the
 *   RESULT arrives before the ACK, which it implies).
 * - RESULT FAILED → FAIL with the worker's class and message; the state machine decides retry or
 *   final from the class and `maxAttempts`.
 */
import type { BackoffSchedules } from './backoff';
import { assertNever } from './job';
import type { StepEvent } from './step';
import type { WorkerReply } from './worker-reply';

export interface ReplyTimings {
  /** `LUCIUS_LEASE_MINUTES`: the lease when the worker asks for none. */
  readonly leaseMinutes: number;
  /** `LUCIUS_STEP_RESULT_TIMEOUT_SECONDS`: the RESULT must arrive this long after the ACK. */
  readonly stepResultTimeoutSeconds: number;
  /** `LUCIUS_MAX_ATTEMPTS`. */
  readonly maxAttempts: number;
  /** `LUCIUS_DISPATCH_BACKOFF_SECONDS` / `LUCIUS_REPLY_BACKOFF_SECONDS`, in ms; the decided ones when absent. */
  readonly backoff?: BackoffSchedules;
  /** The most a worker may ask for in an ACK or heartbeat; 60 (the contracts' maximum) when absent. */
  readonly maxRequestedLeaseMinutes?: number;
}

export const MAX_REQUESTED_LEASE_MINUTES = 60;

const MINUTE_MS = 60_000;
const SECOND_MS = 1_000;

export function toStepEvent(reply: WorkerReply, timings: ReplyTimings, now: Date): StepEvent {
  const attempt = { attemptNo: reply.attemptNo, leaseId: reply.leaseId };
  const after = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const resultDeadline = after(timings.stepResultTimeoutSeconds * SECOND_MS);
  switch (reply.kind) {
    case 'ack':
      return {
        type: 'ACK',
        ...attempt,
        leaseExpiresAt: after(leaseMinutes(reply.leaseMinutes, timings) * MINUTE_MS),
        resultDeadline,
      };
    case 'heartbeat':
      return {
        type: 'HEARTBEAT',
        ...attempt,
        leaseExpiresAt: after(leaseMinutes(reply.extendMinutes, timings) * MINUTE_MS),
      };
    case 'result':
      if (reply.status === 'SUCCEEDED') {
        return {
          type: 'SUCCEED',
          ...attempt,
          outputRef: reply.outputRef,
          ...(reply.result === undefined ? {} : { result: reply.result }),
          resultDeadline,
        };
      }
      return {
        type: 'FAIL',
        ...attempt,
        failureClass: reply.failure.failureClass,
        message: reply.failure.message,
        maxAttempts: timings.maxAttempts,
        ...(timings.backoff === undefined ? {} : { backoff: timings.backoff }),
      };
    default:
      return assertNever(reply);
  }
}

function leaseMinutes(requested: number | undefined, timings: ReplyTimings): number {
  if (requested === undefined) return timings.leaseMinutes;
  return Math.min(requested, timings.maxRequestedLeaseMinutes ?? MAX_REQUESTED_LEASE_MINUTES);
}
