/**
 * Errors of the AMQP layer, and the one table that turns any error into what goes on the wire:
 * an AMQP error (link detach, rejected disposition) or a `$management` status (statusCode,
 * errorCondition, statusDescription application properties).
 *
 * The conditions are the ones Azure Service Bus uses, chosen so that @azure/service-bus gives its
 * callers the same `code` as against Azure:
 *  - an unknown entity is `amqp:not-found` with the description "The messaging entity '…' could not
 *    be found." — the SDK maps the description, not the condition, to `MessagingEntityNotFound`
 *    (core-amqp `translate`); the broker's `com.microsoft:entity-not-found` is therefore rewritten;
 *  - `com.microsoft:message-lock-lost` → MessageLockLost, `com.microsoft:message-not-found` →
 *    MessageNotFound, `amqp:not-implemented` → GeneralError.
 * Broker errors are the caller's fault; anything else is reported as `amqp:internal-error` (ours).
 */
import { DevhostBaseError } from '../../common/errors';
import { BrokerError } from '../broker/broker-api';

export type AmqpLayerErrorCode = 'unsupported_operation' | 'invalid_request' | 'unsupported_feature';

const CONDITION_BY_CODE: Readonly<Record<AmqpLayerErrorCode, string>> = {
  unsupported_operation: 'amqp:not-implemented',
  invalid_request: 'com.microsoft:argument-error',
  unsupported_feature: 'amqp:not-implemented',
};

/** A request the emulator cannot serve: the client's fault (or a feature devhost lacks); not retryable. */
export class AmqpLayerError extends DevhostBaseError<AmqpLayerErrorCode> {
  readonly fault = 'caller';
  readonly condition: string;
  readonly retryable = false;

  constructor(code: AmqpLayerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.condition = CONDITION_BY_CODE[code];
  }
}

/** The AMQP `error` composite (condition, description) as rhea writes it. */
export interface WireError {
  readonly condition: string;
  readonly description: string;
}

const BROKER_TO_WIRE_CONDITION: Readonly<Record<string, string>> = {
  'com.microsoft:entity-not-found': 'amqp:not-found',
};

export function entityNotFoundError(entityPath: string): WireError {
  return {
    condition: 'amqp:not-found',
    description: `The messaging entity '${entityPath}' could not be found.`,
  };
}

/** Any thrown value → the AMQP error to send. */
export function toWireError(error: unknown): WireError {
  if (error instanceof BrokerError || error instanceof AmqpLayerError) {
    return {
      condition: BROKER_TO_WIRE_CONDITION[error.condition] ?? error.condition,
      description: error.message,
    };
  }
  return {
    condition: 'amqp:internal-error',
    description: `devhost Service Bus emulator internal error: ${error instanceof Error ? error.message : String(error)}`,
  };
}

const STATUS_BY_CONDITION: Readonly<Record<string, number>> = {
  'amqp:not-found': 404,
  'com.microsoft:message-not-found': 404,
  'com.microsoft:message-lock-lost': 410,
  'com.microsoft:session-lock-lost': 410,
  'amqp:not-allowed': 400,
  'amqp:invalid-field': 400,
  'com.microsoft:argument-error': 400,
  'amqp:not-implemented': 501,
};

/** The `$management` status code for an error condition. */
export function managementStatusFor(condition: string): number {
  return STATUS_BY_CONDITION[condition] ?? 500;
}
