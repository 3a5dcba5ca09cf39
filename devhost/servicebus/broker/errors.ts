/**
 * Errors of the broker core. Operation errors are `BrokerError`s (from the seam) carrying the AMQP
 * condition Service Bus uses, so SDK callers see the same error `code` as on Azure; they are all the
 * caller's fault and retrying the same call does not help (except after a lock is re-acquired).
 * Configuration problems are one `BrokerConfigError` listing every problem with its JSON path.
 */
import { DevhostBaseError } from '../../common/errors';
import { BrokerError } from './broker-api';

export const CONDITIONS = {
  entityNotFound: 'com.microsoft:entity-not-found',
  messageLockLost: 'com.microsoft:message-lock-lost',
  messageNotFound: 'com.microsoft:message-not-found',
  notAllowed: 'amqp:not-allowed',
  invalidField: 'amqp:invalid-field',
} as const;

export function entityNotFound(entityPath: string): BrokerError {
  return new BrokerError(
    CONDITIONS.entityNotFound,
    `The messaging entity '${entityPath}' could not be found.`,
  );
}

export function messageLockLost(entityPath: string, lockToken: string): BrokerError {
  return new BrokerError(
    CONDITIONS.messageLockLost,
    `The lock supplied is invalid. Either the lock expired, or the message has already been removed from '${entityPath}' (lock token ${lockToken}).`,
  );
}

export function messageNotFound(entityPath: string, sequenceNumber: number): BrokerError {
  return new BrokerError(
    CONDITIONS.messageNotFound,
    `Failed to lock one or more specified messages in '${entityPath}': message with sequence number ${sequenceNumber} not found.`,
  );
}

export function notAllowed(entityPath: string, what: string): BrokerError {
  return new BrokerError(CONDITIONS.notAllowed, `${what} is not allowed on '${entityPath}'.`);
}

export function invalidArgument(message: string): BrokerError {
  return new BrokerError(CONDITIONS.invalidField, message);
}

export interface ConfigIssue {
  /** JSON path into the configuration, e.g. `UserConfig.Namespaces[0].Queues[1].Properties.LockDuration`. */
  readonly path: string;
  readonly message: string;
}

/** The emulator configuration is invalid: the operator's fault, not retryable. */
export class BrokerConfigError extends DevhostBaseError<'servicebus_config_invalid'> {
  readonly fault = 'caller';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      'servicebus_config_invalid',
      `Invalid Service Bus emulator configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n'),
    );
  }
}
