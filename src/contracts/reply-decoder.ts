/**
 * Worker reply (ACK, RESULT, heartbeat) → a typed WorkerReply (domain/worker-reply.ts), pure. One decoder for both ways in:
 * a Service Bus message body (an object the SDK already parsed, a JSON string, or UTF-8 bytes) and
 * an HTTP callback body.
 *
 * The contract is chosen by, in order: the route's kind (`hints.kind`, HTTP: the body must be that
 * kind), the body's own `kind`, the message subject (`hints.subject`, a hint only: it picks the
 * schema to report against, and the body must still say its kind). Anything that is not JSON, names no known kind or breaks its schema throws
 * InvalidReplyError (`invalid_reply`) whose violations point into the body; `deadLetterReasonFor`
 * turns it into a dead-letter reason. Whether the lease is current is not decided here.
 */
import type { Violation } from '../domain/errors';
import { assertNever } from '../domain/job';
import {
  isWorkerReplyKind,
  WORKER_REPLY_KINDS,
  type AckReply,
  type HeartbeatReply,
  type ReplyAttempt,
  type ResultReply,
  type WorkerReply,
  type WorkerReplyKind,
} from '../domain/worker-reply';
import { validateAck, type Ack } from './ack';
import { InvalidReplyError } from './errors';
import { validateHeartbeat, type Heartbeat } from './heartbeat';
import { validateStepResult, type StepResult } from './result';
import type { ValidationResult } from './validation';

export interface ReplyHints {
  /** HTTP: the kind the route accepts (`/ack`, `/result`, `/heartbeat`); the body must be of it. */
  readonly kind?: WorkerReplyKind;
  /** Service Bus: the message's subject; picks the contract when the body names no kind. */
  readonly subject?: string;
  /** HTTP: the job and step the URL names; the body must echo them. */
  readonly jobId?: string;
  readonly stepId?: string;
}

export function decodeReply(body: unknown, hints: ReplyHints = {}): WorkerReply {
  const document = parseBody(body);
  const kind = chooseKind(document, hints);
  const contract = `${kind}.v1`;
  const reply = validate(kind, document);
  if (!reply.ok) throw new InvalidReplyError(contract, reply.violations);
  const mismatches = urlMismatches(reply.value, hints);
  if (mismatches.length > 0) throw new InvalidReplyError(contract, mismatches);
  return reply.value;
}

/**
 * The reason and description to dead-letter an undecodable reply with (the shape of the SDK's
 * DeadLetterOptions): the code, and every violation as `pointer: message`.
 */
export function deadLetterReasonFor(error: InvalidReplyError): {
  readonly deadLetterReason: string;
  readonly deadLetterErrorDescription: string;
} {
  const problems = error.violations.map((v) => `${v.pointer === '' ? '(body)' : v.pointer}: ${v.message}`);
  const description = `${error.message}: ${problems.join('; ')}`;
  return {
    deadLetterReason: error.code,
    deadLetterErrorDescription:
      description.length <= MAX_DESCRIPTION_LENGTH
        ? description
        : `${description.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`,
  };
}

const MAX_DESCRIPTION_LENGTH = 4096;

const bodyProblem = (message: string, keyword: string): InvalidReplyError =>
  new InvalidReplyError(undefined, [{ pointer: '', message, keyword }]);

function parseBody(body: unknown): Record<string, unknown> {
  let value = body;
  if (value instanceof ArrayBuffer) value = new Uint8Array(value);
  if (value instanceof Uint8Array) {
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch {
      throw bodyProblem('is not UTF-8 text', 'encoding');
    }
  }
  if (typeof value === 'string') {
    if (value.trim() === '') throw bodyProblem('is empty', 'json');
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw bodyProblem(`is not JSON (${(error as Error).message})`, 'json');
    }
  }
  if (value === undefined || value === null) throw bodyProblem('is empty', 'type');
  if (typeof value !== 'object' || Array.isArray(value)) throw bodyProblem('must be a JSON object', 'type');
  return value as Record<string, unknown>;
}

function chooseKind(document: Record<string, unknown>, hints: ReplyHints): WorkerReplyKind {
  if (hints.kind !== undefined) return hints.kind;
  if (isWorkerReplyKind(document.kind)) return document.kind;
  const subject = hints.subject?.trim().toLowerCase();
  // The body names no known kind: the subject picks the contract, whose own `kind` check reports it.
  if (isWorkerReplyKind(subject)) return subject;
  const violation: Violation =
    document.kind === undefined
      ? { pointer: '/kind', message: 'required property "kind" is missing', keyword: 'required' }
      : {
          pointer: '/kind',
          message: `must be one of ${WORKER_REPLY_KINDS.map((k) => JSON.stringify(k)).join(', ')}`,
          keyword: 'enum',
        };
  throw new InvalidReplyError(undefined, [violation]);
}

function validate(kind: WorkerReplyKind, document: unknown): ValidationResult<WorkerReply> {
  switch (kind) {
    case 'ack':
      return mapValid(validateAck(document), fromAck);
    case 'heartbeat':
      return mapValid(validateHeartbeat(document), fromHeartbeat);
    case 'result':
      return mapValid(validateStepResult(document), fromResult);
    default:
      return assertNever(kind);
  }
}

function mapValid<T>(
  result: ValidationResult<T>,
  convert: (value: T) => WorkerReply,
): ValidationResult<WorkerReply> {
  return result.ok ? { ok: true, value: convert(result.value) } : result;
}

function attemptOf(document: Ack | Heartbeat | StepResult): ReplyAttempt {
  return {
    jobId: document.job_id,
    stepId: document.step_id,
    attemptNo: document.attempt_no,
    leaseId: document.lease_id,
  };
}

function fromAck(ack: Ack): AckReply {
  return {
    kind: 'ack',
    ...attemptOf(ack),
    ackedAt: ack.acked_at,
    ...(ack.worker_id === undefined ? {} : { workerId: ack.worker_id }),
    ...(ack.lease_minutes === undefined ? {} : { leaseMinutes: ack.lease_minutes }),
  };
}

function fromHeartbeat(heartbeat: Heartbeat): HeartbeatReply {
  return {
    kind: 'heartbeat',
    ...attemptOf(heartbeat),
    sentAt: heartbeat.sent_at,
    ...(heartbeat.extend_minutes === undefined ? {} : { extendMinutes: heartbeat.extend_minutes }),
    ...(heartbeat.progress === undefined ? {} : { progress: heartbeat.progress }),
  };
}

function fromResult(result: StepResult): ResultReply {
  const common = {
    kind: 'result',
    ...attemptOf(result),
    completedAt: result.completed_at,
    ...(result.result === undefined ? {} : { result: result.result }),
  } as const;
  if (result.status === 'SUCCEEDED') return { ...common, status: 'SUCCEEDED', outputRef: result.output_ref };
  return {
    ...common,
    status: 'FAILED',
    failure: { failureClass: result.failure.failure_class, message: result.failure.message },
    ...(result.output_ref === undefined ? {} : { outputRef: result.output_ref }),
  };
}

function urlMismatches(reply: WorkerReply, hints: ReplyHints): Violation[] {
  const violations: Violation[] = [];
  if (hints.jobId !== undefined && reply.jobId !== hints.jobId) {
    violations.push({
      pointer: '/job_id',
      message: `must be ${JSON.stringify(hints.jobId)}, the job the request is addressed to`,
      keyword: 'const',
    });
  }
  if (hints.stepId !== undefined && reply.stepId !== hints.stepId) {
    violations.push({
      pointer: '/step_id',
      message: `must be ${JSON.stringify(hints.stepId)}, the step the request is addressed to`,
      keyword: 'const',
    });
  }
  return violations;
}
