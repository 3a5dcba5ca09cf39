/**
 * The bodies of `jobOrchestrator`'s activities. Each is idempotent (Durable runs an activity at
 * least once) and changes the ledger only through the state machines, so a replayed activity finds
 * its write already done and answers as the first run did.
 *
 * - startJob: ACCEPTED → RUNNING; answers the plan: every step's current attempt as the ledger holds
 *   it (so a run started over a RUNNING job adopts what is in flight), the job's input, the timings
 *   and the deadline this run enforces (`runDeadline`). With `dispatchFirst` (plan revision 3) it also
 *   dispatches the first unfinished step, as dispatchStep does, and the plan says what it asked.
 * - dispatchStep (plan revision 3): acquireSlot, recordAttempt and publishDirective in one activity;
 *   the attempt's lease and ACK deadline are made here (a run of it that died after recording leaves
 *   the attempt in the ledger, which the next run publishes and answers).
 * - settleAttempt (plan revision 3): readAttempt after a RESULT's event; when the step SUCCEEDED it
 *   also dispatches the next step (as dispatchStep) or, after the last, finishes the job.
 * - acquireSlot: takes a dispatch slot on the step's lane for its type for attempt n (flow control,
 *   domain/dispatch-slots.ts), or queues the step for one and records it WAITING_SLOT (HOLD); answers
 *   whether it was granted and the step as the ledger holds it. Idempotent (a holder keeps its slot,
 *   a waiter its place).
 * - releaseSlot: gives the step's slot for attempt n back (its attempt ended, the job was cancelled or
 *   timed out) or takes it out of the queue; the freed slot goes to the next waiter in turn, whose
 *   orchestration is told (`slot` event; its recheck timer covers a signal that is lost).
 * - dispatchAttempt (plan revision 2): acquireSlot and, when granted, recordAttempt, in one activity;
 *   answers as acquireSlot does, with the recorded attempt when granted. Idempotent as both are (run
 *   again after it recorded, it answers not granted with the attempt in flight, which the
 *   orchestration adopts with the slot it holds).
 * - recordAttempt: DISPATCH attempt n with its lease and ACK deadline, before anything is published,
 *   when the step can take it (PENDING, WAITING_SLOT or FAILED_RETRY at attempt n-1). Otherwise it answers the
 *   step as the ledger holds it, which the orchestrator adopts (the same attempt under another
 *   lease recorded by a crashed episode or an earlier run) or follows (the step moved on).
 * - readAttempt: the step's attempt as the ledger holds it (what a reply or recheck event means).
 * - expireJob: the job deadline passed: FAIL the job with TIMEOUT, CANCEL its unfinished steps and
 *   tell the worker holding the attempt, as on cancel.
 * - publishDirective: directive → the step's lane topic (same message id on a re-run, so the topic
 *   drops the copy), then PUBLISHED; logs `routing.resolved`. The directive carries the attempt's
 *   callback token, signed with the current key for its job, step, attempt and lease. A transport failure throws
 *   DirectivePublishError (the orchestrator records it as the attempt's DISPATCH_FAILED); a directive
 *   that breaks its contract fails the step as INVALID_INPUT.
 * - recordPublishFailure / resolveTimeout: FAIL the attempt (DISPATCH_FAILED, NOT_STARTED, which
 *   becomes ACK_TIMEOUT once the not-started budget is spent, LEASE_EXPIRED, TIMEOUT) unless the ledger shows it moved on meanwhile (`decideFiredTimer`: a
 *   timer whose attempt did not change since it was armed always decides).
 * - finishJob: SUCCEED or FAIL the job (the tenant's in-flight slot is released once, by the ledger).
 * - cancelJob: CANCEL the job and its unfinished steps; tells the worker holding the attempt.
 * Every answer that concerns an attempt is its AttemptView as the ledger holds it after the call.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/settings';
import type { Clock } from '../domain/clock';
import { runDeadline } from '../domain/admission';
import { decideFiredTimer, decideTimeout, toAttemptView, type AttemptView } from '../domain/attempt';
import { InvalidTransitionError } from '../domain/errors';
import type { JobFailure, JobStatus } from '../domain/job';
import { isTerminalStepStatus, type Step, type StepEvent } from '../domain/step';
import { JobNotFoundError, StepNotFoundError } from '../ledger/errors';
import type { JobLedger, JobWithSteps } from '../ports/job-ledger';
import { buildCancelDirective, buildDirective } from '../contracts/build-directive';
import type { DirectivePublisher } from '../ports/directive-publisher';
import { InvalidDirectiveError } from '../messaging/errors';
import type {
  AttemptRef,
  CancelJobInput,
  DispatchStepInput,
  ExpireJobInput,
  FinishJobInput,
  JobPlan,
  PublishFailedInput,
  RecordAttemptInput,
  ResolveTimeoutInput,
  SettleAnswer,
  SettleAttemptInput,
  SlotAnswer,
  SlotInput,
  StartOptions,
  StepRef,
} from '../contracts/job-protocol';
import { PLAN_REVISION } from '../contracts/job-protocol';
import type { JobOrchestrationInput } from '../ports/orchestration-starter';
import type { DispatchSlots } from '../ports/dispatch-slots';
import type { OrchestrationSignals } from '../ports/orchestration-signals';
import { acquireSlot as acquireIn, type SlotPolicy } from '../domain/dispatch-slots';
import { giveSlotBack, tellGranted } from './slot-handover';
import type { Telemetry } from '../ports/telemetry';
import { issueCallbackToken, type CallbackKeyRing } from '../guards/callback-token';
import { jobFinished, stepChanged, telemetryOf } from './lifecycle-telemetry';

/** A structured log line: an event name and its fields. */
export type EventLog = (event: string, fields: Readonly<Record<string, unknown>>) => void;

export interface JobActivityDeps {
  readonly ledger: JobLedger;
  readonly publisher: DirectivePublisher;
  readonly clock: Clock;
  readonly settings: Pick<Settings, 'steps' | 'serviceBus' | 'sweep'>;
  /** Lifecycle events and metrics of the changes the activities make (silent when absent). */
  readonly telemetry?: Telemetry;
  /** Signs each directive's callback token with the current key. */
  readonly callbackKeys: CallbackKeyRing;
  /** The dispatch slots per lane and step type (flow control). */
  readonly slots: DispatchSlots;
  /** Tells a waiter's orchestration it got a slot; without it the waiter finds out by its recheck timer. */
  readonly signals?: OrchestrationSignals;
}

/** How often a step waiting for a slot looks again by itself (a lost `slot` signal costs at most this). */
export const SLOT_RECHECK_SECONDS = 30;

/** The slot policy the settings give. */
export function slotPolicy(settings: Pick<Settings, 'steps' | 'sweep'>): SlotPolicy {
  return {
    limit: settings.steps.maxOutstandingPerLane,
    // A holder is first checked once its ACK deadline (and the timer grace) has passed.
    checkAfterMs: (settings.steps.ackTimeoutSeconds + settings.sweep.timerGraceSeconds) * 1000,
  };
}

export async function startJob(
  deps: JobActivityDeps,
  input: JobOrchestrationInput & StartOptions,
  log: EventLog = () => undefined,
): Promise<JobPlan> {
  const { ledger, clock, settings } = deps;
  try {
    await ledger.applyJobEvent(input.jobId, { type: 'START' }, clock.now());
  } catch (error) {
    // A job that ended before its orchestration began (cancelled meanwhile) is not an error: the
    // plan shows its status and the orchestration ends there.
    if (!(error instanceof InvalidTransitionError)) throw error;
  }
  const { job, steps } = await load(ledger, input.jobId);
  const first =
    input.dispatchFirst === true && job.status === 'RUNNING' ? firstToDispatch(job, steps) : undefined;
  const answer =
    first === undefined ? undefined : await dispatchLoaded(deps, { job, step: first.step }, first.input, log);
  return {
    jobId: job.jobId,
    status: job.status,
    inputRef: job.inputRef,
    steps: steps.map((step) => ({
      ...(step.stepId === first?.step.stepId && answer !== undefined ? answer.view : toAttemptView(step)),
      index: step.index,
      type: step.type,
    })),
    revision: PLAN_REVISION,
    timings: {
      ackTimeoutSeconds: settings.steps.ackTimeoutSeconds,
      maxAttempts: settings.steps.maxAttempts,
      slotRecheckSeconds: Math.min(SLOT_RECHECK_SECONDS, settings.steps.ackTimeoutSeconds),
    },
    deadlineAt: runDeadline(job, settings.sweep.jobTimeoutSeconds, clock.now()),
    ...(first === undefined || answer === undefined
      ? {}
      : { asked: { stepId: first.step.stepId, attemptNo: first.input.attemptNo, granted: answer.granted } }),
  };
}

/**
 * The step a run starts with, when it can be dispatched at once (PENDING, or FAILED_RETRY, which a
 * run dispatches without waiting its backoff), with its input: the output of the last step that
 * SUCCEEDED before it, else the job's input.
 */
function firstToDispatch(
  job: JobWithSteps['job'],
  steps: readonly Step[],
): { readonly step: Step; readonly input: DispatchStepInput } | undefined {
  let inputRef = job.inputRef;
  for (const step of steps) {
    if (step.status === 'SUCCEEDED') {
      inputRef = step.outputRef ?? inputRef;
      continue;
    }
    if (step.status !== 'PENDING' && step.status !== 'FAILED_RETRY') return undefined;
    return {
      step,
      input: { jobId: job.jobId, stepId: step.stepId, attemptNo: step.attemptNo + 1, inputRef },
    };
  }
  return undefined;
}

/**
 * Revision 3: takes a dispatch slot for the attempt, records it and publishes its directive, in one
 * activity. Answers as acquireSlot does: not granted while the step waits for a slot (WAITING_SLOT)
 * or when it moved on before this attempt; granted, with the attempt as published (or failed to
 * publish), once the attempt is recorded. Idempotent: run again after it recorded the attempt, it
 * publishes that attempt again if it is still DISPATCHING (same message id: the topic drops a copy
 * already sent) and answers granted.
 */
export async function dispatchStep(
  deps: JobActivityDeps,
  input: DispatchStepInput,
  log: EventLog = () => undefined,
): Promise<SlotAnswer> {
  return dispatchLoaded(deps, await loadJobStep(deps.ledger, input), input, log);
}

async function dispatchLoaded(
  deps: JobActivityDeps,
  loaded: { readonly job: JobWithSteps['job']; readonly step: Step },
  input: DispatchStepInput,
  log: EventLog,
): Promise<SlotAnswer> {
  const { job } = loaded;
  let { step } = loaded;
  if (isDispatchable(step, input.attemptNo)) {
    const slot = await acquireLoaded(deps, loaded, input);
    if (!slot.granted) return slot;
    const now = deps.clock.now();
    const ackDeadline = new Date(now.getTime() + deps.settings.steps.ackTimeoutSeconds * 1000);
    step = await recordStep(deps, loaded, {
      ...input,
      leaseId: randomUUID(),
      ackDeadline: ackDeadline.toISOString(),
    });
  }
  // Not this attempt (the step moved on before it): nothing was taken for it.
  if (step.attemptNo !== input.attemptNo || step.leaseId === undefined) {
    return { granted: false, view: toAttemptView(step) };
  }
  // The attempt is recorded (now, or by an earlier run of this activity, which took its slot).
  if (step.status === 'DISPATCHING') {
    const ref = { jobId: job.jobId, stepId: step.stepId, attemptNo: step.attemptNo, leaseId: step.leaseId };
    return { granted: true, view: await publishLoaded(deps, job, step, ref, log, { recordFailure: true }) };
  }
  return { granted: true, view: toAttemptView(step) };
}

/**
 * Revision 3: the read a RESULT's event makes the orchestration do (as readAttempt), and when the step
 * SUCCEEDED, what comes next in the same activity: the next step's dispatch (as dispatchStep) or,
 * after the last step, the job's success (as finishJob).
 */
export async function settleAttempt(
  deps: JobActivityDeps,
  input: SettleAttemptInput,
  log: EventLog = () => undefined,
): Promise<SettleAnswer> {
  const { job, steps } = await load(deps.ledger, input.jobId);
  const step = findStep(steps, input);
  const view = toAttemptView(step);
  const then = input.then;
  if (step.status !== 'SUCCEEDED' || then === undefined) return { view };
  if (then.kind === 'finish') {
    return { view, status: await finishJob(deps, { jobId: input.jobId, outcome: 'SUCCEEDED' }) };
  }
  const next = findStep(steps, { jobId: input.jobId, stepId: then.stepId });
  const dispatch: DispatchStepInput = {
    jobId: input.jobId,
    stepId: then.stepId,
    attemptNo: then.attemptNo,
    inputRef: step.outputRef ?? then.inputRef,
  };
  return { view, next: await dispatchLoaded(deps, { job, step: next }, dispatch, log) };
}

export async function recordAttempt(deps: JobActivityDeps, input: RecordAttemptInput): Promise<AttemptView> {
  return toAttemptView(await recordStep(deps, await loadJobStep(deps.ledger, input), input));
}

/**
 * DISPATCH attempt `attemptNo` under the lease and ACK deadline given, on the job and step as just
 * read, when the step can take it. Recorded by an earlier run of the activity, held under another
 * lease, or moved on: the ledger's step is the answer (also when a concurrent writer, a crashed
 * episode's activity still running, records it first).
 */
async function recordStep(
  deps: JobActivityDeps,
  { job, step }: { readonly job: JobWithSteps['job']; readonly step: Step },
  input: RecordAttemptInput,
): Promise<Step> {
  if (!isDispatchable(step, input.attemptNo)) return step;
  return applyStep(
    deps,
    input,
    {
      type: 'DISPATCH',
      attemptNo: input.attemptNo,
      leaseId: input.leaseId,
      inputRef: input.inputRef,
      ackDeadline: input.ackDeadline,
    },
    job,
  );
}

export async function dispatchAttempt(deps: JobActivityDeps, input: RecordAttemptInput): Promise<SlotAnswer> {
  const loaded = await loadJobStep(deps.ledger, input);
  const answer = await acquireLoaded(deps, loaded, input);
  if (!answer.granted) return answer;
  // Granted: the step was dispatchable when read, so the attempt is recorded from that read.
  return { granted: true, view: toAttemptView(await recordStep(deps, loaded, input)) };
}

export async function acquireSlot(deps: JobActivityDeps, input: SlotInput): Promise<SlotAnswer> {
  return acquireLoaded(deps, await loadJobStep(deps.ledger, input), input);
}

/** acquireSlot on the job and step as just read. */
async function acquireLoaded(
  deps: JobActivityDeps,
  { job, step }: { readonly job: JobWithSteps['job']; readonly step: Step },
  input: SlotInput,
): Promise<SlotAnswer> {
  const dispatchable = isDispatchable(step, input.attemptNo);
  // The step moved on (cancelled, or the attempt recorded by an earlier run): nothing to take.
  if (!dispatchable) return { granted: false, view: toAttemptView(step) };
  const now = deps.clock.now();
  const acquisition = await deps.slots.update({ lane: step.lane, stepType: step.type }, (row) =>
    acquireIn(
      row,
      { jobId: job.jobId, stepId: step.stepId, attemptNo: input.attemptNo, tenantId: job.tenantId },
      slotPolicy(deps.settings),
      now,
    ),
  );
  await tellGranted(deps.signals, acquisition.handedTo);
  if (acquisition.granted) return { granted: true, view: toAttemptView(step) };
  if (step.status === 'WAITING_SLOT') return { granted: false, view: toAttemptView(step) };
  return { granted: false, view: await applyOrReload(deps, input, { type: 'HOLD' }, job) };
}

export async function releaseSlot(deps: JobActivityDeps, input: SlotInput): Promise<number> {
  const { step } = await loadJobStep(deps.ledger, input);
  const release = await giveSlotBack(
    { ...deps, slotPolicy: slotPolicy(deps.settings) },
    { lane: step.lane, stepType: step.type },
    input,
    deps.clock.now(),
  );
  return release.handedTo.length;
}

export async function readAttempt(deps: JobActivityDeps, ref: StepRef): Promise<AttemptView> {
  return toAttemptView(await loadStep(deps.ledger, ref));
}

export async function publishDirective(
  deps: JobActivityDeps,
  ref: AttemptRef,
  log: EventLog,
): Promise<AttemptView> {
  const { job, step } = await loadJobStep(deps.ledger, ref);
  return publishLoaded(deps, job, step, ref, log, { recordFailure: false });
}

/**
 * Publishes the attempt `ref` names from the job and step as just read, then records it PUBLISHED.
 * A transport failure throws DirectivePublishError, or with `recordFailure` is recorded as the
 * attempt's DISPATCH_FAILED (as recordPublishFailure does); a directive that breaks its contract fails
 * the step as INVALID_INPUT.
 */
async function publishLoaded(
  deps: JobActivityDeps,
  job: JobWithSteps['job'],
  step: Step,
  ref: AttemptRef,
  log: EventLog,
  options: { readonly recordFailure: boolean },
): Promise<AttemptView> {
  const { publisher, clock, settings } = deps;
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
    callbackToken: issueCallbackToken(deps.callbackKeys.current, {
      jobId: job.jobId,
      stepId: step.stepId,
      attemptNo: ref.attemptNo,
      leaseId: ref.leaseId,
    }),
  });
  const topic = `${settings.serviceBus.topicPrefix}${step.lane}`;
  log('routing.resolved', {
    job_id: job.jobId,
    tenant_id: job.tenantId,
    step_id: step.stepId,
    step_type: step.type,
    attempt_no: ref.attemptNo,
    lane: step.lane,
    routing_key_used: job.routingKeyUsed,
    topic,
  });
  const tenant = { tenantId: job.tenantId };
  try {
    // The producer span: the directive message carries its context (Diagnostic-Id, traceparent).
    await telemetryOf(deps).span(
      `${topic} publish`,
      {
        kind: 'producer',
        attributes: {
          'messaging.system': 'servicebus',
          'messaging.operation.type': 'send',
          'messaging.destination.name': topic,
          job_id: job.jobId,
          tenant_id: job.tenantId,
          step_id: step.stepId,
          attempt_no: ref.attemptNo,
        },
      },
      () => publisher.publish(directive),
    );
  } catch (error) {
    if (!(error instanceof InvalidDirectiveError)) {
      if (!options.recordFailure) throw error;
      return failPublish(deps, ref, messageOf(error), tenant);
    }
    return applyOrReload(
      deps,
      ref,
      {
        type: 'FAIL',
        attemptNo: ref.attemptNo,
        leaseId: ref.leaseId,
        failureClass: 'INVALID_INPUT',
        message: error.message,
        maxAttempts: settings.steps.maxAttempts,
        backoff: settings.steps.backoff,
      },
      tenant,
    );
  }
  return applyOrReload(
    deps,
    ref,
    { type: 'PUBLISHED', attemptNo: ref.attemptNo, leaseId: ref.leaseId },
    tenant,
  );
}

export async function recordPublishFailure(
  deps: JobActivityDeps,
  input: PublishFailedInput,
): Promise<AttemptView> {
  const { job, step } = await loadJobStep(deps.ledger, input);
  if (step.attemptNo !== input.attemptNo || step.leaseId !== input.leaseId || step.status !== 'DISPATCHING')
    return toAttemptView(step);
  return failPublish(deps, input, input.message, job);
}

/** FAIL the attempt as DISPATCH_FAILED: its directive could not be published. */
function failPublish(
  deps: JobActivityDeps,
  ref: AttemptRef,
  message: string,
  job: { readonly tenantId?: string },
): Promise<AttemptView> {
  return applyOrReload(
    deps,
    ref,
    {
      type: 'FAIL',
      attemptNo: ref.attemptNo,
      leaseId: ref.leaseId,
      failureClass: 'DISPATCH_FAILED',
      message: `publishing the directive failed: ${message}`,
      maxAttempts: deps.settings.steps.maxAttempts,
      backoff: deps.settings.steps.backoff,
    },
    job,
  );
}

export async function resolveTimeout(
  deps: JobActivityDeps,
  input: ResolveTimeoutInput,
): Promise<AttemptView> {
  const { job, step } = await loadJobStep(deps.ledger, input);
  const check = {
    attemptNo: input.attemptNo,
    leaseId: input.leaseId,
    timeout: input.timeout,
    deadline: input.deadline,
    maxAttempts: deps.settings.steps.maxAttempts,
    backoff: deps.settings.steps.backoff,
    maxNotStarted: deps.settings.steps.maxNotStarted,
  };
  const event =
    input.held === undefined ? decideTimeout(step, check) : decideFiredTimer(step, check, input.held);
  if (event === undefined) return toAttemptView(step);
  return applyOrReload(deps, input, event, job);
}

export async function finishJob(deps: JobActivityDeps, input: FinishJobInput): Promise<JobStatus> {
  const event =
    input.outcome === 'SUCCEEDED'
      ? ({ type: 'SUCCEED' } as const)
      : ({ type: 'FAIL', failure: input.failure } as const);
  try {
    const { next, changed } = await deps.ledger.applyJobEvent(input.jobId, event, deps.clock.now());
    if (changed) jobFinished(telemetryOf(deps), next);
    return next.status;
  } catch (error) {
    // The job ended otherwise meanwhile (cancelled): that is its outcome.
    if (!(error instanceof InvalidTransitionError)) throw error;
    return (await load(deps.ledger, input.jobId)).job.status;
  }
}

export async function cancelJob(deps: JobActivityDeps, input: CancelJobInput): Promise<JobStatus> {
  const status = await cancelInLedger(
    deps.ledger,
    input.jobId,
    input.reason,
    deps.clock.now(),
    telemetryOf(deps),
  );
  if (input.attempt !== undefined) await callOff(deps, input.attempt, input.reason);
  return status;
}

export const JOB_DEADLINE_REASON = 'the job deadline passed';

/**
 * The job deadline passed: FAIL the job with TIMEOUT (naming the step it was at), CANCEL the steps
 * that had not ended (the state machine's way to end a step whatever its state), and tell the worker
 * holding the attempt to stop. A job that ended otherwise meanwhile keeps its outcome.
 */
export async function expireJob(deps: JobActivityDeps, input: ExpireJobInput): Promise<JobStatus> {
  const { ledger, clock } = deps;
  const failure: JobFailure = {
    stepId: input.stepId,
    failureClass: 'TIMEOUT',
    message: `${JOB_DEADLINE_REASON} (${input.deadlineAt})`,
  };
  let status: JobStatus;
  try {
    const { next, changed } = await ledger.applyJobEvent(input.jobId, { type: 'FAIL', failure }, clock.now());
    if (changed) jobFinished(telemetryOf(deps), next);
    status = next.status;
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return (await load(ledger, input.jobId)).job.status;
  }
  await cancelUnfinishedSteps(ledger, input.jobId, JOB_DEADLINE_REASON, clock.now());
  if (input.attempt !== undefined) await callOff(deps, input.attempt, JOB_DEADLINE_REASON);
  return status;
}

/** Only the attempt that was handed to a worker (and did not finish otherwise) is called off. */
async function callOff(
  deps: JobActivityDeps,
  attempt: AttemptRef,
  reason: string | undefined,
): Promise<void> {
  const { ledger, publisher, clock, settings } = deps;
  const { job, steps } = await load(ledger, attempt.jobId);
  const step = findStep(steps, attempt);
  if (step.attemptNo !== attempt.attemptNo || step.leaseId !== attempt.leaseId) return;
  if (step.status !== 'CANCELLED') return;
  await publisher.publish(
    buildCancelDirective({
      job,
      step,
      attempt: { attemptNo: attempt.attemptNo, leaseId: attempt.leaseId },
      replyPrefix: settings.serviceBus.replyPrefix,
      issuedAt: clock.now(),
      ...(reason === undefined ? {} : { reason }),
    }),
  );
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
  telemetry?: Telemetry,
): Promise<JobStatus> {
  let status: JobStatus;
  try {
    const { next, changed } = await ledger.applyJobEvent(
      jobId,
      { type: 'CANCEL', ...(reason === undefined ? {} : { reason }) },
      now,
    );
    if (changed && telemetry !== undefined) jobFinished(telemetry, next);
    status = next.status;
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return (await load(ledger, jobId)).job.status;
  }
  await cancelUnfinishedSteps(ledger, jobId, reason, now);
  return status;
}

async function cancelUnfinishedSteps(
  ledger: JobLedger,
  jobId: string,
  reason: string | undefined,
  now: Date,
): Promise<void> {
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
}

/**
 * Applies an attempt's event (and tells what it changed); when the step moved on meanwhile, answers
 * the step as it is.
 */
async function applyOrReload(
  deps: JobActivityDeps,
  ref: Pick<AttemptRef, 'jobId' | 'stepId'>,
  event: StepEvent,
  job: { readonly tenantId?: string } = {},
): Promise<AttemptView> {
  return toAttemptView(await applyStep(deps, ref, event, job));
}

/** applyOrReload, answering the step itself. */
async function applyStep(
  deps: JobActivityDeps,
  ref: Pick<AttemptRef, 'jobId' | 'stepId'>,
  event: StepEvent,
  job: { readonly tenantId?: string } = {},
): Promise<Step> {
  try {
    const now = deps.clock.now();
    const { next, changed } = await deps.ledger.applyStepEvent(ref.jobId, ref.stepId, event, now);
    if (changed) {
      stepChanged(telemetryOf(deps), event, next, {
        now,
        ...(job.tenantId === undefined ? {} : { tenantId: job.tenantId }),
      });
    }
    return next;
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return loadStep(deps.ledger, ref);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The step can take attempt `attemptNo` now (it is not in flight, ended, or past that attempt). */
function isDispatchable(step: Step, attemptNo: number): boolean {
  return (
    (step.status === 'PENDING' || step.status === 'FAILED_RETRY' || step.status === 'WAITING_SLOT') &&
    step.attemptNo + 1 === attemptNo
  );
}

async function load(ledger: JobLedger, jobId: string): Promise<JobWithSteps> {
  const found = await ledger.getJob(jobId);
  if (found === undefined) throw new JobNotFoundError(jobId);
  return found;
}

async function loadJobStep(
  ledger: JobLedger,
  ref: Pick<AttemptRef, 'jobId' | 'stepId'>,
): Promise<{ readonly job: JobWithSteps['job']; readonly step: Step }> {
  const { job, steps } = await load(ledger, ref.jobId);
  return { job, step: findStep(steps, ref) };
}

async function loadStep(ledger: JobLedger, ref: Pick<AttemptRef, 'jobId' | 'stepId'>): Promise<Step> {
  return findStep((await load(ledger, ref.jobId)).steps, ref);
}

function findStep(steps: readonly Step[], ref: Pick<AttemptRef, 'jobId' | 'stepId'>): Step {
  const step = steps.find((s) => s.stepId === ref.stepId);
  if (step === undefined) throw new StepNotFoundError(ref.jobId, ref.stepId);
  return step;
}
