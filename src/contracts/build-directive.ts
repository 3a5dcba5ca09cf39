/**
 * Job + step + attempt → the directive.v1 document a worker receives (pure; time is an argument).
 *
 * `reply_to` is the lane's reply topic `{replyPrefix}{lane}`; `output_ref` is the job's output
 * location unless the caller names one for the step; `input_ref` is what the orchestrator passes
 * (the job's input for the first step, the previous step's output after); `callback_token` is the
 * token the caller issued for the attempt (a cancel carries none). The result is not
 * validated here: the publisher validates every document before sending it.
 */
import type { CancelDirective, StepDirective } from '../contracts/directive';
import type { Job } from '../domain/job';
import type { Step } from '../domain/step';

type Instant = Date | string;

export interface DirectiveAttempt {
  /** 1-based. */
  readonly attemptNo: number;
  /** The attempt's fresh lease (a UUID). */
  readonly leaseId: string;
}

interface DirectiveTarget {
  readonly job: Pick<Job, 'jobId' | 'tenantId' | 'outputRef' | 'correlationId'>;
  readonly step: Pick<Step, 'stepId' | 'index' | 'type' | 'lane' | 'payload'>;
  readonly attempt: DirectiveAttempt;
  /** `LUCIUS_SERVICEBUS_REPLY_PREFIX`: replies go to `{replyPrefix}{lane}`. */
  readonly replyPrefix: string;
  readonly issuedAt: Date;
}

export interface DirectiveInput extends DirectiveTarget {
  readonly inputRef: string;
  /** Where the worker writes; the job's `outputRef` when absent. */
  readonly outputRef?: string;
  readonly deadlines: {
    readonly ackDeadline: Instant;
    readonly leaseExpiresAt?: Instant;
    readonly resultDeadline?: Instant;
  };
  /** The attempt's callback token (`issueCallbackToken`), carried as `callback_token`. */
  readonly callbackToken?: string;
}

export interface CancelDirectiveInput extends DirectiveTarget {
  readonly reason?: string;
}

export function replyTopic(replyPrefix: string, lane: number): string {
  return `${replyPrefix}${lane}`;
}

export function buildDirective(input: DirectiveInput): StepDirective {
  const { deadlines } = input;
  return {
    ...attemptFields(input),
    kind: 'directive',
    input_ref: input.inputRef,
    output_ref: input.outputRef ?? input.job.outputRef,
    payload: input.step.payload,
    ack_deadline: iso(deadlines.ackDeadline),
    ...(deadlines.leaseExpiresAt === undefined ? {} : { lease_expires_at: iso(deadlines.leaseExpiresAt) }),
    ...(deadlines.resultDeadline === undefined ? {} : { result_deadline: iso(deadlines.resultDeadline) }),
    ...(input.callbackToken === undefined ? {} : { callback_token: input.callbackToken }),
  };
}

/** Calls the attempt off: the worker holding this lease should stop and may reply FAILED/CANCELLED. */
export function buildCancelDirective(input: CancelDirectiveInput): CancelDirective {
  return {
    ...attemptFields(input),
    kind: 'cancel',
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  };
}

function attemptFields(input: DirectiveTarget) {
  const { job, step, attempt } = input;
  return {
    schema_version: 'v1',
    job_id: job.jobId,
    tenant_id: job.tenantId,
    step_id: step.stepId,
    step_index: step.index,
    step_type: step.type,
    attempt_no: attempt.attemptNo,
    lease_id: attempt.leaseId,
    lane: step.lane,
    ...(job.correlationId === undefined ? {} : { correlation_id: job.correlationId }),
    reply_to: replyTopic(input.replyPrefix, step.lane),
    issued_at: input.issuedAt.toISOString(),
  } as const;
}

function iso(instant: Instant): string {
  return typeof instant === 'string' ? instant : instant.toISOString();
}
