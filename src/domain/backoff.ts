/**
 * The decided backoff schedules (README: "How a job runs"), in milliseconds.
 *
 * Dispatch (publishing the directive failed): 30 s, 2 min, 10 min.
 * Reply (ACK timeout, lease expiry, and worker-reported transient failures): 1 min, 5 min, 15 min.
 * Not started (the directive expired unread: nobody took it by its ACK deadline): 5 s, 15 s, 30 s,
 * 60 s. Short, since no work was lost and the attempt does not count; the bound is the not-started
 * budget (LUCIUS_MAX_NOT_STARTED) and the job deadline.
 * The n-th retry waits the n-th entry; retries beyond the schedule wait its last entry.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;

export type BackoffSchedule = 'dispatch' | 'reply' | 'notStarted';

export const BACKOFF_SCHEDULES: Required<BackoffSchedules> = Object.freeze({
  dispatch: Object.freeze([30 * SECOND, 2 * MINUTE, 10 * MINUTE]),
  reply: Object.freeze([1 * MINUTE, 5 * MINUTE, 15 * MINUTE]),
  notStarted: Object.freeze([5 * SECOND, 15 * SECOND, 30 * SECOND, 1 * MINUTE]),
});

/** The schedules in force; one left out (`notStarted` in older settings) is the decided one. */
export interface BackoffSchedules {
  readonly dispatch: readonly number[];
  readonly reply: readonly number[];
  readonly notStarted?: readonly number[];
}

export interface Backoff {
  readonly schedule: BackoffSchedule;
  readonly delayMs: number;
}

/**
 * The wait before retry number `retryNo` (1 = the first retry) on `schedule`, from the decided
 * schedules unless others are given (settings may tune them).
 */
export function backoffFor(
  schedule: BackoffSchedule,
  retryNo: number,
  schedules: BackoffSchedules = BACKOFF_SCHEDULES,
): Backoff {
  const given = schedules[schedule];
  const delays = given !== undefined && given.length > 0 ? given : BACKOFF_SCHEDULES[schedule];
  const index = Math.min(Math.max(retryNo, 1), delays.length) - 1;
  return { schedule, delayMs: delays[index] as number };
}
