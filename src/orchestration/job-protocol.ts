/**
 * What passes between `jobOrchestrator`, its activities and the code that raises its events: the
 * activities' inputs and outputs, the external event names and payloads, the custom status and the
 * output. Everything here is plain JSON, because it is stored in orchestration history.
 *
 * Event names carry the step, the attempt and the lease (`reply:{stepId}:{attemptNo}:{leaseId}`),
 * so a reply to an old attempt can never satisfy the wait of a new one; `cancel` is the job's.
 */
import type { AttemptTimeout, AttemptView } from '../domain/attempt';
import type { JobFailure, JobStatus } from '../domain/job';
import type { StepStatus, StepType } from '../domain/step';

export const CANCEL_EVENT = 'cancel';

export function replyEventName(stepId: string, attemptNo: number, leaseId: string): string {
  return `reply:${stepId}:${attemptNo}:${leaseId}`;
}

/** The payload of a reply event: the attempt as the ledger holds it after the reply was applied. */
export interface ReplyEvent {
  readonly kind: 'ack' | 'heartbeat' | 'result';
  readonly attempt: AttemptView;
}

export interface CancelEvent {
  readonly reason?: string;
}

/** The settings an orchestration decides with, read once by `startJob` and kept in history. */
export interface StepTimings {
  readonly ackTimeoutSeconds: number;
  readonly maxAttempts: number;
}

export interface PlannedStep {
  readonly stepId: string;
  readonly index: number;
  readonly type: StepType;
  readonly status: StepStatus;
  /** Attempts made so far (over every drive). */
  readonly attemptNo: number;
  readonly outputRef?: string;
}

/** startJob's answer: the job moved to RUNNING (or the status that stopped it) and its steps. */
export interface JobPlan {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly inputRef: string;
  readonly steps: readonly PlannedStep[];
  readonly timings: StepTimings;
}

export interface AttemptRef {
  readonly jobId: string;
  readonly stepId: string;
  readonly attemptNo: number;
  readonly leaseId: string;
}

export interface RecordAttemptInput extends AttemptRef {
  readonly inputRef: string;
  readonly ackDeadline: string;
}

export interface ResolveTimeoutInput extends AttemptRef {
  readonly timeout: AttemptTimeout;
  readonly deadline: string;
}

export interface PublishFailedInput extends AttemptRef {
  readonly message: string;
}

export type FinishJobInput =
  | { readonly jobId: string; readonly outcome: 'SUCCEEDED' }
  | { readonly jobId: string; readonly outcome: 'FAILED'; readonly failure: JobFailure };

export interface CancelJobInput {
  readonly jobId: string;
  readonly reason?: string;
  /** The attempt in flight when the cancel arrived: its worker is told to stop. */
  readonly attempt?: AttemptRef;
}

/** The custom status the orchestration shows while it runs. */
export interface JobCustomStatus {
  readonly stepId: string;
  readonly stepIndex: number;
  readonly attemptNo: number;
  readonly state: StepStatus | 'RETRY_BACKOFF';
  readonly retryAt?: string;
}

export interface StepSummary {
  readonly stepId: string;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly outputRef?: string;
}

/** The orchestration's output. */
export interface JobOutput {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly outputRef?: string;
  readonly failure?: JobFailure;
  readonly steps: readonly StepSummary[];
}
