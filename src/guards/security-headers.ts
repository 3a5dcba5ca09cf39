/**
 * The headers every Lucius response carries, whatever its status (the API returns JSON, never HTML,
 * so the set is the one recommended for REST APIs by OWASP's REST Security Cheat Sheet):
 *
 * - `X-Content-Type-Options: nosniff`: browsers never guess another type than the declared one;
 * - `Cache-Control: no-store`: no browser or proxy keeps a tenant's data (a response that states its
 *   own Cache-Control keeps it);
 * - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`: a response rendered by
 *   mistake loads nothing and cannot be framed;
 * - `X-Frame-Options: DENY`: the same for browsers without frame-ancestors;
 * - `Referrer-Policy: no-referrer`;
 * - `Strict-Transport-Security: max-age=…; includeSubDomains`: HTTPS only (omitted when the max age
 *   is 0, e.g. on plain-HTTP devhost, where browsers ignore it anyway).
 */
import { GuardConfigError } from './errors';

export interface SecurityHeaderOptions {
  /** HSTS max age in seconds; 0 leaves the header out. */
  readonly hstsMaxAgeSeconds: number;
}

export const DEFAULT_HSTS_MAX_AGE_SECONDS = 31_536_000;

export function securityHeaders(
  options: SecurityHeaderOptions = { hstsMaxAgeSeconds: DEFAULT_HSTS_MAX_AGE_SECONDS },
): Record<string, string> {
  const { hstsMaxAgeSeconds } = options;
  if (!Number.isSafeInteger(hstsMaxAgeSeconds) || hstsMaxAgeSeconds < 0)
    throw new GuardConfigError(
      'security-headers',
      `the HSTS max age must be a non-negative integer (got ${hstsMaxAgeSeconds})`,
    );
  return {
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    ...(hstsMaxAgeSeconds === 0
      ? {}
      : { 'Strict-Transport-Security': `max-age=${hstsMaxAgeSeconds}; includeSubDomains` }),
  };
}

/** Headers a response may set for itself; the other security headers always win. */
const RESPONSE_MAY_SET: ReadonlySet<string> = new Set(['cache-control']);

/**
 * A response's headers with the security headers added. A header of the same name (in any case) is
 * replaced, except Cache-Control, which the response may state itself.
 */
export function withSecurityHeaders(
  headers: Readonly<Record<string, string>>,
  options?: SecurityHeaderOptions,
): Record<string, string> {
  const secure = securityHeaders(options);
  const secureNames = new Set(Object.keys(secure).map((n) => n.toLowerCase()));
  const result: Record<string, string> = {};
  const kept = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (secureNames.has(lower) && !RESPONSE_MAY_SET.has(lower)) continue;
    result[name] = value;
    kept.add(lower);
  }
  for (const [name, value] of Object.entries(secure)) {
    if (!kept.has(name.toLowerCase())) result[name] = value;
  }
  return result;
}
