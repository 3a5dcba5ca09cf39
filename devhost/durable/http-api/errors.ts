/**
 * Errors of the Durable HTTP API layer, and the one table that maps every error (these and the
 * DurableClientApi's own) to an HTTP status. Each says whose fault it is: `caller` errors are 4xx,
 * `system` errors 5xx. Bodies are `application/problem+json` carrying the stable `code`.
 */
import { InstanceExistsError, UnknownOrchestratorError } from '../durable-api';

export type Fault = 'caller' | 'system';

export abstract class DurableHttpApiError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  abstract readonly fault: Fault;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A malformed request: bad query parameter, bad JSON, bad instance id. */
export class InvalidRequestError extends DurableHttpApiError {
  readonly code = 'invalid_request';
  readonly status = 400;
  readonly fault = 'caller';
  constructor(
    message: string,
    readonly parameter?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class PayloadTooLargeError extends DurableHttpApiError {
  readonly code = 'payload_too_large';
  readonly status = 413;
  readonly fault = 'caller';
  constructor(readonly limitBytes: number) {
    super(`the request body exceeds ${limitBytes} bytes`);
  }
}

/** No route under the Durable HTTP API prefix matches the path. */
export class RouteNotFoundError extends DurableHttpApiError {
  readonly code = 'route_not_found';
  readonly status = 404;
  readonly fault = 'caller';
  constructor(readonly path: string) {
    super(`no Durable HTTP API route matches ${path}`);
  }
}

export class MethodNotAllowedError extends DurableHttpApiError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  readonly fault = 'caller';
  constructor(
    readonly method: string,
    readonly allowed: readonly string[],
  ) {
    super(`${method} is not allowed here; use ${allowed.join(' or ')}`);
  }
}

export class InstanceNotFoundError extends DurableHttpApiError {
  readonly code = 'instance_not_found';
  readonly status = 404;
  readonly fault = 'caller';
  constructor(readonly instanceId: string) {
    super(`no orchestration instance with id ${instanceId} exists`);
  }
}

/** The operation does not apply to an instance in its current (finished) state: the extension's 410 Gone. */
export class InstanceGoneError extends DurableHttpApiError {
  readonly code = 'instance_not_applicable';
  readonly status = 410;
  readonly fault = 'caller';
  constructor(
    readonly instanceId: string,
    readonly operation: string,
  ) {
    super(`cannot ${operation} orchestration instance ${instanceId}: it is not in a state that allows it`);
  }
}

/**
 * Suspending an instance that is not running, or resuming one that is not suspended: the extension's
 * client throws InvalidOperationException with this message; devhost answers it as 410 Gone.
 */
export class InstanceStateError extends DurableHttpApiError {
  readonly code = 'instance_not_applicable';
  readonly status = 410;
  readonly fault = 'caller';
  constructor(
    readonly instanceId: string,
    readonly operation: 'suspend' | 'resume',
    readonly runtimeStatus: string,
  ) {
    super(
      `Cannot ${operation} the orchestration instance ${instanceId} because instance is in the ${runtimeStatus} state.`,
    );
  }
}

/** Entities, rewind and restart: endpoints the extension has that devhost does not implement. */
export class NotSupportedError extends DurableHttpApiError {
  readonly code = 'not_supported';
  readonly status = 501;
  readonly fault = 'system';
  constructor(readonly feature: string) {
    super(`${feature} is not supported by devhost`);
  }
}

export interface ErrorResponse {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The single error-to-status table of this layer. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof MethodNotAllowedError) {
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      headers: { Allow: error.allowed.join(', ') },
    };
  }
  if (error instanceof DurableHttpApiError) {
    return { status: error.status, code: error.code, detail: error.message };
  }
  if (error instanceof InstanceExistsError) {
    return { status: 409, code: error.code, detail: error.message };
  }
  if (error instanceof UnknownOrchestratorError) {
    // The extension answers an unknown function name with 400 (ArgumentException).
    return { status: 400, code: error.code, detail: error.message };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 500, code: 'internal_error', detail: `the durable backend failed: ${detail}` };
}
