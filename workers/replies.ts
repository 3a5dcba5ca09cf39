/**
 * Worker replies, pure (time is an argument): the ack.v1, heartbeat.v1 and result.v1 documents for
 * one directive, and the Service Bus message that carries each to the directive's `reply_to` topic.
 *
 * Every reply echoes the attempt (job_id, step_id, attempt_no, lease_id). Its message has the JSON
 * document as body, `contentType` application/json, `subject` the reply kind, `correlationId` the job
 * id, `messageId` `{job}:{step}:{attempt}:{kind}` (`…:heartbeat:{n}` for the n-th heartbeat, so the
 * reply topic's duplicate detection drops a re-sent reply but not a later heartbeat; ids over 128
 * characters become their SHA-256), and application properties job_id, step_id, attempt_no, lease_id.
 * `withTraceContext` copies the directive message's trace context (`Diagnostic-Id`, `traceparent`,
 * `tracestate`, Service Bus's tracing convention) onto a reply, so its ingestion joins the job's trace.
 */
import { createHash } from 'node:crypto';
import type { ServiceBusMessage } from '@azure/service-bus';
import type { Ack } from '../src/contracts/ack';
import type { Heartbeat } from '../src/contracts/heartbeat';
import type { ResultFailure, StepResult } from '../src/contracts/result';
import type { Directive } from './directive-contract';

export type ReplyKind = 'ack' | 'heartbeat' | 'result';
export type ReplyDocument = Ack | Heartbeat | StepResult;

/** A reply ready to send: the topic it goes to and the message. */
export interface Reply {
  readonly kind: ReplyKind;
  readonly topic: string;
  readonly message: ServiceBusMessage;
}

const MAX_MESSAGE_ID_LENGTH = 128;
const MAX_REF_LENGTH = 2048;

type Attempt = Pick<Directive, 'job_id' | 'step_id' | 'attempt_no' | 'lease_id'>;

function echo(directive: Attempt) {
  return {
    schema_version: 'v1',
    job_id: directive.job_id,
    step_id: directive.step_id,
    attempt_no: directive.attempt_no,
    lease_id: directive.lease_id,
  } as const;
}

export function ackFor(directive: Directive, workerId: string, now: Date): Ack {
  return { ...echo(directive), kind: 'ack', worker_id: workerId, acked_at: now.toISOString() };
}

export function heartbeatFor(directive: Directive, progress: number, now: Date): Heartbeat {
  return { ...echo(directive), kind: 'heartbeat', progress, sent_at: now.toISOString() };
}

/** Where this attempt's output goes: under the directive's `output_ref`, one place per attempt. */
export function attemptOutputRef(directive: Directive & { readonly output_ref: string }): string {
  const ref = `${directive.output_ref}/${directive.step_id}-${directive.attempt_no}`;
  return ref.length <= MAX_REF_LENGTH ? ref : directive.output_ref;
}

export function succeededFor(
  directive: Directive & { readonly output_ref: string },
  result: Record<string, unknown>,
  now: Date,
): StepResult {
  return {
    ...echo(directive),
    kind: 'result',
    status: 'SUCCEEDED',
    output_ref: attemptOutputRef(directive),
    result,
    completed_at: now.toISOString(),
  };
}

export function failedFor(directive: Directive, failure: ResultFailure, now: Date): StepResult {
  return { ...echo(directive), kind: 'result', status: 'FAILED', failure, completed_at: now.toISOString() };
}

/**
 * A RESULT that breaks result.v1 on purpose (an unknown status, no completed_at), for the `invalid`
 * mode: it still echoes the attempt, as a buggy worker's reply would.
 */
export function brokenResultFor(directive: Directive): Record<string, unknown> {
  return { ...echo(directive), kind: 'result', status: 'DONE' };
}

/** The message carrying `document` to the directive's reply topic. `sequence` numbers heartbeats. */
export function toReply(
  directive: Directive,
  kind: ReplyKind,
  document: ReplyDocument | Record<string, unknown>,
  sequence?: number,
): Reply {
  const base = `${directive.job_id}:${directive.step_id}:${directive.attempt_no}:${kind}`;
  const id = sequence === undefined ? base : `${base}:${sequence}`;
  return {
    kind,
    topic: directive.reply_to,
    message: {
      body: document,
      contentType: 'application/json',
      subject: kind,
      correlationId: directive.job_id,
      messageId: id.length <= MAX_MESSAGE_ID_LENGTH ? id : createHash('sha256').update(id).digest('hex'),
      applicationProperties: {
        job_id: directive.job_id,
        step_id: directive.step_id,
        attempt_no: directive.attempt_no,
        lease_id: directive.lease_id,
      },
    },
  };
}

/** The application properties that carry a message's W3C trace context. */
export const TRACE_PROPERTIES = ['Diagnostic-Id', 'traceparent', 'tracestate'] as const;

/** `reply` carrying the trace context found in `directiveProperties` (the directive message's). */
export function withTraceContext(
  reply: Reply,
  directiveProperties: Readonly<Record<string, unknown>> | undefined,
): Reply {
  const trace: Record<string, string> = {};
  for (const name of TRACE_PROPERTIES) {
    const value = directiveProperties?.[name];
    if (typeof value === 'string' && value !== '') trace[name] = value;
  }
  if (Object.keys(trace).length === 0) return reply;
  return {
    ...reply,
    message: {
      ...reply.message,
      applicationProperties: { ...reply.message.applicationProperties, ...trace },
    },
  };
}
