/**
 * The bodies of `jobOrchestrator`'s activities. Each is idempotent (Durable runs an activity at
 * least once) and changes the ledger only through the state machines, so a replayed activity finds
 * its write already done and answers as the first run did.
 *
 * - startJob: ACCEPTED → RUNNING; answers the plan (steps, the job's input, the timings).
 * - recordAttempt: DISPATCH attempt n with its lease and ACK deadline, before anything is published.
 * - publishDirective: directive → the step's lane topic (same message id on a re-run, so the topic
 *   drops the copy), then PUBLISHED; logs `routing.resolved`. A transport failure throws
 *   DirectivePublishError (the orchestrator records it as the attempt's DISPATCH_FAILED); a directive
 *   that breaks its contract fails the step as INVALID_INPUT.
 * - recordPublishFailure / resolveTimeout: FAIL the attempt (DISPATCH_FAILED, ACK_TIMEOUT,
 *   LEASE_EXPIRED, TIMEOUT) unless the ledger shows it moved on meanwhile.
 * - finishJob: SUCCEED or FAIL the job (the tenant's in-flight slot is released once, by the ledger).
 * - cancelJob: CANCEL the job and its unfinished steps; tells the worker holding the attempt.
 * Every answer that concerns an attempt is its AttemptView as the ledger holds it after the call.
 */
import type { Settings } from '../config/settings';
import type { Clock } from '../domain/clock';
import { decideTimeout, toAttemptView, type AttemptView } from '../domain/attempt';
import { InvalidTransitionError } from '../domain/errors';
import type { JobStatus } from '../domain/job';
import { isTerminalStepStatus, type Step, type StepEvent } from '../domain/step';
import { JobNotFoundError, StepNotFoundError } from '../ledger/errors';
import type { JobLedger, JobWithSteps } from '../ledger/job-ledger';
import { buildCancelDirective, buildDirective } from '../messaging/build-directive';
import type { DirectivePublisher } from '../messaging/directive-publisher';
import { InvalidDirectiveError } from '../messaging/errors';
import type {
  AttemptRef,
  CancelJobInput,
  FinishJobInput,
  JobPlan,
  PublishFailedInput,
  RecordAttemptInput,
  ResolveTimeoutInput,
} from '../orchestration/job-protocol';
import type { JobOrchestrationInput } from '../orchestration/orchestration-starter';

/** A structured log line: an event name and its fields. */
export type EventLog = (event: string, fields: Readonly<Record<string, unknown>>) => void;

export interface JobActivityDeps {
  readonly ledger: JobLedger;
  readonly publisher: DirectivePublisher;
  readonly clock: Clock;
  readonly settings: Pick<Settings, 'steps' | 'serviceBus'>;
}

export async function startJob(deps: JobActivityDeps, input: JobOrchestrationInput): Promise<JobPlan> {
  const { ledger, clock, settings } = deps;
  try {
    await ledger.applyJobEvent(input.jobId, { type: 'START' }, clock.now());
  } catch (error) {
    // A job that ended before its orchestration began (cancelled meanwhile) is not an error: the
    // plan shows its status and the orchestration ends there.
    if (!(error instanceof InvalidTransitionError)) throw error;
  }
  const { job, steps } = await load(ledger, input.jobId);
  return {
    jobId: job.jobId,
    status: job.status,
    inputRef: job.inputRef,
    steps: steps.map((step) => ({
      stepId: step.stepId,
      index: step.index,
      type: step.type,
      status: step.status,
      attemptNo: step.attemptNo,
      ...(step.outputRef === undefined ? {} : { outputRef: step.outputRef }),
    })),
    timings: { ackTimeoutSeconds: settings.steps.ackTimeoutSeconds, maxAttempts: settings.steps.maxAttempts },
  };
}

export async function recordAttempt(deps: JobActivityDeps, input: RecordAttemptInput): Promise<AttemptView> {
  const { ledger, clock } = deps;
  const step = await loadStep(ledger, input);
  // Already recorded by an earlier run of this activity.
  if (step.attemptNo === input.attemptNo && step.leaseId === input.leaseId) return toAttemptView(step);
  if (isTerminalStepStatus(step.status)) return toAttemptView(step);
  const { next } = await ledger.applyStepEvent(
    input.jobId,
    input.stepId,
    {
      type: 'DISPATCH',
      attemptNo: input.attemptNo,
      leaseId: input.leaseId,
      inputRef: input.inputRef,
      ackDeadline: input.ackDeadline,
    },
    clock.now(),
  );
  return toAttemptView(next);
}

export async function publishDirective(
  deps: JobActivityDeps,
  ref: AttemptRef,
  log: EventLog,
): Promise<AttemptView> {
  const { ledger, publisher, clock, settings } = deps;
  const { job, steps } = await load(ledger, ref.jobId);
  const step = findStep(steps, ref);
  if (step.attemptNo !== ref.attemptNo || step.leaseId !== ref.leaseId || step.status !== 'DISPATCHING') {
    // Published by an earlier run (or the attempt ended, e.g. cancelled): nothing to send.
    return toAttemptView(step);
  }
  const directive = buildDirective({
    job,
    step,
    attempt: { attemptNo: ref.attemptNo, leaseId: ref.leaseId },
    replyPrefix: settings.serviceBus.replyPrefix,
    issuedAt: clock.now(),
    inputRef: step.inputRef ?? job.inputRef,
    deadlines: { ackDeadline: step.ackDeadline ?? clock.now() },
  });
  log('routing.resolved', {
    job_id: job.jobId,
    tenant_id: job.tenantId,
    step_id: step.stepId,
    step_type: step.type,
    attempt_no: ref.attemptNo,
    lane: step.lane,
    routing_key_used: job.routingKeyUsed,
    topic: `${settings.serviceBus.topicPrefix}${step.lane}`,
  });
  try {
    await publisher.publish(directive);
  } catch (error) {
    if (!(error instanceof InvalidDirectiveError)) throw error;
    return applyOrReload(deps, ref, {
      type: 'FAIL',
      attemptNo: ref.attemptNo,
      leaseId: ref.leaseId,
      failureClass: 'INVALID_INPUT',
      message: error.message,
      maxAttempts: settings.steps.maxAttempts,
      backoff: settings.steps.backoff,
    });
  }
  return applyOrReload(deps, ref, { type: 'PUBLISHED', attemptNo: ref.attemptNo, leaseId: ref.leaseId });
}

export async function recordPublishFailure(
  deps: JobActivityDeps,
  input: PublishFailedInput,
): Promise<AttemptView> {
  const step = await loadStep(deps.ledger, input);
  if (step.attemptNo !== input.attemptNo || step.leaseId !== input.leaseId || step.status !== 'DISPATCHING')
    return toAttemptView(step);
  return applyOrReload(deps, input, {
    type: 'FAIL',
    attemptNo: input.attemptNo,
    leaseId: input.leaseId,
    failureClass: 'DISPATCH_FAILED',
    message: `publishing the directive failed: ${input.message}`,
    maxAttempts: deps.settings.steps.maxAttempts,
    backoff: deps.settings.steps.backoff,
  });
}

export async function resolveTimeout(
  deps: JobActivityDeps,
  input: ResolveTimeoutInput,
): Promise<AttemptView> {
  const step = await loadStep(deps.ledger, input);
  const event = decideTimeout(step, {
    ...input,
    maxAttempts: deps.settings.steps.maxAttempts,
    backoff: deps.settings.steps.backoff,
  });
  if (event === undefined) return toAttemptView(step);
  return applyOrReload(deps, input, event);
}

export async function finishJob(deps: JobActivityDeps, input: FinishJobInput): Promise<JobStatus> {
  const event =
    input.outcome === 'SUCCEEDED'
      ? ({ type: 'SUCCEED' } as const)
      : ({ type: 'FAIL', failure: input.failure } as const);
  try {
    return (await deps.ledger.applyJobEvent(input.jobId, event, deps.clock.now())).next.status;
  } catch (error) {
    // The job ended otherwise meanwhile (cancelled): that is its outcome.
    if (!(error instanceof InvalidTransitionError)) throw error;
    return (await load(deps.ledger, input.jobId)).job.status;
  }
}

export async function cancelJob(deps: JobActivityDeps, input: CancelJobInput): Promise<JobStatus> {
  const { ledger, publisher, clock, settings } = deps;
  const status = await cancelInLedger(ledger, input.jobId, input.reason, clock.now());
  if (input.attempt === undefined) return status;
  const { job, steps } = await load(ledger, input.jobId);
  const step = findStep(steps, input.attempt);
  // Only the attempt that was handed to a worker (and did not finish otherwise) is called off.
  if (step.attemptNo !== input.attempt.attemptNo || step.leaseId !== input.attempt.leaseId) return status;
  if (step.status !== 'CANCELLED') return status;
  await publisher.publish(
    buildCancelDirective({
      job,
      step,
      attempt: { attemptNo: input.attempt.attemptNo, leaseId: input.attempt.leaseId },
      replyPrefix: settings.serviceBus.replyPrefix,
      issuedAt: clock.now(),
      ...(input.reason === undefined ? {} : { reason: input.reason }),
    }),
  );
  return status;
}

/**
 * CANCEL the job, then every step that has not finished. Also what the cancel API does before it
 * tells the orchestration, so the job reads CANCELLED at once. A job that already ended otherwise
 * keeps its status (answered as is).
 */
export async function cancelInLedger(
  ledger: JobLedger,
  jobId: string,
  reason: string | undefined,
  now: Date,
): Promise<JobStatus> {
  let status: JobStatus;
  try {
    status = (
      await ledger.applyJobEvent(jobId, { type: 'CANCEL', ...(reason === undefined ? {} : { reason }) }, now)
    ).next.status;
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return (await load(ledger, jobId)).job.status;
  }
  const { steps } = await load(ledger, jobId);
  for (const step of steps) {
    if (isTerminalStepStatus(step.status)) continue;
    await ledger
      .applyStepEvent(
        jobId,
        step.stepId,
        { type: 'CANCEL', ...(reason === undefined ? {} : { reason }) },
        now,
      )
      .catch((error: unknown) => {
        // The step finished meanwhile (a RESULT won the race): it keeps that outcome.
        if (!(error instanceof InvalidTransitionError)) throw error;
      });
  }
  return status;
}

/** Applies an attempt's event; when the step moved on meanwhile, answers the step as it is. */
async function applyOrReload(deps: JobActivityDeps, ref: AttemptRef, event: StepEvent): Promise<AttemptView> {
  try {
    const { next } = await deps.ledger.applyStepEvent(ref.jobId, ref.stepId, event, deps.clock.now());
    return toAttemptView(next);
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return toAttemptView(await loadStep(deps.ledger, ref));
  }
}

async function load(ledger: JobLedger, jobId: string): Promise<JobWithSteps> {
  const found = await ledger.getJob(jobId);
  if (found === undefined) throw new JobNotFoundError(jobId);
  return found;
}

async function loadStep(ledger: JobLedger, ref: Pick<AttemptRef, 'jobId' | 'stepId'>): Promise<Step> {
  return findStep((await load(ledger, ref.jobId)).steps, ref);
}

function findStep(steps: readonly Step[], ref: Pick<AttemptRef, 'jobId' | 'stepId'>): Step {
  const step = steps.find((s) => s.stepId === ref.stepId);
  if (step === undefined) throw new StepNotFoundError(ref.jobId, ref.stepId);
  return step;
}
