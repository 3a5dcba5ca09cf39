/**
 * Who is calling, as Lucius sees it once a credential has been checked, and how it is read from a
 * token's claims.
 *
 * - `subject`: the caller's object id in the directory (`oid`; `sub` when there is none). Grants
 *   are keyed by it (or by `appId`).
 * - `appId`: the client application that obtained the token (`azp`, or `appid` in v1.0 tokens).
 * - `roles`: the Lucius app roles in the `roles` claim (other values are ignored).
 * - `tenants`: the tenants named by the tenants claim (an array, or one comma-separated string);
 *   `'claim-missing'` when the token has no such claim, so the grants decide; `'all'` only for the
 *   anonymous principal of `LUCIUS_AUTH_MODE=none`.
 */
import { AuthFailure } from './errors';
import { ROLES, isRole, type Role } from './roles';

export interface Principal {
  readonly subject: string;
  readonly appId?: string;
  readonly name?: string;
  readonly roles: readonly Role[];
  readonly tenants: readonly string[] | 'claim-missing' | 'all';
}

export { DEFAULT_TENANTS_CLAIM } from '../config/auth-settings';

export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  subject: 'anonymous',
  name: 'anonymous (LUCIUS_AUTH_MODE=none)',
  roles: Object.freeze([...ROLES]),
  tenants: 'all',
});

type Claims = Readonly<Record<string, unknown>>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** The principal a verified token's claims describe, or `invalid_token` when it names no subject. */
export function principalFromClaims(claims: Claims, tenantsClaim: string): Principal | AuthFailure {
  const subject = text(claims.oid) ?? text(claims.sub);
  if (subject === undefined) return AuthFailure.invalidToken('the token names no subject (oid or sub)');
  const appId = text(claims.azp) ?? text(claims.appid);
  const name = text(claims.name) ?? text(claims.preferred_username) ?? text(claims.upn);
  const roleValues = Array.isArray(claims.roles)
    ? claims.roles
    : claims.roles === undefined
      ? []
      : [claims.roles];
  const roles = [...new Set(roleValues.filter(isRole))];
  return Object.freeze({
    subject,
    ...(appId === undefined ? {} : { appId }),
    ...(name === undefined ? {} : { name }),
    roles: Object.freeze(roles),
    tenants: tenantsOf(claims[tenantsClaim]),
  });
}

function tenantsOf(value: unknown): Principal['tenants'] {
  if (value === undefined || value === null) return 'claim-missing';
  const items = Array.isArray(value) ? value : [value];
  const tenants = items
    .filter((item): item is string => typeof item === 'string')
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return Object.freeze([...new Set(tenants)]);
}
