/**
 * What passes between `jobOrchestrator`, its activities and the code that raises its events: the
 * activities' inputs and outputs, the external event names and payloads, the custom status and the
 * output. Everything here is plain JSON, because it is stored in orchestration history.
 *
 * Event names carry the step, the attempt and the lease (`reply:{stepId}:{attemptNo}:{leaseId}`),
 * so a reply to an old attempt can never satisfy the wait of a new one; `cancel` and `recheck` are
 * the job's. Events are signals: the orchestration reads the attempt from the ledger when one
 * arrives and never takes an outcome from a payload.
 *
 * The activity handles the orchestrator calls are typed from the activity functions themselves
 * (orchestration/activity-handles.ts): one place defines each activity's input and output.
 */
import type { AttemptTimeout, AttemptView } from '../domain/attempt';
import type { JobFailure, JobStatus } from '../domain/job';
import type { StepStatus, StepType } from '../domain/step';

export const CANCEL_EVENT = 'cancel';

/**
 * Raised by a sweeper on a running orchestration whose wait cannot make progress by itself (a lost
 * timer, a publish never confirmed): the orchestration re-reads the ledger now and acts on what it
 * finds. A signal only: it carries no outcome.
 */
export const RECHECK_EVENT = 'recheck';

export interface RecheckEvent {
  /** What the sweeper found, for the job's history. */
  readonly reason: string;
  /** The step is DISPATCHING past the grace: publish its directive again (same message id). */
  readonly redispatch?: boolean;
}

/**
 * Raised at a job whose step waits for a dispatch slot when a slot was handed to it (a release by
 * another job's step). A signal only: the orchestration asks for its slot again, which answers
 * granted.
 */
export const SLOT_EVENT = 'slot';

export function replyEventName(stepId: string, attemptNo: number, leaseId: string): string {
  return `reply:${stepId}:${attemptNo}:${leaseId}`;
}

/**
 * The payload of a reply event: the attempt as the ledger held it after the reply was applied. For
 * the job's history only: the orchestration reads the attempt from the ledger (`readAttempt`).
 * Raised for a RESULT only; `ack` and `heartbeat` stay for the histories of runs that got them.
 */
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
  /**
   * How often a step waiting for a dispatch slot looks again by itself. Absent in the plans of runs
   * started before flow control: those take no dispatch slots (their histories replay unchanged).
   */
  readonly slotRecheckSeconds?: number;
}

/**
 * A step as the ledger held it when the run started: its current attempt (`attemptNo` counts the
 * attempts made over every drive) with its lease and deadlines, so a run started over a job already
 * RUNNING adopts the attempt in flight.
 */
export interface PlannedStep extends AttemptView {
  readonly index: number;
  readonly type: StepType;
}

/**
 * The plan revision `startJob` gives new runs. A run keeps the revision of its plan (in its history)
 * for its whole life, so the history of a run started before a change replays as it was written
 * (`planRevision` reads it):
 * - 0 (no revision, no `slotRecheckSeconds`): started before flow control; takes no dispatch slots;
 * - 1 (no revision): a step takes its dispatch slot (`acquireSlot`) and then records its attempt
 *   (`recordAttempt`), and gives the slot back (`releaseSlot`) after any end of the attempt;
 * - 2: one activity takes the slot and records the attempt (`dispatchAttempt`), and an attempt that
 *   SUCCEEDED is not released by the orchestration: the RESULT's ingestion released it (the lease
 *   sweeper repairs a release lost there);
 * - 3: one activity takes the slot, records the attempt and publishes its directive
 *   (`dispatchStep`); `startJob` does so for the first unfinished step (`dispatchFirst`), and the
 *   read after a RESULT (`settleAttempt`) dispatches the next step, or finishes the job after the
 *   last, in the same activity.
 */
export const PLAN_REVISION = 3;

/** The revision a plan was written under (see PLAN_REVISION). */
export function planRevision(plan: Pick<JobPlan, 'revision' | 'timings'>): number {
  return plan.revision ?? (plan.timings.slotRecheckSeconds === undefined ? 0 : 1);
}

/** startJob's answer: the job moved to RUNNING (or the status that stopped it) and its steps. */
export interface JobPlan {
  readonly jobId: string;
  readonly status: JobStatus;
  /** See PLAN_REVISION; absent in the plans of runs started before revisions (revision 1). */
  readonly revision?: number;
  readonly inputRef: string;
  readonly steps: readonly PlannedStep[];
  readonly timings: StepTimings;
  /** When this run fails the job with TIMEOUT (see `runDeadline`). */
  readonly deadlineAt: string;
  /**
   * Revision 3: `startJob` asked for a dispatch slot for this attempt of this step (its answer's view
   * is the step's in `steps`); when granted, the run holds that slot.
   */
  readonly asked?: { readonly stepId: string; readonly attemptNo: number; readonly granted: boolean };
}

/** Revision 3: what `startJob` takes beside the orchestration's input. */
export interface StartOptions {
  /** Dispatch the first unfinished step (as `dispatchStep` does) once the job is RUNNING. */
  readonly dispatchFirst?: boolean;
}

/** Which step's attempt to read from the ledger. */
export interface StepRef {
  readonly jobId: string;
  readonly stepId: string;
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

/**
 * Revision 3: take a slot for attempt `attemptNo` of the step, record the attempt (its lease and ACK
 * deadline made by the activity) and publish its directive; answered as a SlotAnswer.
 */
export interface DispatchStepInput extends StepRef {
  readonly attemptNo: number;
  readonly inputRef: string;
}

/** What `settleAttempt` does after the step it read SUCCEEDED. */
export type SettleNext =
  /** Dispatch this attempt of the next step, its input the output of the one read (else `inputRef`). */
  | {
      readonly kind: 'dispatch';
      readonly stepId: string;
      readonly attemptNo: number;
      readonly inputRef: string;
    }
  /** The step read was the job's last: the job SUCCEEDED. */
  | { readonly kind: 'finish' };

export interface SettleAttemptInput extends StepRef {
  readonly then?: SettleNext;
}

export interface SettleAnswer {
  /** The step read, as the ledger holds it. */
  readonly view: AttemptView;
  /** `then` was a dispatch and the step SUCCEEDED: the next step's dispatch. */
  readonly next?: SlotAnswer;
  /** `then` was finish and the step SUCCEEDED: the job's status after finishing it. */
  readonly status?: JobStatus;
}

/** The step and the attempt a dispatch slot is (to be) held for. */
export interface SlotInput extends StepRef {
  readonly attemptNo: number;
}

export interface SlotAnswer {
  readonly granted: boolean;
  /** The step as the ledger holds it (WAITING_SLOT when queued). */
  readonly view: AttemptView;
}

export interface ResolveTimeoutInput extends AttemptRef {
  readonly timeout: AttemptTimeout;
  readonly deadline: string;
  /** The view the orchestration held when it armed the timer (see `decideFiredTimer`). */
  readonly held?: AttemptView;
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

/** The job deadline passed while `stepId` was running (its attempt in flight, if any). */
export interface ExpireJobInput {
  readonly jobId: string;
  readonly stepId: string;
  readonly deadlineAt: string;
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
