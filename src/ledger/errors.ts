/** Errors of the ledger layer. Codes are mapped to HTTP statuses at the edge (src/http/problem.ts). */
import { LuciusError } from '../domain/errors';

export class IdempotencyConflictError extends LuciusError {
  constructor(tenantId: string, key: string, existingJobId: string) {
    super(
      'idempotency_conflict',
      `idempotency key "${key}" was already used by tenant ${tenantId} for a different command`,
      {
        fault: 'caller',
        details: { tenant_id: tenantId, idempotency_key: key, job_id: existingJobId },
      },
    );
  }
}

export class TenantAtCapacityError extends LuciusError {
  constructor(
    readonly tenantId: string,
    readonly limit: number,
  ) {
    super(
      'tenant_at_capacity',
      `tenant ${tenantId} already has ${limit} jobs in flight (LUCIUS_MAX_INFLIGHT_PER_TENANT)`,
      {
        fault: 'caller',
        retryable: true,
        details: { tenant_id: tenantId, limit },
      },
    );
  }
}

export class JobNotFoundError extends LuciusError {
  constructor(jobId: string) {
    super('job_not_found', `job ${jobId} does not exist`, { fault: 'caller', details: { job_id: jobId } });
  }
}

export class StepNotFoundError extends LuciusError {
  constructor(jobId: string, stepId: string) {
    super('step_not_found', `job ${jobId} has no step ${stepId}`, {
      fault: 'caller',
      details: { job_id: jobId, step_id: stepId },
    });
  }
}

export class InvalidContinuationError extends LuciusError {
  constructor(cause?: unknown) {
    super('invalid_continuation', 'the continuation token is not one this API issued', {
      fault: 'caller',
      cause,
    });
  }
}

/**
 * The store did not answer or failed. Retrying may succeed when the cause was a network failure, a
 * timeout, throttling or a 5xx; not when storage refused the request itself (403 and other 4xx).
 */
export class LedgerUnavailableError extends LuciusError {
  constructor(message: string, cause?: unknown) {
    super('ledger_unavailable', message, { fault: 'system', retryable: isTransientCause(cause), cause });
  }
}

function isTransientCause(cause: unknown): boolean {
  const status = (cause as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status !== 'number' || status >= 500 || status === 408 || status === 429;
}

/**
 * A job or step row would exceed what Azure Table Storage stores in one entity (1 MiB) or one
 * entity-group transaction (4 MiB). The caller sent (or a worker returned) too much data inline;
 * it should pass a reference instead. Nothing was written.
 */
export class LedgerEntityTooLargeError extends LuciusError {
  constructor(
    readonly entity: string,
    readonly estimatedBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      'ledger_entity_too_large',
      `${entity} needs about ${estimatedBytes} bytes in Table Storage; the limit is ${limitBytes}`,
      {
        fault: 'caller',
        details: { entity, estimated_bytes: estimatedBytes, limit_bytes: limitBytes },
      },
    );
  }
}

/** A conditional write kept losing to concurrent writers beyond the retry budget. */
export class WriteContentionError extends LuciusError {
  constructor(entity: string, attempts: number) {
    super('write_contention', `${entity}: still conflicting after ${attempts} conditional write attempts`, {
      fault: 'system',
      retryable: true,
      details: { entity, attempts },
    });
  }
}
