/**
 * Wire ↔ broker message mapping (pure functions).
 *
 *  - `splitTransfer`: an incoming transfer → the encoded AMQP messages it carries. A batch from
 *    `ServiceBusSender.sendMessages(batch)` arrives as ONE message with `message_format` 0x80013700
 *    whose body is one data section per encoded message.
 *  - `toIncomingMessage`: an encoded message → the broker's `IncomingMessage`. The payload handed to
 *    the broker is the encoded message itself (a Buffer): it survives any store byte for byte.
 *  - `toWireMessage`: a `BrokeredMessage` → the AMQP message a receiver gets: the sender's message
 *    plus what Service Bus adds — message annotations `x-opt-sequence-number` (long),
 *    `x-opt-enqueued-time`, `x-opt-locked-until`, `x-opt-lock-token`, `x-opt-message-state`,
 *    `x-opt-deadletter-source`; application properties `DeadLetterReason`,
 *    `DeadLetterErrorDescription` and any properties-to-modify; header `delivery_count`.
 */
import { message as amqp, types, uuid_to_string } from 'rhea';
import type { BrokeredMessage, IncomingMessage, MessageState } from '../broker/broker-api';
import { AmqpLayerError } from './errors';
import { lockTokenToUuid } from './lock-tokens';
import { asRecord, optionalString } from '../../common/records';

export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** An AMQP message as rhea represents it (header and properties fields flattened, sections by name). */
export type AmqpMessage = Record<string, unknown>;

const ANNOTATION = {
  sequenceNumber: 'x-opt-sequence-number',
  enqueuedTime: 'x-opt-enqueued-time',
  lockedUntil: 'x-opt-locked-until',
  lockToken: 'x-opt-lock-token',
  messageState: 'x-opt-message-state',
  deadLetterSource: 'x-opt-deadletter-source',
  scheduledEnqueueTime: 'x-opt-scheduled-enqueue-time',
} as const;

const MESSAGE_STATE: Readonly<Record<MessageState, number>> = { active: 0, deferred: 1, scheduled: 2 };

/** rhea's body section object (`data_section`, `data_sections`). */
interface BodySection {
  readonly typecode: number;
  readonly content: unknown;
  readonly multiple?: boolean;
}

const DATA_SECTION = 0x75;

/**
 * The encoded messages a transfer carries. rhea hands a format-0 transfer over decoded and any
 * other format as the raw bytes.
 */
export function splitTransfer(received: AmqpMessage | Buffer, format: number): Buffer[] {
  if (format === 0) return [amqp.encode(received)];
  if (format !== BATCH_MESSAGE_FORMAT || !Buffer.isBuffer(received)) {
    throw new AmqpLayerError('unsupported_feature', `Unsupported AMQP message format ${format}.`);
  }
  const envelope = amqp.decode(received);
  const body: unknown = envelope['body'];
  if (!isBodySection(body) || body.typecode !== DATA_SECTION) {
    throw new AmqpLayerError('invalid_request', 'A batch message must carry its messages as data sections.');
  }
  const parts = body.multiple === true ? (body.content as unknown[]) : [body.content];
  return parts.map((part) => {
    if (!Buffer.isBuffer(part)) {
      throw new AmqpLayerError('invalid_request', 'A batch data section is not binary.');
    }
    return part;
  });
}

/** An encoded AMQP message → what the broker needs to route and hold it. */
export function toIncomingMessage(encoded: Buffer): IncomingMessage {
  const message = amqp.decode(encoded);
  const annotations = asRecord(message['message_annotations']);
  const scheduled = annotations[ANNOTATION.scheduledEnqueueTime];
  return {
    messageId: optionalId(message['message_id']),
    correlationId: optionalId(message['correlation_id']),
    subject: optionalString(message['subject']),
    to: optionalString(message['to']),
    replyTo: optionalString(message['reply_to']),
    contentType: optionalString(message['content_type']),
    sessionId: optionalString(message['group_id']),
    applicationProperties: asRecord(message['application_properties']),
    timeToLiveMs: typeof message['ttl'] === 'number' ? message['ttl'] : undefined,
    scheduledEnqueueTime: scheduled instanceof Date ? scheduled : undefined,
    payload: encoded,
  };
}

/**
 * The AMQP message for a brokered message. `headerDeliveryCount` is the AMQP header's
 * delivery-count: the number of PRIOR deliveries, which @azure/service-bus exposes as `deliveryCount`.
 */
export function toWireMessage(
  brokered: BrokeredMessage,
  options: { readonly wireLockToken?: string; readonly headerDeliveryCount: number },
): AmqpMessage {
  const original = decodePayload(brokered);
  const annotations: Record<string, unknown> = {
    ...asRecord(original['message_annotations']),
    [ANNOTATION.sequenceNumber]: types.wrap_long(brokered.sequenceNumber),
    [ANNOTATION.enqueuedTime]: brokered.enqueuedTime,
    [ANNOTATION.messageState]: types.wrap_int(MESSAGE_STATE[brokered.state]),
  };
  if (brokered.lockedUntil !== undefined) annotations[ANNOTATION.lockedUntil] = brokered.lockedUntil;
  if (options.wireLockToken !== undefined) {
    annotations[ANNOTATION.lockToken] = types.wrap_uuid(lockTokenToUuid(options.wireLockToken));
  }
  if (brokered.deadLetterSource !== undefined) {
    annotations[ANNOTATION.deadLetterSource] = brokered.deadLetterSource;
  }
  const properties: Record<string, unknown> = {
    ...asRecord(original['application_properties']),
    ...(brokered.modifiedProperties ?? {}),
  };
  if (brokered.deadLetterReason !== undefined) properties['DeadLetterReason'] = brokered.deadLetterReason;
  if (brokered.deadLetterErrorDescription !== undefined) {
    properties['DeadLetterErrorDescription'] = brokered.deadLetterErrorDescription;
  }
  const wire: AmqpMessage = { ...original };
  // A message sent without an id carries the one the broker assigned, as on Azure.
  if ((wire['message_id'] === undefined || wire['message_id'] === null) && brokered.messageId !== undefined) {
    wire['message_id'] = brokered.messageId;
  }
  wire['message_annotations'] = annotations;
  wire['application_properties'] = properties;
  wire['delivery_count'] = Math.max(0, options.headerDeliveryCount);
  return wire;
}

/** A brokered message, encoded (for `$management` responses, which carry messages as binary). */
export function encodeWireMessage(message: AmqpMessage): Buffer {
  return amqp.encode(message);
}

/**
 * The sender's AMQP message. The payload is normally the encoded Buffer this layer handed to the
 * broker; a decoded rhea message (or a plain copy of one) is accepted too, and the fields are used
 * when there is no payload at all.
 */
function decodePayload(brokered: BrokeredMessage): AmqpMessage {
  const payload = brokered.payload;
  if (Buffer.isBuffer(payload)) return amqp.decode(payload);
  if (payload instanceof Uint8Array) return amqp.decode(Buffer.from(payload));
  if (typeof payload === 'object' && payload !== null) {
    const copy: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
    const body = copy['body'];
    if (
      isBodySection(body) &&
      typeof (body as { collect_sections?: unknown }).collect_sections !== 'function'
    ) {
      copy['body'] = restoreSection(body);
    }
    return copy;
  }
  const fields: Record<string, unknown> = {
    message_id: brokered.messageId,
    correlation_id: brokered.correlationId,
    subject: brokered.subject,
    to: brokered.to,
    reply_to: brokered.replyTo,
    content_type: brokered.contentType,
    group_id: brokered.sessionId,
    application_properties: { ...brokered.applicationProperties },
    body: payload ?? null,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** A body section that lost its prototype (stored as JSON) → a section rhea can encode again. */
function restoreSection(section: BodySection): unknown {
  const parts = section.multiple === true ? (section.content as unknown[]) : [section.content];
  if (section.typecode === DATA_SECTION) {
    const buffers = parts.map((part) => (part instanceof Uint8Array ? Buffer.from(part) : Buffer.alloc(0)));
    return section.multiple === true ? amqp.data_sections(buffers) : amqp.data_section(buffers[0]);
  }
  return section.multiple === true ? amqp.sequence_sections(parts) : amqp.sequence_section(parts[0]);
}

function isBodySection(value: unknown): value is BodySection {
  return typeof value === 'object' && value !== null && 'typecode' in value && 'content' in value;
}

/** Message and correlation ids may be strings, numbers, uuids or binary on the wire. */
function optionalId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.length === 16 ? uuid_to_string(value) : value.toString('hex');
  return String(value);
}
