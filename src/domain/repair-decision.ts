/**
 * The sweepers' decision, pure: given a job as the ledger holds it (or its absence), its steps, what
 * the durable backend says of its orchestration and the time, which ONE repair the job needs, and
 * when a sweeper should look at it next. Nothing here reads a clock or a store; the sweep use case
 * loads the inputs, applies the repair and moves the job's `checkAt`.
 *
 * Decision order (the first that applies wins):
 *   1. no job row: an admission that died before writing it → IDEMPOTENCY_ORPHAN_REMOVED once the
 *      accept grace has passed since the entry was written;
 *   2. the job ended: its work-list entry was left behind → INDEX_CLEANED;
 *   3. past the run's deadline (`deadlineAt`, renewed by a redrive) by more than the timer grace: instance live → TIMER_RECHECKED (the
 *      orchestration fails it itself), instance gone → JOB_TIMED_OUT;
 *   4. ACCEPTED and no instance after the accept grace → ORCHESTRATION_STARTED;
 *   5. in flight and the instance ended or is missing (an ACCEPTED job with no instance at all is
 *      case 4) → ORCHESTRATION_RESTARTED while restarts remain, else ORCHESTRATION_LOST;
 *   6. instance live: a step DISPATCHING past the dispatch grace → DISPATCH_RETRIED; a step deadline
 *      passed by more than the timer grace → TIMER_RECHECKED.
 *
 * Which sweeper applies which repair: `drift` the orchestration and work-list repairs, `lease` the
 * deadline ones (`sweeperFor`). `nextCheckAt` is computed from every deadline whatever the kind, so
 * moving it never hides a deadline from the other sweeper.
 */
import { runDeadline } from './admission';
import { isTerminalJobStatus, type Job } from './job';
import type { RepairKind } from './repair';
import { isTerminalStepStatus, type Step } from './step';
import { isLiveInstance, type InstanceInfo } from './instance';

/** The settings a decision is taken with (a subset of the sweep settings). */
export interface RepairTimings {
  readonly acceptGraceSeconds: number;
  readonly timerGraceSeconds: number;
  readonly dispatchGraceSeconds: number;
  readonly recheckSeconds: number;
  readonly maxOrchestrationRestarts: number;
  /** The job window of a job admitted without `deadlineAt` (LUCIUS_JOB_TIMEOUT_SECONDS). */
  readonly jobTimeoutSeconds: number;
}

export interface RepairInput {
  readonly jobId: string;
  /** When the job's work-list entry was written (its admission): an orphan is judged from it. */
  readonly entryCreatedAt: string;
  /** The job as the ledger holds it; absent when no row exists. */
  readonly job?: Job;
  /** The job's steps, in any order. */
  readonly steps: readonly Step[];
  /** What the durable backend says of the instance. Required when the job is in flight. */
  readonly instance?: InstanceInfo;
  readonly now: Date;
  readonly timings: RepairTimings;
}

export interface PlannedRepair {
  readonly kind: RepairKind;
  /** What was found, in words an operator can act on. */
  readonly reason: string;
}

export interface RepairDecision {
  /** The one repair to apply; absent when the job needs none. */
  readonly repair?: PlannedRepair;
  /**
   * When to examine the job next; absent when the repair removes the job from the work list (it
   * ended, or never existed). Always after `now`, at most the recheck interval away.
   */
  readonly nextCheckAt?: Date;
}

export type Sweeper = 'drift' | 'lease';

const SWEEPER_OF: Readonly<Record<RepairKind, Sweeper>> = {
  ORCHESTRATION_STARTED: 'drift',
  ORCHESTRATION_RESTARTED: 'drift',
  ORCHESTRATION_LOST: 'drift',
  INFLIGHT_CORRECTED: 'drift',
  IDEMPOTENCY_ORPHAN_REMOVED: 'drift',
  INDEX_CLEANED: 'drift',
  TIMER_RECHECKED: 'lease',
  DISPATCH_RETRIED: 'lease',
  SLOT_RELEASED: 'lease',
  JOB_TIMED_OUT: 'lease',
};

/** The sweeper that applies a repair. */
export function sweeperFor(kind: RepairKind): Sweeper {
  return SWEEPER_OF[kind];
}

/** The repairs after which the job is no longer on the work list (it ended or never existed). */
const REMOVES_ENTRY: ReadonlySet<RepairKind> = new Set([
  'ORCHESTRATION_LOST',
  'JOB_TIMED_OUT',
  'INDEX_CLEANED',
  'IDEMPOTENCY_ORPHAN_REMOVED',
]);

/** The job needs its orchestration looked at (it exists and has not ended). */
export function needsInstance(job: Job | undefined): job is Job {
  return job !== undefined && !isTerminalJobStatus(job.status);
}

/**
 * When the step's current wait should have ended by the ledger's own record: the ACK deadline while
 * DISPATCHING or AWAITING_ACK, the sooner of lease expiry and result deadline while IN_PROGRESS, the
 * end of the retry backoff while FAILED_RETRY; none otherwise.
 */
export function stepDeadline(step: Step): Date | undefined {
  switch (step.status) {
    case 'DISPATCHING':
    case 'AWAITING_ACK':
      return dateOf(step.ackDeadline);
    case 'IN_PROGRESS': {
      const times = [dateOf(step.leaseExpiresAt), dateOf(step.resultDeadline)].filter(isDate);
      return times.length === 0 ? undefined : new Date(Math.min(...times.map((t) => t.getTime())));
    }
    case 'FAILED_RETRY':
      return new Date(Date.parse(step.updatedAt) + (step.failure?.retryDelayMs ?? 0));
    default:
      return undefined;
  }
}

export function decideRepair(input: RepairInput): RepairDecision {
  const repair = chooseRepair(input);
  if (repair !== undefined && REMOVES_ENTRY.has(repair.kind)) return { repair };
  return { ...(repair === undefined ? {} : { repair }), nextCheckAt: nextCheckAt(input) };
}

function chooseRepair(input: RepairInput): PlannedRepair | undefined {
  const { job, now, timings } = input;
  if (job === undefined) {
    const due = plusSeconds(input.entryCreatedAt, timings.acceptGraceSeconds);
    if (due.getTime() > now.getTime()) return undefined;
    return {
      kind: 'IDEMPOTENCY_ORPHAN_REMOVED',
      reason: `job ${input.jobId} was never written: its admission (at ${input.entryCreatedAt}) died half-way`,
    };
  }
  if (isTerminalJobStatus(job.status))
    return {
      kind: 'INDEX_CLEANED',
      reason: `job ${job.jobId} is ${job.status}; its work-list entry remained`,
    };
  const instance = input.instance;
  if (instance === undefined)
    throw new RangeError(`job ${job.jobId} is ${job.status}: deciding its repair needs its instance state`);
  const live = isLiveInstance(instance.state);
  const graceMs = timings.timerGraceSeconds * 1000;

  const deadline = jobDeadline(job, instance, timings);
  if (deadline !== undefined && Date.parse(deadline) + graceMs <= now.getTime()) {
    return live
      ? {
          kind: 'TIMER_RECHECKED',
          reason: `the job deadline ${deadline} passed while the orchestration (${instance.state}) kept waiting`,
        }
      : {
          kind: 'JOB_TIMED_OUT',
          reason: `the job deadline ${deadline} passed and its orchestration is ${instance.state}`,
        };
  }

  if (job.status === 'ACCEPTED' && instance.state === 'Missing') {
    const due = plusSeconds(job.createdAt, timings.acceptGraceSeconds);
    if (due.getTime() > now.getTime()) return undefined;
    return {
      kind: 'ORCHESTRATION_STARTED',
      reason: `job admitted at ${job.createdAt} had no orchestration after ${timings.acceptGraceSeconds}s`,
    };
  }

  if (!live) {
    const found = instance.state === 'Missing' ? 'missing' : instance.state;
    if (job.orchestrationRestarts < timings.maxOrchestrationRestarts)
      return {
        kind: 'ORCHESTRATION_RESTARTED',
        reason:
          `job ${job.status} but its orchestration is ${found}: restart ` +
          `${job.orchestrationRestarts + 1} of ${timings.maxOrchestrationRestarts}`,
      };
    return {
      kind: 'ORCHESTRATION_LOST',
      reason:
        `job ${job.status} but its orchestration is ${found}, and it was already restarted ` +
        `${job.orchestrationRestarts} time(s) (LUCIUS_MAX_ORCHESTRATION_RESTARTS=${timings.maxOrchestrationRestarts})`,
    };
  }

  for (const step of openSteps(input.steps)) {
    if (
      step.status === 'DISPATCHING' &&
      plusSeconds(step.updatedAt, timings.dispatchGraceSeconds).getTime() <= now.getTime()
    )
      return {
        kind: 'DISPATCH_RETRIED',
        reason: `step ${step.stepId} attempt ${step.attemptNo} has been DISPATCHING since ${step.updatedAt}`,
      };
    const deadline = stepDeadline(step);
    if (deadline !== undefined && deadline.getTime() + graceMs <= now.getTime())
      return {
        kind: 'TIMER_RECHECKED',
        reason:
          `step ${step.stepId} is ${step.status} and its deadline ${deadline.toISOString()} passed ` +
          `more than ${timings.timerGraceSeconds}s ago`,
      };
  }
  return undefined;
}

/**
 * The soonest of: every step deadline + the timer grace, a DISPATCHING step's dispatch grace, the
 * job deadline + the timer grace, an unstarted job's accept grace, and now + the recheck interval.
 * A time already past (a repair was just applied for it) becomes now + the timer grace (at least a
 * second), so a repair that did not help is tried again, not on every sweep.
 */
function nextCheckAt(input: RepairInput): Date {
  const { job, now, timings } = input;
  const candidates: Date[] = [plusSeconds(now, timings.recheckSeconds)];
  if (job === undefined) {
    candidates.push(plusSeconds(input.entryCreatedAt, timings.acceptGraceSeconds));
  } else {
    const deadline = jobDeadline(job, input.instance, timings);
    if (deadline !== undefined) candidates.push(plusSeconds(deadline, timings.timerGraceSeconds));
    if (job.status === 'ACCEPTED' && input.instance?.state === 'Missing')
      candidates.push(plusSeconds(job.createdAt, timings.acceptGraceSeconds));
    for (const step of openSteps(input.steps)) {
      const deadline = stepDeadline(step);
      if (deadline !== undefined) candidates.push(plusSeconds(deadline, timings.timerGraceSeconds));
      if (step.status === 'DISPATCHING')
        candidates.push(plusSeconds(step.updatedAt, timings.dispatchGraceSeconds));
    }
  }
  const retry = plusSeconds(now, Math.max(1, timings.timerGraceSeconds));
  const times = candidates.map((c) => (c.getTime() <= now.getTime() ? retry : c).getTime());
  return new Date(Math.min(...times));
}

/**
 * The deadline the job's current run enforces (see `runDeadline`): the admission deadline, or for a
 * redriven job a window from its run's start, known only while the instance exists (a redriven job
 * whose instance is gone is restarted, not timed out).
 */
function jobDeadline(
  job: Job,
  instance: InstanceInfo | undefined,
  timings: RepairTimings,
): string | undefined {
  if (job.redrives === 0) return runDeadline(job, timings.jobTimeoutSeconds, new Date(job.createdAt));
  if (instance?.createdAt === undefined) return undefined;
  return runDeadline(job, timings.jobTimeoutSeconds, new Date(instance.createdAt));
}

/** The steps that wait on something (dispatched or backing off), in protocol order. */
function openSteps(steps: readonly Step[]): readonly Step[] {
  return steps
    .filter((s) => s.status !== 'PENDING' && !isTerminalStepStatus(s.status))
    .sort((a, b) => a.index - b.index);
}

function plusSeconds(at: string | Date, seconds: number): Date {
  return new Date((typeof at === 'string' ? Date.parse(at) : at.getTime()) + seconds * 1000);
}

function dateOf(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso);
}

function isDate(value: Date | undefined): value is Date {
  return value !== undefined;
}
