/** `TenantGrants` kept in memory (tests, and `LUCIUS_STORAGE_BACKEND=memory`). */
import type { TenantGrants } from './tenant-grants';

export class MemoryTenantGrants implements TenantGrants {
  private readonly grants = new Map<string, Set<string>>();

  constructor(initial: Readonly<Record<string, readonly string[]>> = {}) {
    for (const [principalId, tenants] of Object.entries(initial)) this.grant(principalId, tenants);
  }

  tenantsFor(principalId: string): Promise<readonly string[]> {
    return Promise.resolve([...(this.grants.get(principalId) ?? [])].sort());
  }

  grant(principalId: string, tenants: readonly string[]): void {
    const granted = this.grants.get(principalId) ?? new Set<string>();
    for (const tenant of tenants) granted.add(tenant);
    this.grants.set(principalId, granted);
  }

  /** Removes the given tenants, or every grant of the principal when none are given. */
  revoke(principalId: string, tenants?: readonly string[]): void {
    if (tenants === undefined) {
      this.grants.delete(principalId);
      return;
    }
    const granted = this.grants.get(principalId);
    for (const tenant of tenants) granted?.delete(tenant);
    if (granted?.size === 0) this.grants.delete(principalId);
  }
}
