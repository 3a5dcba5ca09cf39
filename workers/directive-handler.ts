/**
 * One directive message in, its fate out: what a platform worker does with what arrives on its
 * subscription, independent of how it is received. The caller settles the message as told.
 *
 * - Body not JSON or not directive.v1 → dead-letter `invalid_directive` (a retry cannot fix it);
 *   a directive for another step type than this platform's → dead-letter `misrouted_directive`.
 * - `directive` whose `ack_deadline` has passed → complete it and do nothing (outcome `expired`):
 *   Lucius no longer waits for it (the attempt ended NOT_STARTED and a new one may already be out),
 *   so running it would be work nobody wants. Service Bus normally drops such a directive itself (it
 *   is published with the ACK deadline as its time to live); this covers one received just before.
 * - `directive` with a lease never seen → run it in the platform's mode (see modes.ts), then complete.
 *   The ACK goes out before any work, or with `ackAfterMs` only if the work outlasts it (ack-gate.ts:
 *   the RESULT implies the ACK); the RESULT before the message is completed, so a crash in between
 *   redelivers the directive rather than losing the outcome.
 * - `directive` with a lease already running → complete, no second run (the running one replies);
 *   already finished → send its last reply again (the reply topic's duplicate detection drops it if
 *   the first one arrived), complete; already cancelled → complete.
 * - `cancel` for a running lease → the work stops and the attempt replies RESULT FAILED with class
 *   CANCELLED (so Lucius hears the worker let go); for a finished one nothing; for an unknown one the
 *   lease is noted so a late directive for it is not run. The cancel itself is completed.
 * - Work stopped by shutdown, or a reply that could not be sent → abandon: the lease is forgotten
 *   and the redelivered directive runs afresh (on this or another instance).
 */
import { ackGate } from './ack-gate';
import { readDirective, type Directive, type StepDirective } from './directive-contract';
import { LeaseBook, stopReasonOf } from './lease-book';
import type { PlatformMode, WorkTimings } from './modes';
import { demoResultFor, type StepType } from './platforms';
import {
  ackFor,
  brokenResultFor,
  failedFor,
  heartbeatFor,
  succeededFor,
  toReply,
  type Reply,
} from './replies';
import { simulateWork } from './simulated-work';

export const MISROUTED_DIRECTIVE_REASON = 'misrouted_directive';

export type Outcome =
  | 'expired'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'silent'
  | 'invalid-reply'
  | 'duplicate'
  | 'cancel'
  | 'invalid-directive'
  | 'interrupted';

export type Settlement =
  | { readonly action: 'complete' }
  | { readonly action: 'abandon' }
  | {
      readonly action: 'dead-letter';
      readonly deadLetterReason: string;
      readonly deadLetterErrorDescription: string;
    };

export interface Handled {
  readonly outcome: Outcome;
  readonly settlement: Settlement;
  /** The directive, when the body was one. */
  readonly directive?: Directive;
  /** A few words for the log. */
  readonly detail?: string;
}

export interface PlatformWorker {
  readonly stepType: StepType;
  readonly mode: PlatformMode;
  readonly timings: WorkTimings;
  readonly workerId: string;
  /**
   * Lazy ACK: the work starts at once and the ACK goes out only if it still runs after this many ms
   * (or at once when less than twice that remains before `ack_deadline`); unset: ACK first.
   */
  readonly ackAfterMs?: number;
  readonly leases: LeaseBook;
  readonly send: (reply: Reply) => Promise<void>;
  /** Called when work under a new lease starts. */
  readonly started?: (directive: StepDirective) => void;
  readonly now: () => Date;
}

const COMPLETE: Settlement = { action: 'complete' };

export async function handleDirective(body: unknown, worker: PlatformWorker): Promise<Handled> {
  const reading = readDirective(body);
  if (!reading.ok) {
    const { deadLetterReason, deadLetterErrorDescription } = reading;
    return {
      outcome: 'invalid-directive',
      settlement: { action: 'dead-letter', deadLetterReason, deadLetterErrorDescription },
      detail: deadLetterErrorDescription,
    };
  }
  const { directive } = reading;
  if (directive.step_type !== worker.stepType) {
    const description = `a ${directive.step_type} directive reached the ${worker.stepType} worker`;
    return {
      outcome: 'invalid-directive',
      directive,
      settlement: {
        action: 'dead-letter',
        deadLetterReason: MISROUTED_DIRECTIVE_REASON,
        deadLetterErrorDescription: description,
      },
      detail: description,
    };
  }
  if (directive.kind === 'cancel') {
    const result = worker.leases.cancel(directive.lease_id, directive.reason);
    return { outcome: 'cancel', directive, settlement: COMPLETE, detail: result };
  }
  if (isExpired(directive, worker.now())) {
    return {
      outcome: 'expired',
      directive,
      settlement: COMPLETE,
      detail: `ACK deadline ${directive.ack_deadline} passed`,
    };
  }
  const known = worker.leases.get(directive.lease_id);
  if (known !== undefined) {
    if (known.state === 'finished' && known.lastReply !== undefined) await worker.send(known.lastReply);
    return { outcome: 'duplicate', directive, settlement: COMPLETE, detail: `lease already ${known.state}` };
  }
  return run(directive, worker);
}

/** The directive's ACK deadline has passed: Lucius no longer waits for this attempt. */
export function isExpired(directive: Pick<StepDirective, 'ack_deadline'>, now: Date): boolean {
  return Date.parse(directive.ack_deadline) <= now.getTime();
}

async function run(directive: StepDirective, worker: PlatformWorker): Promise<Handled> {
  const signal = worker.leases.begin(directive.lease_id);
  worker.started?.(directive);
  try {
    const { outcome, lastReply, detail } = await perform(directive, worker, signal);
    worker.leases.finish(directive.lease_id, lastReply);
    return { outcome, directive, settlement: COMPLETE, ...(detail === undefined ? {} : { detail }) };
  } catch (error) {
    const stop = stopReasonOf(signal);
    if (stop?.kind === 'cancel') return cancelled(directive, worker, stop.reason);
    worker.leases.forget(directive.lease_id);
    return {
      outcome: 'interrupted',
      directive,
      settlement: { action: 'abandon' },
      detail: stop?.kind === 'shutdown' ? 'stopped by shutdown' : describe(error),
    };
  }
}

async function perform(
  directive: StepDirective,
  worker: PlatformWorker,
  signal: AbortSignal,
): Promise<{ outcome: Outcome; lastReply?: Reply; detail?: string }> {
  const { mode, timings } = worker;
  const gate = ackGate({
    ...(worker.ackAfterMs === undefined ? {} : { ackAfterMs: worker.ackAfterMs }),
    ackDeadline: directive.ack_deadline,
    now: worker.now,
    sendAck: () => worker.send(toReply(directive, 'ack', ackFor(directive, worker.workerId, worker.now()))),
  });
  const reply = async (next: Reply): Promise<Reply> => {
    await gate.beforeReply();
    await worker.send(next);
    return next;
  };
  const work = async (workMs: number): Promise<void> => {
    let sequence = 0;
    await simulateWork({
      workMs,
      heartbeatMs: timings.heartbeatMs,
      signal,
      heartbeat: async (progress) => {
        sequence += 1;
        await gate.beforeReply();
        await worker.send(
          toReply(directive, 'heartbeat', heartbeatFor(directive, progress, worker.now()), sequence),
        );
      },
    });
  };
  const succeed = async (): Promise<{ outcome: Outcome; lastReply: Reply }> => {
    const document = succeededFor(
      directive,
      demoResultFor(directive.step_type, directive.payload),
      worker.now(),
    );
    return { outcome: 'succeeded', lastReply: await reply(toReply(directive, 'result', document)) };
  };
  const fail = async (
    failureClass: 'TRANSIENT' | 'PERMANENT',
    message: string,
  ): Promise<{ outcome: Outcome; lastReply: Reply; detail: string }> => {
    const document = failedFor(directive, { failure_class: failureClass, message }, worker.now());
    return {
      outcome: 'failed',
      lastReply: await reply(toReply(directive, 'result', document)),
      detail: failureClass,
    };
  };
  const ack = () => gate.start();

  try {
    switch (mode.mode) {
      case 'silent':
      case 'off':
        return { outcome: 'silent' };
      case 'invalid':
        return {
          outcome: 'invalid-reply',
          lastReply: await reply(toReply(directive, 'result', brokenResultFor(directive))),
        };
      case 'instant':
        await ack();
        return succeed();
      case 'normal':
        await ack();
        await work(timings.workMs);
        return succeed();
      case 'slow':
        await ack();
        await work(timings.slowWorkMs);
        return succeed();
      case 'flaky':
        await ack();
        await work(timings.workMs);
        return directive.attempt_no <= mode.failAttempts
          ? fail('TRANSIENT', `demo: flaky worker fails attempts 1..${mode.failAttempts}`)
          : succeed();
      case 'failing':
        await ack();
        await work(timings.workMs);
        return fail('PERMANENT', 'demo: failing worker rejects every attempt');
      default:
        return assertNever(mode);
    }
  } finally {
    await gate.close();
  }
}

/** The attempt was cancelled while running: say so with RESULT FAILED CANCELLED, then let it go. */
async function cancelled(
  directive: StepDirective,
  worker: PlatformWorker,
  reason?: string,
): Promise<Handled> {
  const document = failedFor(
    directive,
    {
      failure_class: 'CANCELLED',
      message: reason === undefined ? 'cancelled by Lucius' : `cancelled by Lucius: ${reason}`,
    },
    worker.now(),
  );
  const lastReply = toReply(directive, 'result', document);
  worker.leases.finish(directive.lease_id, lastReply);
  try {
    await worker.send(lastReply);
  } catch (error) {
    // Lucius already decided the cancel; the RESULT only confirms it, so the directive is done anyway.
    return {
      outcome: 'cancelled',
      directive,
      settlement: COMPLETE,
      detail: `RESULT not sent: ${describe(error)}`,
    };
  }
  return { outcome: 'cancelled', directive, settlement: COMPLETE };
}

function assertNever(value: never): never {
  throw new Error(`unexpected mode ${JSON.stringify(value)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
