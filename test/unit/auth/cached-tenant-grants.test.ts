import { CachedTenantGrants } from '../../../src/auth/cached-tenant-grants';
import { MemoryTenantGrants } from '../../../src/auth/memory-tenant-grants';
import type { TenantGrants } from '../../../src/auth/tenant-grants';
import type { Clock } from '../../../src/domain/clock';

class FakeClock implements Clock {
  private ms = Date.parse('2026-03-01T10:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** Counts the reads that reach the grants behind the cache. */
class CountingGrants implements TenantGrants {
  reads = 0;
  constructor(private readonly inner: TenantGrants) {}
  tenantsFor(principalId: string): Promise<readonly string[]> {
    this.reads += 1;
    return this.inner.tenantsFor(principalId);
  }
}

function setup(ttlSeconds: number, maxEntries?: number) {
  const clock = new FakeClock();
  const store = new MemoryTenantGrants({ alice: ['t1', 't2'], bob: ['*'] });
  const counting = new CountingGrants(store);
  const cached = new CachedTenantGrants(counting, {
    ttlSeconds,
    clock,
    ...(maxEntries === undefined ? {} : { maxEntries }),
  });
  return { clock, store, counting, cached };
}

describe('CachedTenantGrants', () => {
  it('keeps a revoked grant for at most the TTL, then drops it', async () => {
    const { clock, store, cached } = setup(60);
    expect(await cached.tenantsFor('alice')).toEqual(['t1', 't2']);
    store.revoke('alice', ['t2']);
    clock.advance(59);
    expect(await cached.tenantsFor('alice')).toEqual(['t1', 't2']);
    clock.advance(1);
    expect(await cached.tenantsFor('alice')).toEqual(['t1']);
  });

  it('sees a new grant once the TTL has passed', async () => {
    const { clock, store, cached } = setup(30);
    expect(await cached.tenantsFor('carol')).toEqual([]);
    store.grant('carol', ['t9']);
    expect(await cached.tenantsFor('carol')).toEqual([]);
    clock.advance(30);
    expect(await cached.tenantsFor('carol')).toEqual(['t9']);
  });

  it('reads each principal once per period, and concurrent misses share one read', async () => {
    const { clock, counting, cached } = setup(60);
    await Promise.all([cached.tenantsFor('alice'), cached.tenantsFor('alice'), cached.tenantsFor('bob')]);
    await cached.tenantsFor('alice');
    expect(counting.reads).toBe(2);
    clock.advance(60);
    await cached.tenantsFor('alice');
    expect(counting.reads).toBe(3);
  });

  it('does not keep a failed read', async () => {
    const clock = new FakeClock();
    let fail = true;
    const flaky: TenantGrants = {
      tenantsFor: () => (fail ? Promise.reject(new Error('table down')) : Promise.resolve(['t1'])),
    };
    const cached = new CachedTenantGrants(flaky, { ttlSeconds: 60, clock });
    await expect(cached.tenantsFor('alice')).rejects.toThrow('table down');
    fail = false;
    expect(await cached.tenantsFor('alice')).toEqual(['t1']);
  });

  it('reads every time with a TTL of 0', async () => {
    const { store, counting, cached } = setup(0);
    await cached.tenantsFor('alice');
    store.revoke('alice');
    expect(await cached.tenantsFor('alice')).toEqual([]);
    expect(counting.reads).toBe(2);
  });

  it('forgets the oldest principal past maxEntries', async () => {
    const { counting, cached } = setup(60, 2);
    await cached.tenantsFor('alice');
    await cached.tenantsFor('bob');
    await cached.tenantsFor('carol');
    expect(counting.reads).toBe(3);
    await cached.tenantsFor('bob');
    await cached.tenantsFor('carol');
    expect(counting.reads).toBe(3);
    await cached.tenantsFor('alice');
    expect(counting.reads).toBe(4);
  });

  it('refuses a negative TTL', () => {
    expect(
      () => new CachedTenantGrants(new MemoryTenantGrants(), { ttlSeconds: -1, clock: new FakeClock() }),
    ).toThrow(RangeError);
  });
});
