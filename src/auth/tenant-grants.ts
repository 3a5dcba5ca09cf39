/**
 * The grants port: which tenants a principal may act for when its token carries no tenants claim.
 * A grant is keyed by a principal id: the caller's object id (`oid`) or its client application id
 * (`azp`/`appid`). The tenant `*` grants every tenant (for operators' identities).
 * Adapters: `MemoryTenantGrants`, `TableTenantGrants` (behind `CachedTenantGrants`; see
 * create-tenant-grants.ts). The write side, for `lucius grants`, is tenant-grants-admin.ts.
 */
export const ALL_TENANTS = '*';

export interface TenantGrants {
  /** The tenants granted to `principalId` (empty when none); `*` stands for every tenant. */
  tenantsFor(principalId: string): Promise<readonly string[]>;
}
