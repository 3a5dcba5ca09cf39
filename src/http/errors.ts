/** Errors of the HTTP edge: problems with the request itself, before any use case runs. */
import { LuciusError } from '../domain/errors';

export class UnsupportedMediaTypeError extends LuciusError {
  constructor(received: string | null) {
    super(
      'unsupported_media_type',
      `Content-Type must be application/json (got ${received === null ? 'none' : `"${received}"`})`,
      {
        fault: 'caller',
        details: { accepted: ['application/json'] },
      },
    );
  }
}

export class PayloadTooLargeError extends LuciusError {
  constructor(limit: number) {
    super('payload_too_large', `the request body exceeds ${limit} bytes (LUCIUS_MAX_BODY_BYTES)`, {
      fault: 'caller',
      details: { limit_bytes: limit },
    });
  }
}

export class MalformedJsonError extends LuciusError {
  constructor(cause: unknown) {
    super(
      'malformed_json',
      `the request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        fault: 'caller',
        cause,
        violations: [{ pointer: '', message: 'not valid JSON', keyword: 'json' }],
      },
    );
  }
}

export class InvalidQueryError extends LuciusError {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super('invalid_query', `query parameter ${parameter}: ${message}`, {
      fault: 'caller',
      details: { parameter },
    });
  }
}

/**
 * A worker callback's `Lucius-Callback-Token` does not verify, or is not this callback's job, step,
 * attempt and lease. Why (`reason`) goes to the log only; the caller gets the same answer for all.
 */
export class CallbackTokenInvalidError extends LuciusError {
  constructor(readonly reason: string) {
    super(
      'callback_token_invalid',
      'the Lucius-Callback-Token header is not valid for this callback: send the callback_token of the directive for this job, step, attempt and lease',
      { fault: 'caller' },
    );
  }
}

/** A rate limit of the API refused the request (the limits are per principal and per tenant). */
export class RateLimitedError extends LuciusError {
  constructor(
    readonly policy: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', `too many requests (${policy} limit): retry after ${retryAfterSeconds} s`, {
      fault: 'caller',
      retryable: true,
      details: { policy, retry_after_seconds: retryAfterSeconds },
    });
  }
}

/** A CORS preflight from an origin, or for a method or header, the API does not allow. */
export class CorsRefusedError extends LuciusError {
  constructor() {
    super('cors_refused', 'this origin, method or header is not allowed to call the API from a browser', {
      fault: 'caller',
    });
  }
}
