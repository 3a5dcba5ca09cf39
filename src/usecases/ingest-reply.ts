/**
 * The one path every worker reply takes, whether it came over Service Bus or an HTTP callback:
 * the decoded reply → a step event (`toStepEvent`) → applied to the ledger through the step state
 * machine (which checks the lease against the current attempt) → the attempt's event raised on
 * the job's orchestration (`reply:{step}:{attempt}:{lease}`). The event only wakes the orchestration,
 * which reads the attempt from the ledger; its payload (the attempt as the ledger held it after the
 * write) is for the history, never taken as the outcome, so an event raised by anyone else (the
 * Durable HTTP API's raiseEvent) can at worst cause one extra read.
 *
 * Outcomes (nothing is ever applied twice; what is not applied is counted on the step):
 * - `applied`: the reply changed the step.
 * - `duplicate`: it repeats one already applied (counted in `duplicateReplies`); its event is raised
 *   again, which repairs a crash between the ledger write and the first raise.
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
 */
import type { Clock } from '../domain/clock';
import { toAttemptView } from '../domain/attempt';
import { InvalidTransitionError, StaleLeaseError } from '../domain/errors';
import { isTerminalStepStatus, type Step, type StepEvent } from '../domain/step';
import type { JobLedger } from '../ports/job-ledger';
import type { WorkerReply } from '../domain/worker-reply';
import { toStepEvent, type ReplyTimings } from '../domain/to-step-event';
import { replyEventName, type ReplyEvent } from '../contracts/job-protocol';
import type { OrchestrationSignals } from '../ports/orchestration-signals';
import type { Telemetry } from '../ports/telemetry';
import { stepChanged, telemetryOf } from './lifecycle-telemetry';

export interface IngestReplyDeps {
  readonly ledger: JobLedger;
  readonly clock: Clock;
  readonly timings: ReplyTimings;
  readonly signals: OrchestrationSignals;
  /** Lifecycle events and reply metrics (silent when absent). */
  readonly telemetry?: Telemetry;
  /** `LUCIUS_ACK_TIMEOUT_SECONDS`: dates an attempt's dispatch from its ACK deadline (ACK latency). */
  readonly ackTimeoutSeconds?: number;
}

export type IngestOutcome =
  | { readonly kind: 'applied' | 'duplicate' | 'finished'; readonly step: Step }
  | { readonly kind: 'stale'; readonly step: Step; readonly error: StaleLeaseError };

export async function ingestReply(deps: IngestReplyDeps, reply: WorkerReply): Promise<IngestOutcome> {
  const { ledger, clock, timings } = deps;
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
    if (error instanceof StaleLeaseError) return stale(deps, reply, error, now);
    if (!(error instanceof InvalidTransitionError)) throw error;
    outcome = await outOfOrder(deps, reply, event, now);
  }
  if (outcome.kind === 'applied' || outcome.kind === 'duplicate') await raise(deps, reply, outcome.step);
  await observe(deps, reply, event, outcome, now);
  return outcome;
}

/**
 * Tells the operators what the reply did: an applied ACK or RESULT is a lifecycle event (with the
 * job's tenant, read for it: a failed read only leaves the tenant out), a duplicate is counted.
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
  const tenantId = await deps.ledger.getJob(reply.jobId).then(
    (found) => found?.job.tenantId,
    () => undefined,
  );
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
): Promise<IngestOutcome> {
  const { ledger, timings } = deps;
  const step = (await ledger.getJob(reply.jobId))?.steps.find((s) => s.stepId === reply.stepId);
  if (step === undefined)
    throw new InvalidTransitionError('step', `${reply.jobId}/${reply.stepId}`, '?', event.type);
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
      if (error instanceof StaleLeaseError) return stale(deps, reply, error, now);
      if (error instanceof InvalidTransitionError) return outOfOrder(deps, reply, event, now);
      throw error;
    }
  }
  const error = new StaleLeaseError(
    `${reply.jobId}/${reply.stepId}`,
    { attemptNo: step.attemptNo, ...(step.leaseId === undefined ? {} : { leaseId: step.leaseId }) },
    { attemptNo: reply.attemptNo, leaseId: reply.leaseId },
  );
  return stale(deps, reply, error, now);
}

async function stale(
  deps: IngestReplyDeps,
  reply: WorkerReply,
  error: StaleLeaseError,
  now: Date,
): Promise<IngestOutcome> {
  const step = await deps.ledger.recordIgnoredReply(reply.jobId, reply.stepId, 'stale', now);
  telemetryOf(deps).count('lucius.replies.stale', { kind: reply.kind });
  return { kind: 'stale', step, error };
}

function raise(deps: IngestReplyDeps, reply: WorkerReply, step: Step): Promise<void> {
  const payload: ReplyEvent = { kind: reply.kind, attempt: toAttemptView(step) };
  return deps.signals.raise(
    reply.jobId,
    replyEventName(reply.stepId, reply.attemptNo, reply.leaseId),
    payload,
  );
}
