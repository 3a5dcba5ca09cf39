/**
 * A per-process cache in front of a `TenantGrants` (LUCIUS_AUTH_GRANTS_CACHE_SECONDS, default 60),
 * so the grants table is read once per principal per period, not on every request.
 *
 * What it means for operators: a grant added or removed with `lucius grants` takes effect in each
 * running instance within `ttlSeconds`, not at once: an entry is kept `ttlSeconds` from the start of
 * the read that filled it. A revoked grant keeps working for at most `ttlSeconds` after
 * `lucius grants remove` has returned.
 *
 * Concurrent misses for one principal share one read. A failed read is not cached (the next
 * request tries again). At most `maxEntries` principals are kept; past that the oldest entry goes.
 * `ttlSeconds` 0 turns the cache off. Time comes from the injected clock.
 */
import type { Clock } from '../domain/clock';
import type { TenantGrants } from './tenant-grants';

export interface CachedTenantGrantsOptions {
  readonly ttlSeconds: number;
  readonly clock: Clock;
  /** Principals kept at most (default 10 000). */
  readonly maxEntries?: number;
}

interface Entry {
  readonly tenants: Promise<readonly string[]>;
  /** Epoch ms from which the principal is read again: `ttlSeconds` after this read began. */
  readonly expiresAt: number;
}

export const DEFAULT_GRANTS_CACHE_ENTRIES = 10_000;

export class CachedTenantGrants implements TenantGrants {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly inner: TenantGrants,
    private readonly options: CachedTenantGrantsOptions,
  ) {
    if (!Number.isFinite(options.ttlSeconds) || options.ttlSeconds < 0)
      throw new RangeError(`ttlSeconds must be 0 or more (got ${options.ttlSeconds})`);
    this.ttlMs = options.ttlSeconds * 1000;
    this.maxEntries = options.maxEntries ?? DEFAULT_GRANTS_CACHE_ENTRIES;
  }

  tenantsFor(principalId: string): Promise<readonly string[]> {
    if (this.ttlMs === 0) return this.inner.tenantsFor(principalId);
    const now = this.options.clock.now().getTime();
    const cached = this.entries.get(principalId);
    if (cached !== undefined && now < cached.expiresAt) return cached.tenants;
    return this.read(principalId, now);
  }

  private read(principalId: string, now: number): Promise<readonly string[]> {
    const tenants = this.inner.tenantsFor(principalId);
    // Counted from the start of the read, so a grant removed before any read that is still cached
    // began is gone `ttlSeconds` after its removal at the latest. Callers meanwhile share this read.
    const entry: Entry = { tenants, expiresAt: now + this.ttlMs };
    this.entries.delete(principalId);
    this.entries.set(principalId, entry);
    this.evictOldest();
    tenants.catch(() => {
      if (this.entries.get(principalId) === entry) this.entries.delete(principalId);
    });
    return tenants;
  }

  private evictOldest(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) return;
      this.entries.delete(oldest.value);
    }
  }
}
