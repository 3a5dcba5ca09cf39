/**
 * `jobOrchestrator`: one instance per job (instance id = job id) runs the job's steps in order
 * through external workers. Deterministic: time, ids, waits and side effects go through
 * `context.df` only, and every decision is the domain's (`attemptOutcome`, `mergeAttemptViews`,
 * the step state machine inside the activities).
 *
 * Per step, per attempt:
 *   1. recordAttempt: attempt n+1 with a lease id from `context.df.newGuid`, written before publishing;
 *   2. publishDirective (a failed publish is the attempt's DISPATCH_FAILED, retried on the dispatch backoff);
 *   3. wait for the attempt's reply events against the ACK deadline; once ACKed (a RESULT before the
 *      ACK counts as both), against the lease (heartbeats extend it) and the step result deadline;
 *      a timer that fires is checked against the ledger (resolveTimeout) before it counts;
 *   4. on FAILED_RETRY wait the backoff the state machine chose, then attempt n+2; on SUCCEEDED
 *      pass the step's output_ref to the next step as its input_ref; on FAILED_FINAL fail the job.
 * A `cancel` event is watched during every wait: the job is cancelled at its current step and the
 * worker holding the attempt is told. Every timer that loses a race is cancelled.
 *
 * Steps already SUCCEEDED (a redriven job) are skipped, their outputs kept.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from 'durable-functions';
import {
  attemptOutcome,
  mergeAttemptViews,
  type AttemptOutcome,
  type AttemptTimeout,
  type AttemptView,
} from '../domain/attempt';
import { assertNever, type JobFailure } from '../domain/job';
import type { StepFailure } from '../domain/step';
import {
  CANCEL_EVENT,
  replyEventName,
  type AttemptRef,
  type CancelEvent,
  type CancelJobInput,
  type FinishJobInput,
  type JobCustomStatus,
  type JobOutput,
  type JobPlan,
  type PlannedStep,
  type PublishFailedInput,
  type RecordAttemptInput,
  type ReplyEvent,
  type ResolveTimeoutInput,
  type StepSummary,
} from './job-protocol';
import type { JobOrchestrationInput } from './orchestration-starter';

type ActivityCall<I> = (input: I) => Task;

/** The activities the orchestrator calls, as the handles `df.app.activity` returned. */
export interface JobActivities {
  readonly startJob: ActivityCall<JobOrchestrationInput>;
  readonly recordAttempt: ActivityCall<RecordAttemptInput>;
  readonly publishDirective: ActivityCall<AttemptRef>;
  readonly recordPublishFailure: ActivityCall<PublishFailedInput>;
  readonly resolveTimeout: ActivityCall<ResolveTimeoutInput>;
  readonly finishJob: ActivityCall<FinishJobInput>;
  readonly cancelJob: ActivityCall<CancelJobInput>;
}

/** Retries of an activity whose store or bus was briefly unreachable (each activity is idempotent). */
export const ACTIVITY_RETRY = new df.RetryOptions(2_000, 6);
ACTIVITY_RETRY.backoffCoefficient = 2;
ACTIVITY_RETRY.maxRetryIntervalInMilliseconds = 60_000;

type StepRun =
  | { readonly kind: 'succeeded'; readonly summary: StepSummary }
  | { readonly kind: 'failed'; readonly summary: StepSummary; readonly failure: StepFailure }
  | { readonly kind: 'cancelled'; readonly summary: StepSummary; readonly reason?: string };

export function jobOrchestrator(activities: JobActivities): OrchestrationHandler {
  const call = <I>(activity: ActivityCall<I>, input: I): Task =>
    (activity(input) as Task & { withRetry(options: df.RetryOptions): Task }).withRetry(ACTIVITY_RETRY);

  return function* orchestrate(context: OrchestrationContext): Generator<Task, JobOutput, unknown> {
    const input = context.df.getInput<JobOrchestrationInput>();
    const plan = (yield call(activities.startJob, input)) as JobPlan;
    const summaries: StepSummary[] = plan.steps.map((step) => summaryOf(step));
    if (plan.status !== 'RUNNING') return { jobId: plan.jobId, status: plan.status, steps: summaries };

    let inputRef = plan.inputRef;
    for (const [position, step] of plan.steps.entries()) {
      if (step.status === 'SUCCEEDED') {
        inputRef = step.outputRef ?? inputRef;
        continue;
      }
      const run: StepRun = yield* runStep(context, activities, call, plan, step, inputRef);
      summaries[position] = run.summary;
      if (run.kind === 'cancelled') {
        return { jobId: plan.jobId, status: 'CANCELLED', steps: cancelRest(summaries, position) };
      }
      if (run.kind === 'failed') {
        const failure: JobFailure = {
          stepId: step.stepId,
          failureClass: run.failure.failureClass,
          message: run.failure.message,
        };
        const status = (yield call(activities.finishJob, {
          jobId: plan.jobId,
          outcome: 'FAILED',
          failure,
        })) as JobOutput['status'];
        return { jobId: plan.jobId, status, failure, steps: summaries };
      }
      inputRef = run.summary.outputRef ?? inputRef;
    }
    const status = (yield call(activities.finishJob, {
      jobId: plan.jobId,
      outcome: 'SUCCEEDED',
    })) as JobOutput['status'];
    return { jobId: plan.jobId, status, outputRef: inputRef, steps: summaries };
  };
}

function* runStep(
  context: OrchestrationContext,
  activities: JobActivities,
  call: <I>(activity: ActivityCall<I>, input: I) => Task,
  plan: JobPlan,
  step: PlannedStep,
  inputRef: string,
): Generator<Task, StepRun, unknown> {
  const { jobId, timings } = plan;
  let attemptNo = step.attemptNo;
  for (;;) {
    attemptNo += 1;
    const ref: AttemptRef = {
      jobId,
      stepId: step.stepId,
      attemptNo,
      leaseId: context.df.newGuid(`${jobId}:${step.stepId}:${attemptNo}`),
    };
    const ackDeadline = after(context, timings.ackTimeoutSeconds * 1000);
    showStatus(context, step, attemptNo, 'DISPATCHING');
    let view = (yield call(activities.recordAttempt, { ...ref, inputRef, ackDeadline })) as AttemptView;
    if (view.status === 'DISPATCHING' && view.leaseId === ref.leaseId) {
      try {
        view = (yield activities.publishDirective(ref)) as AttemptView;
      } catch (publishError) {
        view = (yield call(activities.recordPublishFailure, {
          ...ref,
          message: messageOf(publishError),
        })) as AttemptView;
      }
    }

    const settled: Settled = yield* awaitAttempt(context, activities, call, step, ref, view);
    const summary: StepSummary = {
      stepId: step.stepId,
      status: settled.view.status,
      attempts: attemptNo,
      ...(settled.view.outputRef === undefined ? {} : { outputRef: settled.view.outputRef }),
    };
    const outcome = settled.outcome;
    switch (outcome.kind) {
      case 'succeeded':
        return { kind: 'succeeded', summary };
      case 'failed':
        return { kind: 'failed', summary, failure: outcome.failure };
      case 'cancelled':
        return yield* cancel(context, activities, call, jobId, summary, settled.cancelReason, ref);
      case 'retry': {
        const retryAt = after(context, outcome.delayMs);
        showStatus(context, step, attemptNo, 'RETRY_BACKOFF', retryAt);
        const backoff = context.df.createTimer(new Date(retryAt));
        const cancelled = context.df.waitForExternalEvent(CANCEL_EVENT);
        const winner = (yield context.df.Task.any([backoff, cancelled])) as Task;
        if (winner === cancelled) {
          backoff.cancel();
          return yield* cancel(context, activities, call, jobId, summary, reasonOf(cancelled.result));
        }
        break;
      }
      default:
        assertNever(outcome);
    }
  }
}

interface Settled {
  readonly view: AttemptView;
  readonly outcome: Exclude<AttemptOutcome, { kind: 'awaiting-ack' | 'in-progress' }>;
  readonly cancelReason?: string;
}

/** Waits until the attempt settles: replies, timers (checked against the ledger) or a cancel. */
function* awaitAttempt(
  context: OrchestrationContext,
  activities: JobActivities,
  call: <I>(activity: ActivityCall<I>, input: I) => Task,
  step: PlannedStep,
  ref: AttemptRef,
  first: AttemptView,
): Generator<Task, Settled, unknown> {
  let view = first;
  for (;;) {
    const outcome = attemptOutcome(view);
    if (outcome.kind !== 'awaiting-ack' && outcome.kind !== 'in-progress') return { view, outcome };
    showStatus(context, step, ref.attemptNo, view.status);

    const timers: Array<{ task: TimerTask; timeout: AttemptTimeout; deadline: string }> =
      outcome.kind === 'awaiting-ack'
        ? [timer(context, 'ack', outcome.ackDeadline)]
        : [timer(context, 'lease', outcome.leaseExpiresAt), timer(context, 'result', outcome.resultDeadline)];
    const reply = context.df.waitForExternalEvent(replyEventName(ref.stepId, ref.attemptNo, ref.leaseId));
    const cancelled = context.df.waitForExternalEvent(CANCEL_EVENT);
    const winner = (yield context.df.Task.any([reply, cancelled, ...timers.map((t) => t.task)])) as Task;
    for (const t of timers) if (t.task !== winner) t.task.cancel();

    if (winner === reply) {
      view = mergeAttemptViews(view, (reply.result as ReplyEvent).attempt);
    } else if (winner === cancelled) {
      return { view, outcome: { kind: 'cancelled' }, ...reasonField(cancelled.result) };
    } else {
      const fired = timers.find((t) => t.task === winner);
      if (fired === undefined) throw new Error('Task.any answered with a task it was not given');
      const resolved = (yield call(activities.resolveTimeout, {
        ...ref,
        timeout: fired.timeout,
        deadline: fired.deadline,
      })) as AttemptView;
      view = mergeAttemptViews(view, resolved);
    }
  }
}

function* cancel(
  context: OrchestrationContext,
  activities: JobActivities,
  call: <I>(activity: ActivityCall<I>, input: I) => Task,
  jobId: string,
  summary: StepSummary,
  reason: string | undefined,
  attempt?: AttemptRef,
): Generator<Task, StepRun, unknown> {
  context.df.setCustomStatus({ stepId: summary.stepId, state: 'CANCELLED' });
  yield call(activities.cancelJob, {
    jobId,
    ...(reason === undefined ? {} : { reason }),
    ...(attempt === undefined ? {} : { attempt }),
  });
  return {
    kind: 'cancelled',
    summary: { ...summary, status: 'CANCELLED' },
    ...(reason === undefined ? {} : { reason }),
  };
}

function timer(context: OrchestrationContext, timeout: AttemptTimeout, deadline: string) {
  return { task: context.df.createTimer(new Date(deadline)), timeout, deadline };
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

function summaryOf(step: PlannedStep): StepSummary {
  return {
    stepId: step.stepId,
    status: step.status,
    attempts: step.attemptNo,
    ...(step.outputRef === undefined ? {} : { outputRef: step.outputRef }),
  };
}

/** After a cancel, the steps that never ran show as cancelled, as the ledger records them. */
function cancelRest(summaries: readonly StepSummary[], from: number): StepSummary[] {
  return summaries.map((summary, i) =>
    i > from && summary.status === 'PENDING' ? { ...summary, status: 'CANCELLED' } : summary,
  );
}

function reasonOf(payload: unknown): string | undefined {
  const reason = (payload as CancelEvent | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

function reasonField(payload: unknown): { cancelReason?: string } {
  const reason = reasonOf(payload);
  return reason === undefined ? {} : { cancelReason: reason };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
