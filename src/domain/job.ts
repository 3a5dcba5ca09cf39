/**
 * The job lifecycle: ACCEPTED → RUNNING → SUCCEEDED | FAILED | CANCELLED, as a transition table.
 * A FAILED job can be redriven (REDRIVE: FAILED → RUNNING): it restarts from its failed step, keeping
 * the steps that succeeded; the failure and `finishedAt` are cleared and `redrives` counts up.
 * REDRIVE is the only way out of a terminal state.
 *
 * `transitionJob(job, event, now)` returns the next job and whether anything changed, or throws
 * InvalidTransitionError. Repeating the event that produced the current state is a no-op
 * (`changed: false`), so at-least-once writers can replay safely. REDRIVE is the exception: its
 * target (RUNNING) is not its source, so a repeated REDRIVE finds a RUNNING job and is refused; the
 * caller decides whether that is a success.
 */
import { InvalidTransitionError } from './errors';
import type { FailureClass } from './failure';
import type { Repair } from './repair';

export const JOB_STATUSES = ['ACCEPTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function isTerminalJobStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.has(status);
}

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}

export interface JobFailure {
  readonly stepId?: string;
  readonly failureClass: FailureClass;
  readonly message: string;
}

export interface Job {
  readonly jobId: string;
  readonly tenantId: string;
  readonly requestType: string;
  readonly status: JobStatus;
  readonly inputRef: string;
  readonly outputRef: string;
  readonly routingKey: string;
  readonly routingKeyUsed: 'routing_key' | 'tenant_id';
  readonly lane: number;
  readonly priority: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly correlationId?: string;
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly schemaVersion: string;
  readonly stepIds: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly failure?: JobFailure;
  readonly cancelReason?: string;
  /** How many times the job was redriven after failing; 0 at admission. */
  readonly redrives: number;
  /**
   * When the job fails with TIMEOUT if it has not ended (admission time + the job timeout; a
   * redrive starts a new window).
   */
  readonly deadlineAt?: string;
  /** Restarts of a lost orchestration by the sweepers (bounded by LUCIUS_MAX_ORCHESTRATION_RESTARTS). */
  readonly orchestrationRestarts: number;
  /** What the sweepers repaired on this job, oldest first (the last 20). */
  readonly repairs: readonly Repair[];
}

export type JobEvent =
  | { readonly type: 'START' }
  | { readonly type: 'SUCCEED' }
  | { readonly type: 'FAIL'; readonly failure: JobFailure }
  | { readonly type: 'CANCEL'; readonly reason?: string }
  | { readonly type: 'REDRIVE' };

export type JobEventType = JobEvent['type'];

/** Allowed (state, event) → next state. A missing entry is an invalid transition. */
const JOB_TRANSITIONS: Readonly<Record<JobStatus, Partial<Record<JobEventType, JobStatus>>>> = {
  ACCEPTED: { START: 'RUNNING', FAIL: 'FAILED', CANCEL: 'CANCELLED' },
  RUNNING: { START: 'RUNNING', SUCCEED: 'SUCCEEDED', FAIL: 'FAILED', CANCEL: 'CANCELLED' },
  SUCCEEDED: { SUCCEED: 'SUCCEEDED' },
  FAILED: { FAIL: 'FAILED', REDRIVE: 'RUNNING' },
  CANCELLED: { CANCEL: 'CANCELLED' },
};

export interface Transition<T> {
  readonly next: T;
  readonly changed: boolean;
}

export function canTransitionJob(status: JobStatus, event: JobEventType): boolean {
  return JOB_TRANSITIONS[status][event] !== undefined;
}

export function transitionJob(job: Job, event: JobEvent, now: Date): Transition<Job> {
  const target = JOB_TRANSITIONS[job.status][event.type];
  if (target === undefined) throw new InvalidTransitionError('job', job.jobId, job.status, event.type);
  if (target === job.status) return { next: job, changed: false };
  const at = now.toISOString();
  const base = { ...job, status: target, updatedAt: at };
  switch (event.type) {
    case 'START':
      return { next: { ...base, startedAt: at }, changed: true };
    case 'SUCCEED':
      return { next: { ...base, finishedAt: at }, changed: true };
    case 'FAIL':
      return { next: { ...base, finishedAt: at, failure: event.failure }, changed: true };
    case 'CANCEL':
      return {
        next: {
          ...base,
          finishedAt: at,
          ...(event.reason === undefined ? {} : { cancelReason: event.reason }),
        },
        changed: true,
      };
    case 'REDRIVE': {
      const { failure: _failure, finishedAt: _finishedAt, ...rest } = base;
      return { next: { ...rest, redrives: job.redrives + 1 }, changed: true };
    }
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
