/**
 * Authorization: may this principal do this action (its app roles, roles.ts), and for which tenant.
 *
 * `tenantAccess` decides the tenant a request acts for. The tenants a caller may use come from its
 * token's tenants claim when there is one, else from the grants (by object id and by client app
 * id). A caller with exactly one tenant may omit `tenant_id`. A tenant the caller may not use is a
 * 403 for a command, and `not-found` for a read, so the caller cannot learn that another tenant's
 * job exists (the read answers exactly as for an unknown job).
 */
import { AuthFailure } from './errors';
import type { Principal } from './principal';
import { ROLE_FOR_ACTION, rolesAllow, type Action } from './roles';
import { ALL_TENANTS, type TenantGrants } from './tenant-grants';

/** The failure to answer with when `principal` may not do `action`; undefined when it may. */
export function requireRole(principal: Principal, action: Action): AuthFailure | undefined {
  return rolesAllow(principal.roles, action)
    ? undefined
    : AuthFailure.missingRole(action, ROLE_FOR_ACTION[action]);
}

export type TenantPurpose = 'command' | 'read';

export type TenantAccess =
  | { readonly outcome: 'allowed'; readonly tenantId: string }
  | { readonly outcome: 'denied'; readonly failure: AuthFailure }
  | { readonly outcome: 'not-found' };

/** The tenants `principal` may act for: a list, or `all`. */
export async function tenantsOf(
  principal: Principal,
  grants: TenantGrants,
): Promise<readonly string[] | 'all'> {
  if (principal.tenants === 'all') return 'all';
  if (principal.tenants !== 'claim-missing') return principal.tenants;
  const ids = [principal.subject, ...(principal.appId === undefined ? [] : [principal.appId])];
  const granted = new Set((await Promise.all(ids.map((id) => grants.tenantsFor(id)))).flat());
  return granted.has(ALL_TENANTS) ? 'all' : [...granted].sort();
}

export async function tenantAccess(
  principal: Principal,
  tenantId: string | undefined,
  grants: TenantGrants,
  purpose: TenantPurpose,
): Promise<TenantAccess> {
  const tenants = await tenantsOf(principal, grants);
  if (tenantId === undefined || tenantId === '') {
    if (tenants !== 'all' && tenants.length === 1)
      return { outcome: 'allowed', tenantId: tenants[0] as string };
    if (tenants !== 'all' && tenants.length === 0)
      return { outcome: 'denied', failure: AuthFailure.tenantForbidden() };
    return { outcome: 'denied', failure: AuthFailure.tenantRequired() };
  }
  if (tenants === 'all' || tenants.includes(tenantId)) return { outcome: 'allowed', tenantId };
  return purpose === 'read'
    ? { outcome: 'not-found' }
    : { outcome: 'denied', failure: AuthFailure.tenantForbidden(tenantId) };
}
