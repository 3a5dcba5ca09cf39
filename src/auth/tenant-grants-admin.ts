/**
 * Writing the grants (`lucius grants add|remove|list`): the write side of the grants port
 * (tenant-grants.ts), kept apart so the request path depends on `tenantsFor` alone.
 *
 * A grant is a (principal id, tenant) pair. Principal ids are what `tenantsFor` is asked with: the
 * caller's object id (`oid`, else `sub`) or its client application id (`azp`/`appid`). The tenant
 * is a tenant id (the rule of `tenant_id` in the command envelope), or `*` for every tenant.
 */
import { ALL_TENANTS, type TenantGrants } from './tenant-grants';

/** The rule of `tenant_id` (schemas/command-envelope.v1.json and the HTTP query parameter). */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/**
 * Object ids and application ids are GUIDs; `sub` values are base64url. This admits those and
 * leaves out what Table Storage refuses in a key (`/`, `\`, `#`, `?`, control characters).
 */
export const PRINCIPAL_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,256}$/;

export function isGrantableTenant(tenant: string): boolean {
  return tenant === ALL_TENANTS || TENANT_ID_PATTERN.test(tenant);
}

export function isPrincipalId(principalId: string): boolean {
  return PRINCIPAL_ID_PATTERN.test(principalId);
}

export interface TenantGrant {
  readonly principalId: string;
  /** A tenant id, or `*` for every tenant. */
  readonly tenant: string;
  /** When the grant was written (ISO 8601). */
  readonly grantedAt: string;
}

export interface GrantOutcome {
  /** The tenants granted by this call. */
  readonly granted: readonly string[];
  /** The tenants that were already granted (left as they were). */
  readonly alreadyGranted: readonly string[];
}

export interface RevokeOutcome {
  readonly revoked: readonly string[];
  /** Tenants named but not granted: nothing to remove. */
  readonly notGranted: readonly string[];
}

export interface TenantGrantsAdmin extends TenantGrants {
  grant(principalId: string, tenants: readonly string[], now: Date): Promise<GrantOutcome>;
  /** Removes the given tenants' grants, or every grant of the principal when `tenants` is absent. */
  revoke(principalId: string, tenants?: readonly string[]): Promise<RevokeOutcome>;
  /** Every grant of `principalId`, or of every principal; ordered by principal id, then tenant. */
  list(principalId?: string): Promise<readonly TenantGrant[]>;
}

/** A RangeError naming the first id that breaks the rules, or undefined when all are fine. */
export function grantIdProblem(principalId: string, tenants: readonly string[]): RangeError | undefined {
  if (!isPrincipalId(principalId))
    return new RangeError(
      `not a valid principal id: ${JSON.stringify(principalId)} (an object id or client application id: 1-256 letters, digits, '.', '_', ':', '@' or '-')`,
    );
  const bad = tenants.find((tenant) => !isGrantableTenant(tenant));
  return bad === undefined
    ? undefined
    : new RangeError(
        `not a valid tenant: ${JSON.stringify(bad)} (a tenant id: a letter or digit, then up to 127 letters, digits, '.', '_', ':' or '-'; or * for every tenant)`,
      );
}
