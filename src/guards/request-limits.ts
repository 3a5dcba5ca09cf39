/**
 * Size limits on a request, checked before anything reads it: the header section (field count and
 * bytes: 431), the query string (414) and a declared body size (413). The body reader enforces the
 * body limit again while reading, since Content-Length may be absent (chunked) or wrong.
 *
 * `checkRequestLimits` returns the first limit broken (headers, then query, then body), as the
 * problem code and status the HTTP edge answers with, or undefined when the request is within all.
 */
import { LuciusError } from '../domain/errors';
import { GuardConfigError } from './errors';
import { headerEntries, type HeaderInput } from './header-map';

export interface RequestLimits {
  readonly maxBodyBytes: number;
  readonly maxHeaderCount: number;
  /** Bytes of the header section: every `name: value\r\n` line. */
  readonly maxHeaderBytes: number;
  /** Bytes of the query string, without the `?`. */
  readonly maxQueryBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxHeaderCount: 100,
  maxHeaderBytes: 16 * 1024,
  maxQueryBytes: 2048,
});

export type RequestLimitCode = 'payload_too_large' | 'request_header_fields_too_large' | 'uri_too_long';

export interface RequestLimitViolation {
  readonly code: RequestLimitCode;
  readonly status: 413 | 431 | 414;
  readonly limit: number;
  readonly detail: string;
}

/** Validates limits once (at start-up). */
export function requestLimits(limits: RequestLimits): RequestLimits {
  for (const [name, value] of Object.entries(limits))
    if (!Number.isSafeInteger(value) || value < 1)
      throw new GuardConfigError(
        'request-limits',
        `${name} must be a positive integer (got ${String(value)})`,
      );
  return Object.freeze({ ...limits });
}

export function checkRequestLimits(
  limits: RequestLimits,
  request: { readonly url: string; readonly headers: HeaderInput },
): RequestLimitViolation | undefined {
  const entries = headerEntries(request.headers);
  if (entries.length > limits.maxHeaderCount)
    return {
      code: 'request_header_fields_too_large',
      status: 431,
      limit: limits.maxHeaderCount,
      detail: `the request has ${entries.length} header fields; at most ${limits.maxHeaderCount} are accepted`,
    };
  const headerBytes = entries.reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8') + 4,
    0,
  );
  if (headerBytes > limits.maxHeaderBytes)
    return {
      code: 'request_header_fields_too_large',
      status: 431,
      limit: limits.maxHeaderBytes,
      detail: `the request's header fields take ${headerBytes} bytes; at most ${limits.maxHeaderBytes} are accepted`,
    };

  const queryBytes = Buffer.byteLength(queryOf(request.url), 'utf8');
  if (queryBytes > limits.maxQueryBytes)
    return {
      code: 'uri_too_long',
      status: 414,
      limit: limits.maxQueryBytes,
      detail: `the query string has ${queryBytes} bytes; at most ${limits.maxQueryBytes} are accepted`,
    };

  const declared = entries.find(([name]) => name === 'content-length')?.[1].trim();
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limits.maxBodyBytes)
    return {
      code: 'payload_too_large',
      status: 413,
      limit: limits.maxBodyBytes,
      detail: `the request body declares ${declared} bytes; at most ${limits.maxBodyBytes} are accepted`,
    };
  return undefined;
}

/** The query string of a URL or request target, without `?` and fragment ("" when there is none). */
function queryOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const end = url.indexOf('#', start);
  return url.slice(start + 1, end < 0 ? undefined : end);
}

/** A request broke a size limit of the edge: body (413), header section (431) or query (414). */
export class RequestLimitError extends LuciusError {
  readonly status: number;

  constructor(readonly violation: RequestLimitViolation) {
    super(violation.code, violation.detail, { fault: 'caller', details: { limit: violation.limit } });
    this.status = violation.status;
  }
}
