/**
 * Errors of the contracts layer. SchemaLoadError is a start-up failure of the deployment (a missing
 * or mis-named schema file); SchemaValidationError is a caller's document that breaks its contract.
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
