/**
 * `LUCIUS_AUTH_MODE=easyauth`: the caller was authenticated by App Service Authentication ("Easy
 * Auth", the platform's authentication module in front of the app), which passes the token's claims
 * in the `x-ms-client-principal` header: base64 of
 * `{ "auth_typ": "aad", "name_typ": "...", "role_typ": "...", "claims": [{ "typ": "...", "val": "..." }] }`.
 *
 * The header proves nothing by itself: anyone can send one. It is trustworthy only because, with
 * App Service Authentication enabled on the app, every request passes through the module first and
 * the platform does not let external requests set the `X-MS-CLIENT-PRINCIPAL*` headers: they are
 * present only when the module put them there. So this mode must be switched on explicitly
 * (`LUCIUS_AUTH_EASYAUTH_TRUSTED=true`) and refuses to start unless the platform says the module
 * is on (`WEBSITE_AUTH_ENABLED=True`, set by App Service); the README lists the conditions.
 *
 * The module has already checked signature, issuer, audience and lifetime; Lucius reads the claims
 * (some arrive under their long WS-Federation names, e.g. the object id) and, when audiences are
 * configured, checks `aud` again. A request without the header is unauthenticated (the app allows
 * anonymous requests through when "Allow unauthenticated access" is chosen).
 */
import type { Authenticator, HeaderLookup } from './authenticator';
import { AuthFailure } from './errors';
import { principalFromClaims, type Principal } from './principal';

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

const LONG_NAMES: Readonly<Record<string, string>> = {
  'http://schemas.microsoft.com/identity/claims/objectidentifier': 'oid',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier': 'sub',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/role': 'roles',
  'http://schemas.microsoft.com/identity/claims/tenantid': 'tid',
};
const MULTI_VALUED = new Set(['roles', 'aud']);

export interface EasyAuthOptions {
  readonly tenantsClaim: string;
  /** When given, the `aud` claim must be one of them (defence in depth: the module checks it too). */
  readonly audiences?: readonly string[];
}

interface ClientPrincipal {
  readonly auth_typ?: unknown;
  readonly name_typ?: unknown;
  readonly role_typ?: unknown;
  readonly claims?: unknown;
}

export class EasyAuthAuthenticator implements Authenticator {
  readonly mode = 'easyauth' as const;

  constructor(private readonly options: EasyAuthOptions) {}

  authenticate(headers: HeaderLookup): Promise<Principal | AuthFailure> {
    return Promise.resolve(this.decide(headers.get(CLIENT_PRINCIPAL_HEADER)));
  }

  private decide(header: string | null): Principal | AuthFailure {
    if (header === null || header.trim() === '') return AuthFailure.unauthenticated();
    const decoded = decodeClientPrincipal(header);
    if (decoded === undefined) return AuthFailure.invalidToken('the client principal header is malformed');
    if (typeof decoded.auth_typ === 'string' && decoded.auth_typ.toLowerCase() !== 'aad')
      return AuthFailure.invalidToken('the caller was not signed in with Microsoft Entra ID');
    const claims = claimsOf(decoded, this.options.tenantsClaim);
    if (claims === undefined) return AuthFailure.invalidToken('the client principal header is malformed');
    const audiences = this.options.audiences ?? [];
    if (audiences.length > 0) {
      const aud = (claims.aud as string[] | undefined) ?? [];
      if (!aud.some((value) => audiences.includes(value)))
        return AuthFailure.invalidToken('the token is for another audience');
    }
    return principalFromClaims(claims, this.options.tenantsClaim);
  }
}

export function decodeClientPrincipal(header: string): ClientPrincipal | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as ClientPrincipal)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The header's `[{typ, val}]` as a claims record; repeated claims (roles, tenants) become arrays. */
function claimsOf(principal: ClientPrincipal, tenantsClaim: string): Record<string, unknown> | undefined {
  if (!Array.isArray(principal.claims)) return undefined;
  const names: Record<string, string> = { ...LONG_NAMES };
  if (typeof principal.role_typ === 'string') names[principal.role_typ] = 'roles';
  if (typeof principal.name_typ === 'string' && !(principal.name_typ in names))
    names[principal.name_typ] = 'name';
  const multi = new Set([...MULTI_VALUED, tenantsClaim]);
  const claims: Record<string, unknown> = {};
  for (const entry of principal.claims as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { typ, val } = entry as { typ?: unknown; val?: unknown };
    if (typeof typ !== 'string' || typeof val !== 'string') return undefined;
    const name = names[typ] ?? typ;
    if (multi.has(name)) claims[name] = [...((claims[name] as string[] | undefined) ?? []), val];
    else claims[name] ??= val;
  }
  return claims;
}
