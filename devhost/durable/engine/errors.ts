/** Errors of the durable engine (the client-facing ones live in ../durable-api.ts). */

/** Why an orchestration instance failed because of how it was written or replayed (system side: never retried). */
export class NonDeterministicOrchestrationError extends Error {
  readonly code = 'non_deterministic_orchestration';
  constructor(
    readonly instanceId: string,
    readonly detail: string,
  ) {
    super(`Non-deterministic workflow detected in instance ${instanceId}: ${detail}`);
  }
}

/** An orchestrator asked for something devhost does not implement (entities, durable HTTP). */
export class UnsupportedActionError extends Error {
  readonly code = 'unsupported_action';
  constructor(readonly action: string) {
    super(`devhost's durable engine does not support ${action}`);
  }
}

/**
 * A value (an input, output, activity result or event payload) the store cannot hold (system side:
 * retrying would fail the same way). The engine fails the instance, or the activity, saying so.
 */
export class PayloadTooLargeError extends Error {
  readonly code = 'payload_too_large';
  constructor(
    readonly chars: number,
    readonly limit: number,
  ) {
    super(`a value of ${chars} characters is over the durable store's limit of ${limit} characters`);
  }
}

/**
 * An episode's commit found its instance moved since it was read (another process committed an
 * episode of it, or deleted it): nothing was stored. Retryable: the engine reads the instance and
 * its pending messages afresh and runs the episode again.
 */
export class InstanceConflictError extends Error {
  readonly code = 'instance_conflict';
  constructor(
    readonly instanceId: string,
    options?: { cause?: unknown },
  ) {
    super(`instance ${instanceId} was changed by another writer since it was read`, options);
  }
}

const TOO_LARGE_CODES = new Set(['PropertyValueTooLarge', 'EntityTooLarge', 'RequestBodyTooLarge']);

/** The store refused a value for its size (ours, or Table Storage's 413 / ...TooLarge codes). */
export function isPayloadTooLarge(error: unknown): boolean {
  if (error instanceof PayloadTooLargeError) return true;
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  return statusCode === 413 || (typeof code === 'string' && TOO_LARGE_CODES.has(code));
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stack when there is one (activity failure details, the engine's own log). */
export function errorDetails(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
