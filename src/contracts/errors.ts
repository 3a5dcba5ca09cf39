/**
 * Errors of the contracts layer. SchemaLoadError is a start-up failure of the deployment (a missing
 * or mis-named schema file); SchemaValidationError is a caller's document that breaks its contract;
 * InvalidReplyError is a worker reply that does (a reply that fails to decode is quarantined with
 * `deadLetterReasonFor`).
 */
import { LuciusError, type Violation } from '../domain/errors';

/** The schemas/ folder or one of its files cannot be found, read or parsed, or its `$id` is wrong. */
export class SchemaLoadError extends LuciusError {
  constructor(message: string, cause?: unknown) {
    super('schema_load_failed', message, { fault: 'system', cause });
  }
}

/** A document is JSON but does not match its contract's schema; `violations` point into it. */
export class SchemaValidationError extends LuciusError {
  constructor(contract: string, violations: readonly Violation[]) {
    const count = `${violations.length} problem${violations.length === 1 ? '' : 's'}`;
    super('validation_failed', `the document does not match ${contract} (${count})`, {
      fault: 'caller',
      violations,
      details: { contract },
    });
  }
}

/**
 * A worker reply (ACK, RESULT, heartbeat) is not JSON, names no known kind, or breaks its contract.
 * `violations` point into the reply body. Redelivering it cannot help: dead-letter it (Service Bus)
 * or answer 422 (HTTP).
 */
export class InvalidReplyError extends LuciusError {
  constructor(
    readonly contract: string | undefined,
    violations: readonly Violation[],
  ) {
    const count = `${violations.length} problem${violations.length === 1 ? '' : 's'}`;
    super('invalid_reply', `the worker reply does not match ${contract ?? 'any reply contract'} (${count})`, {
      fault: 'caller',
      retryable: false,
      violations,
      details: contract === undefined ? {} : { contract },
    });
  }
}
