/**
 * Directive → Service Bus message (README: "The worker contract"), pure. The message carries the directive.v1
 * document as its JSON body, and for routing and filtering:
 *
 * - `messageId`: `{job}:{step}:{attempt}` for a directive, `{job}:{step}:{attempt}:cancel` for a
 *   cancel, so the topic's duplicate detection drops a re-publish of the same attempt. Ids longer
 *   than Service Bus allows (128) are replaced by a SHA-256 of the same text (still deterministic).
 * - `correlationId`: the job id; `subject`: the kind (`directive` | `cancel`); `replyTo`: the
 *   directive's `reply_to` (`{replyPrefix}{lane}`); `contentType`: `application/json`.
 * - `timeToLive` (a step directive only): its ACK deadline less its issue time, so the directive
 *   expires from the subscription when nobody took it in time, and no worker starts work that nobody
 *   waits for (the attempt ends NOT_STARTED). At least 1 ms (a deadline already passed: the message
 *   expires at once). A cancel has none: it is small, and a worker that gets it late still lets go.
 * - application properties `step_type` (what platform subscriptions filter on), `tenant_id`,
 *   `job_id`, `step_id`, `attempt_no`, `lease_id`, `lane`, `schema_version`; and the job's trace
 *   context per Service Bus's tracing convention (`Diagnostic-Id`, `traceparent`, `tracestate`),
 *   which a worker copies onto its replies.
 */
import { createHash } from 'node:crypto';
import type { ServiceBusMessage } from '@azure/service-bus';
import type { Directive, StepDirective } from '../contracts/directive';
import type { TraceCarrier } from '../ports/telemetry';
import { toMessageProperties } from '../telemetry/trace-context';
import { STEP_TYPE_PROPERTY } from './topology';

/** Service Bus's limit on `messageId`. */
export const MAX_MESSAGE_ID_LENGTH = 128;

export const DIRECTIVE_CONTENT_TYPE = 'application/json';

/** The lane topic a directive goes to. */
export function directiveTopic(topicPrefix: string, directive: Pick<Directive, 'lane'>): string {
  return `${topicPrefix}${directive.lane}`;
}

/** The deterministic message id of a directive: one per attempt and kind. */
export function directiveMessageId(
  directive: Pick<Directive, 'kind' | 'job_id' | 'step_id' | 'attempt_no'>,
): string {
  const base = `${directive.job_id}:${directive.step_id}:${directive.attempt_no}`;
  const id = directive.kind === 'cancel' ? `${base}:cancel` : base;
  return id.length <= MAX_MESSAGE_ID_LENGTH ? id : createHash('sha256').update(id).digest('hex');
}

/** The time to live of a step directive: from its issue to its ACK deadline, at least 1 ms. */
export function directiveTimeToLive(directive: Pick<StepDirective, 'issued_at' | 'ack_deadline'>): number {
  const ms = Date.parse(directive.ack_deadline) - Date.parse(directive.issued_at);
  return Number.isFinite(ms) ? Math.max(1, ms) : 1;
}

export function toDirectiveMessage(directive: Directive, trace?: TraceCarrier): ServiceBusMessage {
  return {
    body: directive,
    ...(directive.kind === 'directive' ? { timeToLive: directiveTimeToLive(directive) } : {}),
    contentType: DIRECTIVE_CONTENT_TYPE,
    messageId: directiveMessageId(directive),
    correlationId: directive.job_id,
    subject: directive.kind,
    replyTo: directive.reply_to,
    applicationProperties: {
      [STEP_TYPE_PROPERTY]: directive.step_type,
      tenant_id: directive.tenant_id,
      job_id: directive.job_id,
      step_id: directive.step_id,
      attempt_no: directive.attempt_no,
      lease_id: directive.lease_id,
      lane: directive.lane,
      schema_version: directive.schema_version,
      ...toMessageProperties(trace),
    },
  };
}
