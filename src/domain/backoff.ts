/**
 * The decided backoff schedules (README: "How a job runs"), in milliseconds.
 *
 * Dispatch (publishing the directive failed): 30 s, 2 min, 10 min.
 * Reply (ACK timeout, lease expiry, and worker-reported transient failures): 1 min, 5 min, 15 min.
 * The n-th retry waits the n-th entry; retries beyond the schedule wait its last entry.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;

export type BackoffSchedule = 'dispatch' | 'reply';

export const BACKOFF_SCHEDULES: BackoffSchedules = Object.freeze({
  dispatch: Object.freeze([30 * SECOND, 2 * MINUTE, 10 * MINUTE]),
  reply: Object.freeze([1 * MINUTE, 5 * MINUTE, 15 * MINUTE]),
});

export type BackoffSchedules = Readonly<Record<BackoffSchedule, readonly number[]>>;

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
  const delays = schedules[schedule].length > 0 ? schedules[schedule] : BACKOFF_SCHEDULES[schedule];
  const index = Math.min(Math.max(retryNo, 1), delays.length) - 1;
  return { schedule, delayMs: delays[index] as number };
}
