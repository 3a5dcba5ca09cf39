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
