/**
 * The authentication port: turns a request's headers into the calling `Principal`, or into the
 * `AuthFailure` to answer with. Adapters, one per `LUCIUS_AUTH_MODE`: `JwtAuthenticator` (`entra`
 * and `dev`: bearer JWTs), `EasyAuthAuthenticator` (`easyauth`), `NoneAuthenticator` (`none`).
 */
import { AuthFailure } from './errors';
import type { Principal } from './principal';

import { AUTH_MODES, type AuthMode } from '../config/auth-settings';

export { AUTH_MODES, type AuthMode };

/** What an authenticator reads of a request: `Headers` (fetch, `@azure/functions`) fits. */
export interface HeaderLookup {
  get(name: string): string | null;
}

export interface Authenticator {
  readonly mode: AuthMode;
  /** Never throws for a caller's mistake: a refused credential is the returned `AuthFailure`. */
  authenticate(headers: HeaderLookup): Promise<Principal | AuthFailure>;
}

/** Far above any Entra access token (a few KB, more with group claims); refused before parsing. */
const MAX_TOKEN_LENGTH = 16_384;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of the `Authorization` header; `unauthenticated` when there is none (no header,
 * or another scheme), `invalid_token` when the header says Bearer but what follows is not a token.
 */
export function bearerTokenOf(headers: HeaderLookup): string | AuthFailure {
  const header = headers.get('authorization');
  if (header === null || header.trim() === '') return AuthFailure.unauthenticated();
  const match = /^\s*(\S+)(?:\s+(.*))?$/.exec(header);
  if (match?.[1]?.toLowerCase() !== 'bearer') return AuthFailure.unauthenticated();
  const token = (match[2] ?? '').trim();
  if (token.length > MAX_TOKEN_LENGTH) return AuthFailure.invalidToken('the bearer token is too long');
  if (!B64TOKEN.test(token))
    return AuthFailure.invalidToken('the Authorization header does not hold a bearer token');
  return token;
}
