/**
 * The one path every worker reply takes, whether it came over Service Bus or an HTTP callback:
 * the decoded reply → a step event (`toStepEvent`) → applied to the ledger through the step state
 * machine (which checks the lease against the current attempt) → the attempt's event raised on
 * the job's orchestration (`reply:{step}:{attempt}:{lease}`) for a RESULT only. The event only wakes
 * the orchestration, which reads the attempt from the ledger; its payload (the attempt as the ledger
 * held it after the write) is for the history, never taken as the outcome, so an event raised by
 * anyone else (the Durable HTTP API's raiseEvent) can at worst cause one extra read. An ACK or a
 * heartbeat is recorded in the ledger and raises nothing: the orchestration has no use for waking
 * then (it would read the attempt and wait again); its ACK or lease timer, when it fires, is resolved
 * through the ledger (`resolveTimeout` finds the attempt ACKed, or its lease extended, and the wait
 * re-arms on the later deadline), and the RESULT's event wakes it whichever deadline it waits on.
 *
 * Outcomes (nothing is ever applied twice; what is not applied is counted on the step):
 * - `applied`: the reply changed the step.
 * - `duplicate`: it repeats one already applied (counted in `duplicateReplies`); a RESULT's event is
 *   raised again, which repairs a crash between the ledger write and the first raise.
 * - `finished`: the step already ended (SUCCEEDED, FAILED_FINAL, CANCELLED): a no-op, counted as a
 *   duplicate.
 * - `stale`: the lease or attempt is not the current one, or the attempt has ended (timed out and
 *   awaiting retry): counted in `staleReplies`; the worker should stop. (A FAILED RESULT for an
 *   attempt that already failed, by a timeout or an earlier copy of it, is a duplicate: the attempt's
 *   failure is recorded once.)
 * Throws JobNotFoundError / StepNotFoundError for an unknown job or step, and
 * OrchestrationUnavailableError when the change is recorded but the orchestration could not be told
 * (a redelivery or resend raises it again).
 *
 * Replies over Service Bus can arrive out of order: a RESULT before the ACK implies the ACK (the
 * state machine's rule), and so does a heartbeat before the ACK (applied here as the ACK it implies).
 *
 * A RESULT that ends its attempt also gives the attempt's dispatch slot back at once (flow control,
 * domain/dispatch-slots.ts) and tells the orchestration of the step the slot went to (`slot` event):
 * the fastest hand-over. For an attempt that SUCCEEDED this is the only release on the happy path (a
 * run of plan revision 2 does not release it again); a failed one is released again by the job's
 * orchestration (no change). A release lost here (a crash, the slot store unreachable) is repaired by
 * the lease sweeper (SLOT_RELEASED).
 *
 * An HTTP callback says who sent it (`CallbackAuthority`; a reply over Service Bus has none: the
 * namespace's RBAC decides who may send to the reply topics):
 * - a principal holding Lucius.Worker may reply only for a job of a tenant it may act for; any other
 *   job is answered as unknown (JobNotFoundError), so its existence is not revealed;
 * - a verified callback token works only while its attempt is the ledger's current attempt and in
 *   flight (`callbackTokenStanding`); a token whose attempt ended (succeeded, failed, timed out,
 *   cancelled) or was superseded is answered `stale` and nothing at all is written (not even the
 *   stale count), so replaying it changes nothing. The stale answer then names only the current
 *   attempt's number, never its lease.
 */
import type { Clock } from '../domain/clock';
import { slotFreed, toAttemptView } from '../domain/attempt';
import type { SlotPolicy } from '../domain/dispatch-slots';
import type { DispatchSlots } from '../ports/dispatch-slots';
import { InvalidTransitionError, StaleLeaseError } from '../domain/errors';
import { isTerminalStepStatus, type Step, type StepEvent } from '../domain/step';
import type { JobLedger } from '../ports/job-ledger';
import type { WorkerReply } from '../domain/worker-reply';
import { toStepEvent, type ReplyTimings } from '../domain/to-step-event';
import { replyEventName, type ReplyEvent } from '../contracts/job-protocol';
import type { OrchestrationSignals } from '../ports/orchestration-signals';
import type { Telemetry } from '../ports/telemetry';
import { callbackTokenStanding, type BoundAttempt } from '../guards/callback-token';
import { JobNotFoundError, StepNotFoundError } from '../ledger/errors';
import { stepChanged, telemetryOf } from './lifecycle-telemetry';
import { giveSlotBack } from './slot-handover';

export interface IngestReplyDeps {
  readonly ledger: JobLedger;
  readonly clock: Clock;
  readonly timings: ReplyTimings;
  readonly signals: OrchestrationSignals;
  /** Lifecycle events and reply metrics (silent when absent). */
  readonly telemetry?: Telemetry;
  /** `LUCIUS_ACK_TIMEOUT_SECONDS`: dates an attempt's dispatch from its ACK deadline (ACK latency). */
  readonly ackTimeoutSeconds?: number;
  /**
   * Flow control: a RESULT that ends its attempt gives the attempt's dispatch slot back at once and
   * tells the orchestration of the step it goes to (the job's own orchestration releases it too, later;
   * releasing twice changes nothing). Without them, only the orchestration releases.
   */
  readonly slots?: DispatchSlots;
  readonly slotPolicy?: SlotPolicy;
}

export type IngestOutcome =
  | { readonly kind: 'applied' | 'duplicate' | 'finished'; readonly step: Step }
  | { readonly kind: 'stale'; readonly step: Step; readonly error: StaleLeaseError };

/** Who sent an HTTP callback, as the edge checked it. */
export type CallbackAuthority =
  /** A verified callback token; the edge checked that the reply's attempt and lease are the token's. */
  | { readonly kind: 'callback-token'; readonly bound: BoundAttempt }
  /** A principal holding Lucius.Worker; `mayUse` says whether it may act for a tenant. */
  | { readonly kind: 'principal'; readonly mayUse: (tenantId: string) => Promise<boolean> };

export async function ingestReply(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  authority?: CallbackAuthority,
): Promise<IngestOutcome> {
  const { ledger, clock, timings } = deps;
  const refused = authority === undefined ? undefined : await admitCallback(deps, reply, authority);
  if (refused !== undefined) return refused;
  const bound = authority?.kind === 'callback-token' ? authority.bound : undefined;
  const now = clock.now();
  const event = toStepEvent(reply, timings, now);
  let outcome: IngestOutcome;
  try {
    const t = await ledger.applyStepEvent(reply.jobId, reply.stepId, event, now);
    outcome = t.changed
      ? { kind: 'applied', step: t.next }
      : {
          kind: 'duplicate',
          step: await ledger.recordIgnoredReply(reply.jobId, reply.stepId, 'duplicate', now),
        };
  } catch (error) {
    if (error instanceof StaleLeaseError) return stale(deps, reply, error, now, bound);
    if (!(error instanceof InvalidTransitionError)) throw error;
    outcome = await outOfOrder(deps, reply, event, now, bound);
  }
  if ((outcome.kind === 'applied' || outcome.kind === 'duplicate') && reply.kind === 'result')
    await raise(deps, reply, outcome.step);
  if (outcome.kind === 'applied' && reply.kind === 'result') await handOver(deps, outcome.step, reply, now);
  await observe(deps, reply, event, outcome, now);
  return outcome;
}

/**
 * The RESULT ended its attempt: its dispatch slot goes to the next waiter on the lane, whose
 * orchestration is told. Best effort: the reply is applied already, and the orchestration's own
 * release (and the lease sweeper) cover a failure here.
 */
async function handOver(deps: IngestReplyDeps, step: Step, reply: WorkerReply, now: Date): Promise<void> {
  const { slots, slotPolicy } = deps;
  if (slots === undefined || slotPolicy === undefined) return;
  if (!slotFreed(toAttemptView(step), reply.attemptNo)) return;
  try {
    await giveSlotBack(
      { slots, slotPolicy, signals: deps.signals },
      { lane: step.lane, stepType: step.type },
      reply,
      now,
    );
  } catch {
    // The lease sweeper releases it (and the orchestration too, for an attempt that failed).
  }
}

/**
 * Checks an HTTP callback's authority against the ledger before anything is written: undefined when
 * it may proceed, the stale answer for a token that no longer works. Throws JobNotFoundError for a
 * job the principal may not act for, as for an unknown one.
 */
async function admitCallback(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  authority: CallbackAuthority,
): Promise<IngestOutcome | undefined> {
  const found = await deps.ledger.getJob(reply.jobId);
  if (found === undefined) throw new JobNotFoundError(reply.jobId);
  if (authority.kind === 'principal') {
    if (!(await authority.mayUse(found.job.tenantId))) throw new JobNotFoundError(reply.jobId);
    return undefined;
  }
  const step = found.steps.find((s) => s.stepId === reply.stepId);
  if (step === undefined) throw new StepNotFoundError(reply.jobId, reply.stepId);
  if (callbackTokenStanding(authority.bound, toAttemptView(step)) === 'current') return undefined;
  return tokenStale(deps, reply, step);
}

/** The token's attempt is no longer the current one in flight: answered stale, nothing written. */
async function tokenNoLongerWorks(deps: IngestReplyDeps, reply: WorkerReply): Promise<IngestOutcome> {
  const step = (await deps.ledger.getJob(reply.jobId))?.steps.find((s) => s.stepId === reply.stepId);
  if (step === undefined) throw new StepNotFoundError(reply.jobId, reply.stepId);
  return tokenStale(deps, reply, step);
}

function tokenStale(deps: IngestReplyDeps, reply: WorkerReply, step: Step): IngestOutcome {
  telemetryOf(deps).count('lucius.replies.stale', { kind: reply.kind });
  const error = new StaleLeaseError(
    `${reply.jobId}/${reply.stepId}`,
    { attemptNo: step.attemptNo },
    { attemptNo: reply.attemptNo, leaseId: reply.leaseId },
  );
  return { kind: 'stale', step, error };
}

/**
 * Tells the operators what the reply did: an applied ACK or RESULT is a lifecycle event (with the
 * job's tenant, from the step, or read for a step row written before steps carried it: a failed read
 * only leaves the tenant out), a duplicate is counted.
 */
async function observe(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  event: StepEvent,
  outcome: IngestOutcome,
  now: Date,
): Promise<void> {
  const telemetry = telemetryOf(deps);
  if (outcome.kind === 'duplicate' || outcome.kind === 'finished') {
    telemetry.count('lucius.replies.duplicate', { kind: reply.kind });
    return;
  }
  if (outcome.kind !== 'applied' || deps.telemetry === undefined || reply.kind === 'heartbeat') return;
  // The step row carries its job's tenant; a row written before it did is read for it.
  const tenantId =
    outcome.step.tenantId ??
    (await deps.ledger.getJob(reply.jobId).then(
      (found) => found?.job.tenantId,
      () => undefined,
    ));
  // A RESULT before the ACK implies the ACK: the step shows it (IN_PROGRESS skipped).
  stepChanged(telemetry, event, outcome.step, {
    now,
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(deps.ackTimeoutSeconds === undefined ? {} : { ackTimeoutSeconds: deps.ackTimeoutSeconds }),
  });
}

/** The state machine refused the event: a heartbeat before the ACK, or a reply to an ended attempt. */
async function outOfOrder(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  event: StepEvent,
  now: Date,
  bound: BoundAttempt | undefined,
): Promise<IngestOutcome> {
  const { ledger, timings } = deps;
  const step = (await ledger.getJob(reply.jobId))?.steps.find((s) => s.stepId === reply.stepId);
  if (step === undefined)
    throw new InvalidTransitionError('step', `${reply.jobId}/${reply.stepId}`, '?', event.type);
  // The token's attempt ended between the check and the write: the token no longer works.
  if (bound !== undefined && callbackTokenStanding(bound, toAttemptView(step)) !== 'current')
    return tokenStale(deps, reply, step);
  if (isTerminalStepStatus(step.status)) {
    return {
      kind: 'finished',
      step: await ledger.recordIgnoredReply(reply.jobId, reply.stepId, 'duplicate', now),
    };
  }
  const current = step.attemptNo === reply.attemptNo && step.leaseId === reply.leaseId;
  if (current && event.type === 'HEARTBEAT' && step.status !== 'FAILED_RETRY') {
    // Before the ACK it stands for the ACK; if the ACK landed meanwhile, it applies as it is.
    const retry: StepEvent =
      step.status === 'IN_PROGRESS'
        ? event
        : {
            type: 'ACK',
            attemptNo: event.attemptNo,
            leaseId: event.leaseId,
            leaseExpiresAt: event.leaseExpiresAt,
            resultDeadline: new Date(now.getTime() + timings.stepResultTimeoutSeconds * 1000).toISOString(),
          };
    try {
      const t = await ledger.applyStepEvent(reply.jobId, reply.stepId, retry, now);
      return { kind: t.changed ? 'applied' : 'duplicate', step: t.next };
    } catch (error) {
      if (error instanceof StaleLeaseError) return stale(deps, reply, error, now, bound);
      if (error instanceof InvalidTransitionError) return outOfOrder(deps, reply, event, now, bound);
      throw error;
    }
  }
  const error = new StaleLeaseError(
    `${reply.jobId}/${reply.stepId}`,
    { attemptNo: step.attemptNo, ...(step.leaseId === undefined ? {} : { leaseId: step.leaseId }) },
    { attemptNo: reply.attemptNo, leaseId: reply.leaseId },
  );
  return stale(deps, reply, error, now, bound);
}

async function stale(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  error: StaleLeaseError,
  now: Date,
  bound: BoundAttempt | undefined,
): Promise<IngestOutcome> {
  if (bound !== undefined) return tokenNoLongerWorks(deps, reply);
  const step = await deps.ledger.recordIgnoredReply(reply.jobId, reply.stepId, 'stale', now);
  telemetryOf(deps).count('lucius.replies.stale', { kind: reply.kind });
  return { kind: 'stale', step, error };
}

/** Wakes the orchestration for a RESULT (the attempt ended; it reads the ledger). */
function raise(deps: IngestReplyDeps, reply: WorkerReply, step: Step): Promise<void> {
  const payload: ReplyEvent = { kind: reply.kind, attempt: toAttemptView(step) };
  return deps.signals.raise(
    reply.jobId,
    replyEventName(reply.stepId, reply.attemptNo, reply.leaseId),
    payload,
  );
}
