/**
 * The `<entity>/$management` node: request/response operations of @azure/service-bus's
 * ManagementClient, mapped onto the Broker. A request is an AMQP message whose application property
 * `operation` names the operation and whose body is a map; the response correlates by
 * `correlation_id` = request `message_id` and carries `statusCode` / `statusDescription` (and, on
 * failure, `errorCondition`) application properties, which is what core-amqp's RequestResponseLink
 * reads.
 *
 * Operations (request body → response body):
 *  - com.microsoft:renew-lock               lock-tokens: uuid[]            → expirations: timestamp[]
 *  - com.microsoft:schedule-message         messages: [{message: binary, message-id}] → sequence-numbers: long[]
 *  - com.microsoft:cancel-scheduled-message sequence-numbers: long[]       → (none)
 *  - com.microsoft:peek-message             from-sequence-number, message-count → messages: [{message}] or 204
 *  - com.microsoft:receive-by-sequence-number sequence-numbers, receiver-settle-mode
 *                                           → messages: [{message, lock-token: uuid}]
 *  - com.microsoft:update-disposition       lock-tokens, disposition-status (completed | abandoned |
 *                                           defered | suspended), deadletter-reason,
 *                                           deadletter-description, properties-to-modify → (none)
 * Anything else is answered 501 amqp:not-implemented. Broker errors become 4xx with their condition.
 */
import { types } from 'rhea';
import type { Broker, BrokeredMessage, IncomingMessage, ReceiveMode } from '../broker/broker-api';
import { AmqpLayerError, managementStatusFor, toWireError } from './errors';
import { LockTokens, lockTokenFromUuid, lockTokenToUuid } from './lock-tokens';
import { encodeWireMessage, toIncomingMessage, toWireMessage, type AmqpMessage } from './message-codec';
import { deliveryCountForPeek, deliveryCountForReceive } from './delivery-count';
import { asRecord, optionalRecord, optionalString } from '../../common/records';

export interface ManagementContext {
  readonly broker: Broker;
  readonly locks: LockTokens;
  readonly entityPath: string;
}

interface Reply {
  readonly statusCode: number;
  readonly body?: Record<string, unknown>;
}

const LONG_ARRAY = 0x81;
const TIMESTAMP_ARRAY = 0x83;

/** Handles one request; never throws (failures are responses). */
export function handleManagementRequest(context: ManagementContext, request: AmqpMessage): AmqpMessage {
  const properties = asRecord(request['application_properties']);
  const operation = String(properties['operation'] ?? '');
  let reply: Reply;
  try {
    reply = dispatch(context, operation, asRecord(request['body']));
  } catch (error) {
    const wire = toWireError(error);
    return {
      correlation_id: request['message_id'],
      application_properties: {
        statusCode: managementStatusFor(wire.condition),
        statusDescription: wire.description,
        errorCondition: wire.condition,
      },
    };
  }
  const response: Record<string, unknown> = {
    correlation_id: request['message_id'],
    application_properties: { statusCode: reply.statusCode, statusDescription: statusText(reply.statusCode) },
  };
  if (reply.body !== undefined) response['body'] = reply.body;
  return response;
}

function dispatch(context: ManagementContext, operation: string, body: Record<string, unknown>): Reply {
  const { broker, entityPath } = context;
  switch (operation) {
    case 'com.microsoft:renew-lock': {
      const tokens = lockTokensOf(context, body);
      const expirations = broker.renewLock(entityPath, tokens);
      return {
        statusCode: 200,
        body: {
          expirations: types.wrap_array(
            expirations.map((date) => date.getTime()),
            TIMESTAMP_ARRAY,
            undefined,
          ),
        },
      };
    }
    case 'com.microsoft:schedule-message': {
      const entries = listOf(body['messages']).map(asRecord);
      const messages = entries.map((entry) => toIncomingMessage(binaryOf(entry['message'], 'message')));
      const sequenceNumbers = scheduleAll(broker, entityPath, messages);
      return { statusCode: 200, body: { 'sequence-numbers': longArray(sequenceNumbers) } };
    }
    case 'com.microsoft:cancel-scheduled-message': {
      broker.cancelScheduled(entityPath, sequenceNumbersOf(body));
      return { statusCode: 200 };
    }
    case 'com.microsoft:peek-message': {
      const from = longOf(body['from-sequence-number'], 'from-sequence-number');
      const count = longOf(body['message-count'], 'message-count');
      const peeked = broker.peek(entityPath, from, count);
      if (peeked.length === 0) return { statusCode: 204 };
      return {
        statusCode: 200,
        body: {
          messages: peeked.map((message) => ({
            message: encodeWireMessage(
              toWireMessage(message, { headerDeliveryCount: deliveryCountForPeek(message) }),
            ),
          })),
        },
      };
    }
    case 'com.microsoft:receive-by-sequence-number': {
      const mode: ReceiveMode =
        longOf(body['receiver-settle-mode'] ?? 1, 'receiver-settle-mode') === 0
          ? 'receiveAndDelete'
          : 'peekLock';
      const received = broker.receiveDeferred(entityPath, sequenceNumbersOf(body), mode);
      return {
        statusCode: 200,
        body: { messages: received.map((message) => deferredEntry(context, message)) },
      };
    }
    case 'com.microsoft:update-disposition': {
      updateDisposition(context, body);
      return { statusCode: 200 };
    }
    default:
      throw new AmqpLayerError(
        'unsupported_operation',
        `The $management operation '${operation}' is not supported by devhost.`,
      );
  }
}

function deferredEntry(context: ManagementContext, message: BrokeredMessage): Record<string, unknown> {
  const wireLockToken = message.lockToken === undefined ? undefined : context.locks.toWire(message.lockToken);
  const encoded = encodeWireMessage(
    toWireMessage(message, { wireLockToken, headerDeliveryCount: deliveryCountForReceive(message) }),
  );
  const entry: Record<string, unknown> = { message: encoded };
  if (wireLockToken !== undefined) entry['lock-token'] = types.wrap_uuid(lockTokenToUuid(wireLockToken));
  return entry;
}

function updateDisposition(context: ManagementContext, body: Record<string, unknown>): void {
  const { broker, entityPath, locks } = context;
  const status = String(body['disposition-status'] ?? '');
  const propertiesToModify = optionalRecord(body['properties-to-modify']);
  const wireTokens = listOf(body['lock-tokens']).map((token) =>
    lockTokenFromUuid(binaryOf(token, 'lock-tokens')),
  );
  for (const wireToken of wireTokens) {
    const token = locks.toBroker(wireToken);
    switch (status) {
      case 'completed':
        broker.complete(entityPath, token);
        break;
      case 'abandoned':
        broker.abandon(entityPath, token, propertiesToModify);
        break;
      case 'defered':
        broker.defer(entityPath, token, propertiesToModify);
        break;
      case 'suspended':
        broker.deadLetter(
          entityPath,
          token,
          optionalString(body['deadletter-reason']),
          optionalString(body['deadletter-description']),
          propertiesToModify,
        );
        break;
      default:
        throw new AmqpLayerError('invalid_request', `Unknown disposition-status '${status}'.`);
    }
    locks.release(wireToken);
  }
}

/** Messages scheduled in one request share one enqueue time (the SDK sets it on each). */
function scheduleAll(broker: Broker, entityPath: string, messages: readonly IncomingMessage[]): number[] {
  const byTime = new Map<number, IncomingMessage[]>();
  for (const message of messages) {
    if (message.scheduledEnqueueTime === undefined) {
      throw new AmqpLayerError(
        'invalid_request',
        'A message to schedule has no x-opt-scheduled-enqueue-time.',
      );
    }
    const at = message.scheduledEnqueueTime.getTime();
    byTime.set(at, [...(byTime.get(at) ?? []), message]);
  }
  const sequenceByMessage = new Map<IncomingMessage, number>();
  for (const [at, group] of byTime) {
    const sequenceNumbers = broker.schedule(entityPath, group, new Date(at));
    group.forEach((message, index) => sequenceByMessage.set(message, sequenceNumbers[index] ?? -1));
  }
  return messages.map((message) => sequenceByMessage.get(message) ?? -1);
}

function lockTokensOf(context: ManagementContext, body: Record<string, unknown>): string[] {
  return listOf(body['lock-tokens']).map((token) =>
    context.locks.toBroker(lockTokenFromUuid(binaryOf(token, 'lock-tokens'))),
  );
}

function sequenceNumbersOf(body: Record<string, unknown>): number[] {
  return listOf(body['sequence-numbers']).map((value) => longOf(value, 'sequence-numbers'));
}

function longArray(values: readonly number[]): unknown {
  return types.wrap_array(
    values.map((value) => {
      const bytes = Buffer.alloc(8);
      bytes.writeBigInt64BE(BigInt(value));
      return bytes;
    }),
    LONG_ARRAY,
    undefined,
  );
}

/** rhea decodes a long as a number, or as 8 big-endian bytes when it does not fit. */
function longOf(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE());
  throw new AmqpLayerError('invalid_request', `The $management request field '${field}' is not a number.`);
}

function binaryOf(value: unknown, field: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  throw new AmqpLayerError('invalid_request', `The $management request field '${field}' is not binary.`);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function statusText(statusCode: number): string {
  return statusCode === 204 ? 'No Content' : 'OK';
}
