/**
 * The one table that maps error codes to HTTP statuses, and the RFC 9457 problem documents
 * (`application/problem+json`) every HTTP error is answered with.
 *
 * A caller's mistake is never a 500: an unmapped caller-fault code answers 400; an unmapped system
 * fault answers 503 when retrying may help and 500 otherwise. Unknown (non-Lucius) errors answer 500
 * with a generic detail; the error itself goes to the log, never to the caller. Authentication
 * failures carry their `WWW-Authenticate` challenge; a rate limit's 429 its own Retry-After.
 */
import type { HttpResponseInit } from '@azure/functions';
import { isAuthFailure } from '../auth/errors';
import { LuciusError } from '../domain/errors';
import { InvalidQueryError, RateLimitedError } from './errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  malformed_json: 400,
  validation_failed: 400,
  invalid_query: 400,
  idempotency_key_mismatch: 400,
  invalid_idempotency_key: 400,
  invalid_continuation: 400,
  tenant_required: 400,
  unauthenticated: 401,
  invalid_token: 401,
  missing_role: 403,
  tenant_forbidden: 403,
  callback_token_invalid: 403,
  cors_refused: 403,
  job_not_found: 404,
  step_not_found: 404,
  idempotency_conflict: 409,
  invalid_transition: 409,
  stale_lease: 409,
  payload_too_large: 413,
  ledger_entity_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  unknown_request_type: 422,
  invalid_step_payload: 422,
  invalid_reply: 422,
  tenant_at_capacity: 429,
  rate_limited: 429,
  request_header_fields_too_large: 431,
  auth_unavailable: 503,
  ledger_unavailable: 503,
  write_contention: 503,
  orchestration_unavailable: 503,
  internal_error: 500,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: ReadonlyArray<{
    readonly pointer?: string;
    readonly parameter?: string;
    readonly detail: string;
    readonly keyword?: string;
  }>;
  readonly [extension: string]: unknown;
}

export function statusForError(error: LuciusError): number {
  const mapped = STATUS_BY_CODE[error.code];
  if (mapped !== undefined) return mapped;
  if (error.fault === 'caller') return 400;
  return error.retryable ? 503 : 500;
}

export function problemType(code: string): string {
  return `urn:lucius:problem:${code}`;
}

export interface ProblemOptions {
  readonly instance?: string;
  readonly retryAfterSeconds?: number;
}

/** Builds the response for any thrown value. */
export function problemResponse(error: unknown, options: ProblemOptions = {}): HttpResponseInit {
  const lucius = error instanceof LuciusError ? error : undefined;
  const code = lucius?.code ?? 'internal_error';
  const status = lucius === undefined ? 500 : statusForError(lucius);
  const errors =
    lucius instanceof InvalidQueryError
      ? [{ parameter: lucius.parameter, detail: lucius.message }]
      : lucius !== undefined && lucius.violations.length > 0
        ? lucius.violations.map((v) => ({
            pointer: v.pointer,
            detail: v.message,
            ...(v.keyword === undefined ? {} : { keyword: v.keyword }),
          }))
        : undefined;
  const body: ProblemDocument = {
    type: problemType(code),
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail: lucius?.message ?? 'An unexpected error occurred; it has been logged.',
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    ...(errors === undefined ? {} : { errors }),
    ...(lucius !== undefined && lucius.fault === 'caller' ? publicDetails(lucius) : {}),
  };
  const headers: Record<string, string> = { 'Content-Type': PROBLEM_CONTENT_TYPE };
  if (status === 429 || status === 503)
    headers['Retry-After'] = String(
      lucius instanceof RateLimitedError ? lucius.retryAfterSeconds : (options.retryAfterSeconds ?? 5),
    );
  // RFC 6750 §3: a refused or missing bearer token answers with its challenge.
  if (isAuthFailure(lucius) && lucius.wwwAuthenticate !== undefined)
    headers['WWW-Authenticate'] = lucius.wwwAuthenticate;
  return { status, headers, body: JSON.stringify(body) };
}

/** Caller-fault details are safe to show (they echo what the caller sent); system details are not. */
function publicDetails(error: LuciusError): Record<string, unknown> {
  const { job_id: _hidden, ...rest } = error.details as Record<string, unknown>;
  return error.code === 'job_not_found' || error.code === 'step_not_found' ? {} : rest;
}
