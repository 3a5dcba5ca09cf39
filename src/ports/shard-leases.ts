/**
 * The port through which sweepers share the shards (lanes) between them: a lease per shard with an
 * owner and an expiry, taken and renewed with conditional writes (ETag), so two owners never hold
 * one shard at once, and a shard whose owner died is taken by another once its lease expired.
 */
export interface ShardLease {
  readonly shard: number;
  readonly owner: string;
  readonly expiresAt: string;
}

export interface ShardLeases {
  /**
   * Takes the lease on `shard` for `owner` until now + ttl, or renews it if `owner` holds it.
   * Resolves false (nothing written) while another owner holds an unexpired lease.
   */
  acquire(shard: number, owner: string, now: Date, ttlSeconds: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it (a clean shutdown), so another can take it at once. */
  release(shard: number, owner: string): Promise<void>;
  /** Every lease as stored (expired ones included). */
  list(): Promise<readonly ShardLease[]>;
}
