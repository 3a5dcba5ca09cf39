/**
 * `jobOrchestrator`: one instance per job (instance id = job id) runs the job's steps in order
 * through external workers. Deterministic: time, ids, waits and side effects go through
 * `context.df` only, and every decision is the domain's (`nextMove`, `attemptDeadlines`,
 * `passedDeadline`, the step state machine inside the activities).
 *
 * The ledger is the truth: each step is driven by its attempt as the ledger holds it (the plan of
 * `startJob`, then what every activity answers), never by an event's payload.
 *   0. slot: before an attempt is recorded, the step takes a dispatch slot on its lane for its type
 *      (flow control, domain/dispatch-slots.ts). With none free, the step waits in the ledger
 *      (WAITING_SLOT) for the `slot` event a release raises, or its recheck timer, whichever comes
 *      first, then asks again; so the ACK deadline starts only once the directive can be read soon.
 *      The slot is given back (`releaseSlot`) as soon as the attempt ended (ACK timeout, failure) and
 *      when the job is cancelled or times out; an attempt that SUCCEEDED was given back by the
 *      RESULT's ingestion (plan revision 2; the lease sweeper repairs a release lost there).
 *   1. dispatch: attempt n+1 with a fresh lease is recorded before publishing. Plan revision 3:
 *      one activity takes the slot, records the attempt and publishes it (`dispatchStep`, answering
 *      the attempt as published, or "waiting for a slot"); `startJob` does so for the first
 *      unfinished step (the plan's `asked`), and `settleAttempt` for the next step after a success.
 *      When the ledger already holds an attempt (recorded under another lease by a crashed episode
 *      or an earlier run of the instance), the answer is that attempt and the orchestration adopts it.
 *   Older plans replay as they were written (contracts/job-protocol.ts, PLAN_REVISION and
 *   `planRevision`): revision 2 takes the slot and records in one activity (`dispatchAttempt`, lease
 *   from `context.df.newGuid`), then publishes (`publishDirective`) and reads after a RESULT
 *   (`readAttempt`); revision 1 takes the slot (`acquireSlot`), then records (`recordAttempt`), and
 *   releases the slot after any end of the attempt; revision 0 takes no slots at all.
 *   2. publish: a DISPATCHING attempt this run has not published (adopted, or one whose PUBLISHED
 *      write was lost) is published under the ledger's lease (same message id: the topic drops a
 *      copy already sent). A failed publish is the attempt's DISPATCH_FAILED.
 *   3. wait on an attempt in flight: its reply event (`reply:{step}:{attempt}:{lease}` of the ledger's
 *      lease, raised for a RESULT only), its deadlines (ACK; then the lease and the step result
 *      deadline), `cancel`, `recheck` and the job deadline. A reply only makes the orchestration read
 *      the attempt (`settleAttempt`, which after a success also dispatches the next step or finishes
 *      the job; `readAttempt` in older revisions). An ACK or heartbeat wakes nothing: the timer armed before it
 *      resolves to the ledger's ACKed (or extended) attempt and the wait re-arms on its deadlines. A
 *      fired timer is resolved in the ledger (`resolveTimeout`, which fails the attempt when the
 *      ledger's view did not change since the timer was armed), so every wait either sees a changed
 *      view, re-arms on a later deadline or ends the attempt: it never loops.
 *   4. FAILED_RETRY: wait the backoff the state machine chose, then dispatch (at once when the run
 *      found the step so at its start: a redriven step, or a run replacing one that was lost);
 *      SUCCEEDED passes its output_ref on as the next step's input_ref; FAILED_FINAL fails the job.
 * `recheck` (raised by a sweeper): read the ledger now, resolve the attempt's deadlines that passed
 * by the orchestration's clock and, with `redispatch`, publish a DISPATCHING attempt again.
 * `cancel`: the job is cancelled at its current step and the worker holding the attempt is told.
 * The job deadline (`plan.deadlineAt`): the job fails with TIMEOUT, its unfinished steps are
 * CANCELLED and the worker holding the attempt is told, as on cancel. Timers that lose a race are
 * cancelled.
 *
 * Steps already SUCCEEDED (a redriven or restarted job) are skipped, their outputs kept.
 *
 * Tracing: the input's `trace` (the admission's trace context) goes into every activity input; the
 * activities make the spans (functions/orchestration.ts), never this replaying code.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from 'durable-functions';
import {
  attemptDeadlines,
  attemptKey,
  AttemptViewError,
  isInFlight,
  nextMove,
  passedDeadline,
  slotFreed,
  type ArmedDeadline,
  type AttemptView,
} from '../domain/attempt';
import { assertNever, type JobFailure, type JobStatus } from '../domain/job';
import type { StepFailure } from '../domain/step';
import {
  CANCEL_EVENT,
  RECHECK_EVENT,
  planRevision,
  replyEventName,
  SLOT_EVENT,
  type AttemptRef,
  type CancelEvent,
  type JobCustomStatus,
  type JobOutput,
  type JobPlan,
  type PlannedStep,
  type RecheckEvent,
  type SettleAnswer,
  type SettleNext,
  type SlotAnswer,
  type StepSummary,
} from '../contracts/job-protocol';
import type { TraceCarrier } from '../ports/telemetry';
import type { ActivityInput, ActivityOutput, JobActivities, JobActivityName } from './activity-handles';

/** The orchestration's registered name; its instances are named by job id. */
export const JOB_ORCHESTRATOR_NAME = 'jobOrchestrator';

/** Retries of an activity whose store or bus was briefly unreachable (each activity is idempotent). */
export const ACTIVITY_RETRY = new df.RetryOptions(2_000, 6);
ACTIVITY_RETRY.backoffCoefficient = 2;
ACTIVITY_RETRY.maxRetryIntervalInMilliseconds = 60_000;

/** The value a yielded task completed with, as Durable hands it back (the one unavoidable cast). */
function* completed<T>(task: Task): Generator<Task, T, unknown> {
  return (yield task) as T;
}

type Call = <K extends JobActivityName>(
  name: K,
  input: ActivityInput<K>,
  options?: { readonly retry: boolean },
) => Generator<Task, ActivityOutput<K>, unknown>;

/**
 * Calls activities with the job's trace context (from the orchestration's input) added to each
 * input, so every activity's span joins the job's trace. No span is made here: orchestrator code
 * replays.
 */
function caller(activities: JobActivities, trace: TraceCarrier | undefined): Call {
  return function* call(name, input, options = { retry: true }) {
    const task = activities[name](trace === undefined ? input : { ...input, trace });
    return yield* completed(options.retry ? task.withRetry(ACTIVITY_RETRY) : task);
  };
}

interface Run {
  readonly context: OrchestrationContext;
  readonly plan: JobPlan;
  readonly call: Call;
  /** See PLAN_REVISION: how this run takes slots and dispatches (kept from its plan for its life). */
  readonly revision: number;
}

/** A dispatch slot asked for a step's attempt by the activity before this step's run began. */
interface Asked {
  readonly stepId: string;
  readonly attemptNo: number;
  readonly answer: SlotAnswer;
}

type StepRun =
  /** `settled`: what settleAttempt did after the step's success (revision 3). */
  | { readonly kind: 'succeeded'; readonly summary: StepSummary; readonly settled?: SettleAnswer }
  | { readonly kind: 'failed'; readonly summary: StepSummary; readonly failure: StepFailure }
  | { readonly kind: 'cancelled'; readonly summary: StepSummary; readonly status: JobStatus }
  | {
      readonly kind: 'expired';
      readonly summary: StepSummary;
      readonly status: JobStatus;
      readonly failure: JobFailure;
    };

export function jobOrchestrator(activities: JobActivities): OrchestrationHandler {
  return function* orchestrate(context: OrchestrationContext): Generator<Task, JobOutput, unknown> {
    const input = context.df.getInput<ActivityInput<'startJob'>>();
    const call = caller(activities, input.trace);
    const plan = yield* call('startJob', { ...input, dispatchFirst: true });
    const summaries: StepSummary[] = plan.steps.map((step) => summaryOf(step));
    if (plan.status !== 'RUNNING') return { jobId: plan.jobId, status: plan.status, steps: summaries };
    const run: Run = { context, plan, call, revision: planRevision(plan) };

    let inputRef = plan.inputRef;
    // What startJob (then each settleAttempt) asked for the step it dispatched.
    let asked: Asked | undefined =
      plan.asked === undefined
        ? undefined
        : { ...plan.asked, answer: { granted: plan.asked.granted, view: viewIn(plan, plan.asked.stepId) } };
    let finished: JobStatus | undefined;
    for (const [position, planned] of plan.steps.entries()) {
      if (planned.status === 'SUCCEEDED') {
        inputRef = planned.outputRef ?? inputRef;
        continue;
      }
      const first = asked?.stepId === planned.stepId ? asked : undefined;
      const step: PlannedStep = first === undefined ? planned : { ...planned, ...first.answer.view };
      const then = settleNext(run, plan.steps.slice(position + 1), inputRef);
      const result: StepRun = yield* runStep(run, step, inputRef, first, then);
      asked = undefined;
      summaries[position] = result.summary;
      switch (result.kind) {
        case 'succeeded': {
          inputRef = result.summary.outputRef ?? inputRef;
          const { settled } = result;
          if (settled?.next !== undefined && then?.kind === 'dispatch') {
            asked = { stepId: then.stepId, attemptNo: then.attemptNo, answer: settled.next };
          }
          if (settled?.status !== undefined) finished = settled.status;
          break;
        }
        case 'cancelled':
          return { jobId: plan.jobId, status: result.status, steps: cancelRest(summaries, position) };
        case 'expired':
          return {
            jobId: plan.jobId,
            status: result.status,
            ...(result.status === 'FAILED' ? { failure: result.failure } : {}),
            steps: cancelRest(summaries, position),
          };
        case 'failed': {
          const failure: JobFailure = {
            stepId: step.stepId,
            failureClass: result.failure.failureClass,
            message: result.failure.message,
          };
          const status = yield* call('finishJob', { jobId: plan.jobId, outcome: 'FAILED', failure });
          return { jobId: plan.jobId, status, failure, steps: summaries };
        }
        default:
          assertNever(result);
      }
    }
    const status = finished ?? (yield* call('finishJob', { jobId: plan.jobId, outcome: 'SUCCEEDED' }));
    return { jobId: plan.jobId, status, outputRef: inputRef, steps: summaries };
  };
}

/**
 * Revision 3: what settleAttempt does after the step's success: dispatch the next step that has not
 * SUCCEEDED when it is PENDING (its `inputRef` is the one the step ran with, in case the step left
 * no output), or finish the job after the last. Undefined: settle reads only (older revisions, or a
 * next step in another state, which the next step's run drives itself).
 */
function settleNext(run: Run, after: readonly PlannedStep[], inputRef: string): SettleNext | undefined {
  if (run.revision < 3) return undefined;
  const next = after.find((step) => step.status !== 'SUCCEEDED');
  if (next === undefined) return { kind: 'finish' };
  if (next.status !== 'PENDING') return undefined;
  return { kind: 'dispatch', stepId: next.stepId, attemptNo: next.attemptNo + 1, inputRef };
}

function viewIn(plan: JobPlan, stepId: string): AttemptView {
  const step = plan.steps.find((s) => s.stepId === stepId);
  if (step === undefined) throw new Error(`the plan has no step ${stepId}`);
  return step;
}

/**
 * Drives one step from the ledger's view of it until it ends, the job is cancelled or its deadline
 * passes. `asked`: a slot was already asked for (revision 3: by startJob or the previous step's
 * settleAttempt) and `step` is its answer's view. `then`: what settleAttempt does after a success.
 */
function* runStep(
  run: Run,
  step: PlannedStep,
  inputRef: string,
  asked: Asked | undefined,
  then: SettleNext | undefined,
): Generator<Task, StepRun, unknown> {
  const { context, plan, call, revision } = run;
  const { jobId } = plan;
  const stepRef = { jobId, stepId: step.stepId };
  let view: AttemptView = step;
  // A step this run found FAILED_RETRY is dispatched at once; later ones wait their backoff first
  // (so does one the activity that `asked` already dispatched at once, and whose attempt failed).
  let retryDue: string | undefined =
    asked === undefined && step.status === 'FAILED_RETRY' ? attemptKey(step) : undefined;
  let backoff: { readonly key: string; readonly until: string } | undefined;
  let settled: SettleAnswer | undefined;
  // The attempt this run holds a dispatch slot for, or waits for one for. An attempt in flight when
  // the run starts holds the slot the run before took for it, and so does an attempt the activity
  // that dispatched it was granted a slot for. A run of revision 0 takes no slots.
  const flowControl = revision >= 1;
  const slot: SlotState = !flowControl
    ? {}
    : asked?.answer.granted === true
      ? { held: asked.attemptNo }
      : isInFlight(step.status)
        ? { held: step.attemptNo }
        : {};
  let pending: Asked | undefined = asked;
  // Revision 3: an attempt granted a slot was also published by the activity that recorded it.
  const published = new Set<string>(
    revision >= 3 && asked?.answer.granted === true ? [attemptKey(asked.answer.view)] : [],
  );
  const attemptInput = (attemptNo: number): ActivityInput<'recordAttempt'> => {
    const leaseId = context.df.newGuid(`${jobId}:${step.stepId}:${attemptNo}`);
    showStatus(context, step, attemptNo, 'DISPATCHING');
    return {
      ...stepRef,
      attemptNo,
      leaseId,
      inputRef,
      ackDeadline: after(context, plan.timings.ackTimeoutSeconds * 1000),
    };
  };
  /** Asks for a slot for the attempt as the run's revision does (revision 3 also records and publishes). */
  function* askSlot(attemptNo: number): Generator<Task, SlotAnswer, unknown> {
    if (pending?.attemptNo === attemptNo) {
      const { answer } = pending;
      pending = undefined;
      return answer;
    }
    pending = undefined;
    if (revision >= 3) {
      showStatus(context, step, attemptNo, 'DISPATCHING');
      return yield* call('dispatchStep', { ...stepRef, attemptNo, inputRef });
    }
    if (revision === 2) return yield* call<'dispatchAttempt'>('dispatchAttempt', attemptInput(attemptNo));
    return yield* call('acquireSlot', { ...stepRef, attemptNo });
  }

  for (;;) {
    if (slot.held !== undefined && slotFreed(view, slot.held)) {
      if (!releasedByResult(revision, view, slot.held))
        yield* call('releaseSlot', { ...stepRef, attemptNo: slot.held });
      slot.held = undefined;
    }
    const move = nextMove(view, { published, ...(retryDue === undefined ? {} : { retryDue }) });
    switch (move.kind) {
      case 'dispatch': {
        if (flowControl && slot.held !== move.attemptNo) {
          slot.waiting = move.attemptNo;
          const answer = yield* askSlot(move.attemptNo);
          view = answer.view;
          if (!answer.granted) {
            if (view.status !== 'WAITING_SLOT') {
              // The step moved on: follow the ledger (an attempt in flight holds the slot taken for it).
              if (isInFlight(view.status)) slot.held = view.attemptNo;
              break;
            }
            showStatus(context, step, move.attemptNo, 'WAITING_SLOT');
            const recheckAt = after(context, (plan.timings.slotRecheckSeconds ?? 0) * 1000);
            const wake = yield* wait(run, [{ deadline: recheckAt }], SLOT_EVENT);
            switch (wake.kind) {
              case 'reply':
              case 'timer':
              case 'recheck':
                break; // ask again (a slot handed over answers granted)
              case 'cancel':
              case 'deadline':
                return yield* endedByJob(run, slot, stepRef, view, wake);
              default:
                assertNever(wake);
            }
            break;
          }
          slot.held = move.attemptNo;
          slot.waiting = undefined;
          if (revision >= 3) published.add(attemptKey(view));
          // Revision 2 recorded the attempt with the slot, revision 3 also published it.
          if (revision >= 2) break;
        }
        view = yield* call('recordAttempt', attemptInput(move.attemptNo));
        break;
      }
      case 'publish':
        published.add(attemptKey(view));
        view = yield* publish(run, refOf(jobId, view));
        break;
      case 'wait': {
        const ref = refOf(jobId, view);
        showStatus(context, step, view.attemptNo, view.status);
        const armed = attemptDeadlines(view).map((deadline) => ({
          deadline: deadline.deadline,
          armed: deadline,
        }));
        const wake = yield* wait(run, armed, replyEventName(ref.stepId, ref.attemptNo, ref.leaseId));
        switch (wake.kind) {
          case 'reply':
            if (revision >= 3) {
              const answer = yield* call('settleAttempt', {
                ...stepRef,
                ...(then === undefined ? {} : { then }),
              });
              view = answer.view;
              if (answer.next !== undefined || answer.status !== undefined) settled = answer;
            } else {
              view = yield* call('readAttempt', stepRef);
            }
            break;
          case 'recheck':
            view = yield* recheck(run, stepRef, wake.event);
            break;
          case 'timer':
            if (wake.armed === undefined) throw new Error('an attempt wait fired a timer it did not arm');
            view = yield* call('resolveTimeout', { ...ref, ...wake.armed, held: view });
            break;
          case 'cancel':
          case 'deadline':
            return yield* endedByJob(run, slot, stepRef, view, wake, ref);
          default:
            assertNever(wake);
        }
        break;
      }
      case 'backoff': {
        const key = attemptKey(view);
        if (backoff?.key !== key) backoff = { key, until: after(context, move.delayMs) };
        showStatus(context, step, view.attemptNo, 'RETRY_BACKOFF', backoff.until);
        const wake = yield* wait(run, [{ deadline: backoff.until }]);
        switch (wake.kind) {
          case 'timer':
            retryDue = key;
            break;
          case 'recheck':
          case 'reply':
            view = yield* call('readAttempt', stepRef);
            break;
          case 'cancel':
          case 'deadline':
            return yield* endedByJob(run, slot, stepRef, view, wake);
          default:
            assertNever(wake);
        }
        break;
      }
      case 'succeeded':
        return { kind: 'succeeded', summary: summaryOf(view), ...(settled === undefined ? {} : { settled }) };
      case 'failed':
        return { kind: 'failed', summary: summaryOf(view), failure: move.failure };
      case 'cancelled':
        // Cancelled in the ledger before the cancel event reached this run.
        return yield* letGo(
          run,
          slot,
          stepRef,
          yield* cancel(run, summaryOf(view), undefined, leased(jobId, view)),
        );
      default:
        assertNever(move);
    }
  }
}

/**
 * The slot held for `heldFor` was given back by the RESULT's ingestion, so the orchestration need not:
 * plan revision 2 and that attempt SUCCEEDED (only a RESULT succeeds an attempt). A release lost
 * there is repaired by the lease sweeper.
 */
function releasedByResult(revision: number, view: AttemptView, heldFor: number): boolean {
  return revision >= 2 && view.status === 'SUCCEEDED' && view.attemptNo === heldFor;
}

interface SlotState {
  /** The attempt a dispatch slot is held for. */
  held?: number;
  /** The attempt the step asked a slot for and may still be queued for. */
  waiting?: number;
}

/**
 * The step ended by a cancel or the job deadline: its slot goes back (or it leaves the queue), so
 * the next waiter on the lane gets it at once.
 */
function* letGo(
  run: Run,
  slot: SlotState,
  stepRef: { readonly jobId: string; readonly stepId: string },
  result: StepRun,
): Generator<Task, StepRun, unknown> {
  const attemptNo = slot.held ?? slot.waiting;
  if (attemptNo !== undefined) yield* run.call('releaseSlot', { ...stepRef, attemptNo });
  slot.held = undefined;
  slot.waiting = undefined;
  return result;
}

/**
 * A wait woken by `cancel` or the job deadline ends the step with the job (cancelled, or failed with
 * TIMEOUT); the worker holding `attempt`, if any, is told; the step's slot is let go.
 */
function* endedByJob(
  run: Run,
  slot: SlotState,
  stepRef: { readonly jobId: string; readonly stepId: string },
  view: AttemptView,
  wake: Extract<Wake, { readonly kind: 'cancel' | 'deadline' }>,
  attempt?: AttemptRef,
): Generator<Task, StepRun, unknown> {
  const ended =
    wake.kind === 'cancel'
      ? yield* cancel(run, summaryOf(view), wake.reason, attempt)
      : yield* expire(run, summaryOf(view), attempt);
  return yield* letGo(run, slot, stepRef, ended);
}

/** Publishes the attempt's directive; a transport failure is recorded as its DISPATCH_FAILED. */
function* publish(run: Run, ref: AttemptRef): Generator<Task, AttemptView, unknown> {
  try {
    return yield* run.call('publishDirective', ref, { retry: false });
  } catch (publishError) {
    return yield* run.call('recordPublishFailure', { ...ref, message: messageOf(publishError) });
  }
}

/** A sweeper asks for a look now: read the ledger, resolve a deadline that passed, re-publish if asked. */
function* recheck(
  run: Run,
  stepRef: ActivityInput<'readAttempt'>,
  event: RecheckEvent,
): Generator<Task, AttemptView, unknown> {
  let view = yield* run.call('readAttempt', stepRef);
  const passed = passedDeadline(view, run.context.df.currentUtcDateTime);
  if (passed !== undefined) {
    view = yield* run.call('resolveTimeout', { ...refOf(run.plan.jobId, view), ...passed, held: view });
  }
  if (event.redispatch === true && view.status === 'DISPATCHING') {
    view = yield* publish(run, refOf(run.plan.jobId, view));
  }
  return view;
}

type Wake =
  | { readonly kind: 'reply' }
  | { readonly kind: 'timer'; readonly armed?: ArmedDeadline }
  | { readonly kind: 'recheck'; readonly event: RecheckEvent }
  | { readonly kind: 'cancel'; readonly reason?: string }
  | { readonly kind: 'deadline' };

/**
 * One wait: the given timers, the reply event (if any), `cancel`, `recheck` and the job deadline,
 * whichever comes first. The timers that lost are cancelled.
 */
function* wait(
  run: Run,
  timers: ReadonlyArray<{ readonly deadline: string; readonly armed?: ArmedDeadline }>,
  replyEvent?: string,
): Generator<Task, Wake, unknown> {
  const { context, plan } = run;
  const armed: Array<{ readonly task: TimerTask; readonly armed?: ArmedDeadline }> = timers.map((t) => ({
    task: context.df.createTimer(new Date(t.deadline)),
    ...(t.armed === undefined ? {} : { armed: t.armed }),
  }));
  const jobDeadline = context.df.createTimer(new Date(plan.deadlineAt));
  const reply = replyEvent === undefined ? undefined : context.df.waitForExternalEvent(replyEvent);
  const cancelled = context.df.waitForExternalEvent(CANCEL_EVENT);
  const rechecked = context.df.waitForExternalEvent(RECHECK_EVENT);
  const tasks: Task[] = [
    ...(reply === undefined ? [] : [reply]),
    cancelled,
    rechecked,
    jobDeadline,
    ...armed.map((t) => t.task),
  ];
  const winner = yield* completed<Task>(context.df.Task.any(tasks));
  for (const timer of [jobDeadline, ...armed.map((t) => t.task)]) if (timer !== winner) timer.cancel();

  if (winner === reply) return { kind: 'reply' };
  if (winner === cancelled) return { kind: 'cancel', ...reasonField(cancelled.result) };
  if (winner === rechecked) return { kind: 'recheck', event: recheckOf(rechecked.result) };
  if (winner === jobDeadline) return { kind: 'deadline' };
  const fired = armed.find((t) => t.task === winner);
  if (fired === undefined) throw new Error('Task.any answered with a task it was not given');
  return { kind: 'timer', ...(fired.armed === undefined ? {} : { armed: fired.armed }) };
}

function* cancel(
  run: Run,
  summary: StepSummary,
  reason: string | undefined,
  attempt?: AttemptRef,
): Generator<Task, StepRun, unknown> {
  run.context.df.setCustomStatus({ stepId: summary.stepId, state: 'CANCELLED' });
  // The job's status after the cancel: CANCELLED, or the outcome it reached otherwise meanwhile.
  const status = yield* run.call('cancelJob', {
    jobId: run.plan.jobId,
    ...(reason === undefined ? {} : { reason }),
    ...(attempt === undefined ? {} : { attempt }),
  });
  return { kind: 'cancelled', summary: { ...summary, status: 'CANCELLED' }, status };
}

/** The job deadline passed: the job fails with TIMEOUT and the attempt's worker is told. */
function* expire(run: Run, summary: StepSummary, attempt?: AttemptRef): Generator<Task, StepRun, unknown> {
  const { plan } = run;
  run.context.df.setCustomStatus({ stepId: summary.stepId, state: 'CANCELLED' });
  const status = yield* run.call('expireJob', {
    jobId: plan.jobId,
    stepId: summary.stepId,
    deadlineAt: plan.deadlineAt,
    ...(attempt === undefined ? {} : { attempt }),
  });
  const failure: JobFailure = {
    stepId: summary.stepId,
    failureClass: 'TIMEOUT',
    message: `the job deadline passed (${plan.deadlineAt})`,
  };
  return { kind: 'expired', summary: { ...summary, status: 'CANCELLED' }, status, failure };
}

/** The attempt in flight as a reference for its activities; an attempt in flight always has a lease. */
function refOf(jobId: string, view: AttemptView): AttemptRef {
  const ref = leased(jobId, view);
  if (ref === undefined) throw new AttemptViewError(view, 'a lease');
  return ref;
}

function leased(jobId: string, view: AttemptView): AttemptRef | undefined {
  return view.leaseId === undefined
    ? undefined
    : { jobId, stepId: view.stepId, attemptNo: view.attemptNo, leaseId: view.leaseId };
}

function after(context: OrchestrationContext, ms: number): string {
  return new Date(context.df.currentUtcDateTime.getTime() + ms).toISOString();
}

function showStatus(
  context: OrchestrationContext,
  step: PlannedStep,
  attemptNo: number,
  state: JobCustomStatus['state'],
  retryAt?: string,
): void {
  const status: JobCustomStatus = {
    stepId: step.stepId,
    stepIndex: step.index,
    attemptNo,
    state,
    ...(retryAt === undefined ? {} : { retryAt }),
  };
  context.df.setCustomStatus(status);
}

function summaryOf(view: AttemptView): StepSummary {
  return {
    stepId: view.stepId,
    status: view.status,
    attempts: view.attemptNo,
    ...(view.outputRef === undefined ? {} : { outputRef: view.outputRef }),
  };
}

/** After a cancel or the job deadline, the steps that never ran show as cancelled, as the ledger records them. */
function cancelRest(summaries: readonly StepSummary[], from: number): StepSummary[] {
  return summaries.map((summary, i) =>
    i > from && summary.status === 'PENDING' ? { ...summary, status: 'CANCELLED' } : summary,
  );
}

function reasonField(payload: unknown): { reason?: string } {
  const reason = (payload as CancelEvent | undefined)?.reason;
  return typeof reason === 'string' ? { reason } : {};
}

function recheckOf(payload: unknown): RecheckEvent {
  const event = payload as Partial<RecheckEvent> | undefined;
  return {
    reason: typeof event?.reason === 'string' ? event.reason : 'recheck',
    ...(event?.redispatch === true ? { redispatch: true } : {}),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
