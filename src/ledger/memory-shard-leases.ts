/**
 * ShardLeases in memory: the reference adapter for tests and the `memory` backend (one process, so
 * the loops sharing it are in that process). Every call completes within one turn of the event loop,
 * which gives the same exclusion as the Table adapter's conditional writes.
 */
import type { ShardLease, ShardLeases } from '../ports/shard-leases';

export class MemoryShardLeases implements ShardLeases {
  private readonly leases = new Map<number, ShardLease>();

  async acquire(shard: number, owner: string, now: Date, ttlSeconds: number): Promise<boolean> {
    await Promise.resolve();
    checkLeaseArguments(shard, owner, ttlSeconds);
    const held = this.leases.get(shard);
    if (held !== undefined && held.owner !== owner && Date.parse(held.expiresAt) > now.getTime())
      return false;
    this.leases.set(shard, { shard, owner, expiresAt: leaseExpiry(now, ttlSeconds) });
    return true;
  }

  async release(shard: number, owner: string): Promise<void> {
    await Promise.resolve();
    if (this.leases.get(shard)?.owner === owner) this.leases.delete(shard);
  }

  async list(): Promise<readonly ShardLease[]> {
    await Promise.resolve();
    return [...this.leases.values()].sort((a, b) => a.shard - b.shard);
  }
}

/** The expiry of a lease taken at `now` for `ttlSeconds`. */
export function leaseExpiry(now: Date, ttlSeconds: number): string {
  return new Date(now.getTime() + ttlSeconds * 1000).toISOString();
}

/** Shards are lane numbers (0..63); owners are non-empty; a lease lasts at least a second. */
export function checkLeaseArguments(shard: number, owner: string, ttlSeconds: number): void {
  if (!Number.isInteger(shard) || shard < 0 || shard > 9999)
    throw new RangeError(`shard ${shard} must be an integer from 0 to 9999`);
  if (owner.length === 0 || owner.length > 256) throw new RangeError('a lease owner is 1-256 characters');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 1)
    throw new RangeError(`a lease lasts at least 1 second (got ${ttlSeconds})`);
}
