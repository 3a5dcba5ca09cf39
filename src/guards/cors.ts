/**
 * CORS for browser callers, from an allowed-origins list.
 *
 * Origins are exact (`https://portal.example.com`, `http://localhost:5173`): no patterns, no paths,
 * no `null`. `*` allows any origin but only without credentials: a wildcard together with
 * credentials is refused at start-up (browsers refuse it too, and echoing any origin with credentials
 * would let every site act with the user's session). An empty list disables CORS: no CORS headers at
 * all, and browsers keep their same-origin rule.
 *
 * `evaluateCors` answers a request:
 * - `preflight` (OPTIONS with Origin and Access-Control-Request-Method): 204 with the allowed
 *   methods, headers and max age when the origin, method and every requested header are allowed;
 *   403 without CORS headers otherwise;
 * - `actual`: the headers to add to the response (none but Vary when the origin is not allowed; the
 *   response is still served, since CORS only tells browsers what they may read; credentials are
 *   what protect the API);
 * - `not-cors`: no Origin header.
 * Responses that depend on the Origin carry `Vary: Origin`, so no cache serves one origin's answer to
 * another.
 */
import { GuardConfigError } from './errors';
import { headerValue, type HeaderInput } from './header-map';

export interface CorsOptions {
  /** Exact origins, or `["*"]` (only without credentials); empty: CORS off. */
  readonly allowedOrigins: readonly string[];
  readonly allowCredentials: boolean;
  readonly allowedMethods?: readonly string[];
  readonly allowedHeaders?: readonly string[];
  readonly exposedHeaders?: readonly string[];
  /** How long a browser may cache a preflight answer (0 to 86400). */
  readonly maxAgeSeconds?: number;
}

export const DEFAULT_CORS_METHODS = ['GET', 'POST', 'DELETE'] as const;
export const DEFAULT_CORS_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key'] as const;
export const DEFAULT_CORS_EXPOSED_HEADERS = [
  'Location',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
] as const;
export const DEFAULT_CORS_MAX_AGE_SECONDS = 600;

/** Request headers a browser may always send (the CORS-safelisted names). */
const SAFELISTED_HEADERS: ReadonlySet<string> = new Set(['accept', 'accept-language', 'content-language']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface CorsPolicy {
  readonly enabled: boolean;
  readonly anyOrigin: boolean;
  readonly origins: ReadonlySet<string>;
  readonly allowCredentials: boolean;
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

export type CorsResult =
  | { readonly kind: 'not-cors'; readonly headers: Record<string, string> }
  | { readonly kind: 'actual'; readonly allowed: boolean; readonly headers: Record<string, string> }
  | {
      readonly kind: 'preflight';
      readonly allowed: boolean;
      readonly status: 204 | 403;
      readonly headers: Record<string, string>;
    };

/** Validates the options once (at start-up); throws GuardConfigError naming what is wrong. */
export function corsPolicy(options: CorsOptions): CorsPolicy {
  const anyOrigin = options.allowedOrigins.includes('*');
  if (anyOrigin && options.allowedOrigins.length > 1)
    throw new GuardConfigError('cors', '"*" cannot be combined with other origins');
  if (anyOrigin && options.allowCredentials)
    throw new GuardConfigError('cors', 'the wildcard origin "*" is refused together with credentials');
  const origins = anyOrigin ? [] : options.allowedOrigins.map(exactOrigin);
  const methods = tokens('method', options.allowedMethods ?? DEFAULT_CORS_METHODS).map((m) =>
    m.toUpperCase(),
  );
  const headers = tokens('header', options.allowedHeaders ?? DEFAULT_CORS_HEADERS);
  const exposedHeaders = tokens('exposed header', options.exposedHeaders ?? DEFAULT_CORS_EXPOSED_HEADERS);
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_CORS_MAX_AGE_SECONDS;
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > 86_400)
    throw new GuardConfigError(
      'cors',
      `the max age must be an integer from 0 to 86400 (got ${maxAgeSeconds})`,
    );
  return Object.freeze({
    enabled: anyOrigin || origins.length > 0,
    anyOrigin,
    origins: new Set(origins),
    allowCredentials: options.allowCredentials,
    methods,
    headers,
    exposedHeaders,
    maxAgeSeconds,
  });
}

export function evaluateCors(
  policy: CorsPolicy,
  request: { readonly method: string; readonly headers: HeaderInput },
): CorsResult {
  const vary: Record<string, string> = policy.enabled && !policy.anyOrigin ? { Vary: 'Origin' } : {};
  const origin = headerValue(request.headers, 'origin');
  const requestedMethod = headerValue(request.headers, 'access-control-request-method');
  const isPreflight =
    request.method.toUpperCase() === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined;
  if (origin === undefined) return { kind: 'not-cors', headers: vary };

  const originAllowed = policy.enabled && (policy.anyOrigin || policy.origins.has(origin));
  const allowOrigin: Record<string, string> = {
    'Access-Control-Allow-Origin': policy.anyOrigin ? '*' : origin,
    ...(policy.allowCredentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
  };

  if (isPreflight) {
    const preflightVary: Record<string, string> = policy.enabled
      ? { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' }
      : {};
    const allowedHeaders = new Set(policy.headers.map((h) => h.toLowerCase()));
    const requestedHeaders = (headerValue(request.headers, 'access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0);
    const allowed =
      originAllowed &&
      policy.methods.includes(requestedMethod.trim().toUpperCase()) &&
      requestedHeaders.every((h) => allowedHeaders.has(h) || SAFELISTED_HEADERS.has(h));
    if (!allowed) return { kind: 'preflight', allowed: false, status: 403, headers: preflightVary };
    return {
      kind: 'preflight',
      allowed: true,
      status: 204,
      headers: {
        ...allowOrigin,
        'Access-Control-Allow-Methods': policy.methods.join(', '),
        'Access-Control-Allow-Headers': policy.headers.join(', '),
        'Access-Control-Max-Age': String(policy.maxAgeSeconds),
        ...preflightVary,
      },
    };
  }

  if (!originAllowed) return { kind: 'actual', allowed: false, headers: vary };
  return {
    kind: 'actual',
    allowed: true,
    headers: {
      ...allowOrigin,
      ...(policy.exposedHeaders.length === 0
        ? {}
        : { 'Access-Control-Expose-Headers': policy.exposedHeaders.join(', ') }),
      ...vary,
    },
  };
}

/** An origin exactly as browsers send it: scheme, host and port only, in canonical form. */
function exactOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GuardConfigError('cors', `"${text}" is not an origin (write it as https://host[:port])`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new GuardConfigError('cors', `"${text}" is not an http(s) origin`);
  if (url.hostname.includes('*'))
    throw new GuardConfigError('cors', `"${text}": origins are exact; patterns are not supported`);
  if (url.origin !== text)
    throw new GuardConfigError(
      'cors',
      `"${text}" is not an exact origin: write it as "${url.origin}" (no path, query, wildcard or trailing slash)`,
    );
  return url.origin;
}

function tokens(what: string, values: readonly string[]): string[] {
  for (const value of values)
    if (!TOKEN.test(value))
      throw new GuardConfigError('cors', `${what} "${value}" is not a valid HTTP token`);
  return [...values];
}
