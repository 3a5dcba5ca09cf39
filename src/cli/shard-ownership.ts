/**
 * How `lucius loop` processes split the shards (lanes) between them through the ShardLeases port.
 *
 * Every round (`claim`), an owner:
 * 1. holds a membership lease on one slot (lease numbers MEMBER_SLOT_BASE.. , beyond any lane), so
 *    the others count it as live even while it holds no shard yet;
 * 2. counts the live owners (those with an unexpired lease) and takes its fair share,
 *    ceil(laneCount / live owners);
 * 3. renews the shards it holds, gives back the ones above its share (lowest shards kept), and takes
 *    free or expired shards up to its share.
 *
 * So a new loop gets shards on the round after the others first see it, and the shards of a loop
 * that died are taken once its leases expired. Two owners never hold one shard: every take and
 * renewal is a conditional write (see ShardLeases). The round interval must be well under the lease
 * period, or an owner's leases lapse between rounds.
 */
import type { Clock } from '../domain/clock';
import type { ShardLease, ShardLeases } from '../ports/shard-leases';

/** Lease numbers of the membership slots: after every lane (at most 64 of them). */
export const MEMBER_SLOT_BASE = 1000;
export const MEMBER_SLOTS = 256;

export function isMemberSlot(lease: ShardLease): boolean {
  return lease.shard >= MEMBER_SLOT_BASE;
}

export function fairShare(laneCount: number, liveOwners: number): number {
  return Math.ceil(laneCount / Math.max(1, liveOwners));
}

export interface ShardOwnershipOptions {
  readonly leases: ShardLeases;
  readonly clock: Clock;
  readonly owner: string;
  readonly laneCount: number;
  readonly leaseSeconds: number;
}

export class ShardOwnership {
  private held: number[] = [];
  private slot: number | undefined;

  constructor(private readonly options: ShardOwnershipOptions) {}

  /** The shards held after the last round, in order. */
  get shards(): readonly number[] {
    return this.held;
  }

  /** One round: membership, fair share, renew, give back, take. Resolves the shards now held. */
  async claim(): Promise<readonly number[]> {
    const { leases, clock, owner, laneCount, leaseSeconds } = this.options;
    const now = clock.now();
    const live = (await leases.list()).filter((lease) => Date.parse(lease.expiresAt) > now.getTime());
    await this.keepMembership(live, now);

    const owners = new Set(live.map((lease) => lease.owner));
    owners.add(owner);
    const share = fairShare(laneCount, owners.size);

    const mine = live
      .filter((l) => !isMemberSlot(l) && l.owner === owner && l.shard < laneCount)
      .map((l) => l.shard);
    const kept: number[] = [];
    for (const shard of mine.sort((a, b) => a - b)) {
      if (kept.length >= share) await leases.release(shard, owner);
      else if (await leases.acquire(shard, owner, now, leaseSeconds)) kept.push(shard);
    }
    const taken = new Set(live.filter((l) => !isMemberSlot(l)).map((l) => l.shard));
    // Start the search at a different lane per owner, so owners starting together collide less.
    const start = hashOf(owner) % laneCount;
    for (let i = 0; i < laneCount && kept.length < share; i += 1) {
      const shard = (start + i) % laneCount;
      if (taken.has(shard)) continue;
      if (await leases.acquire(shard, owner, now, leaseSeconds)) kept.push(shard);
    }
    this.held = kept.sort((a, b) => a - b);
    return this.held;
  }

  /** Gives every lease up (a clean stop), so the others take the shards at once. */
  async releaseAll(): Promise<void> {
    const { leases, owner } = this.options;
    for (const shard of this.held) await leases.release(shard, owner);
    if (this.slot !== undefined) await leases.release(this.slot, owner);
    this.held = [];
    this.slot = undefined;
  }

  private async keepMembership(live: readonly ShardLease[], now: Date): Promise<void> {
    const { leases, owner, leaseSeconds } = this.options;
    const mine = live.find((l) => isMemberSlot(l) && l.owner === owner);
    if (mine !== undefined && (await leases.acquire(mine.shard, owner, now, leaseSeconds))) {
      this.slot = mine.shard;
      return;
    }
    const used = new Set(live.filter(isMemberSlot).map((l) => l.shard));
    for (let i = 0; i < MEMBER_SLOTS; i += 1) {
      const slot = MEMBER_SLOT_BASE + i;
      if (used.has(slot)) continue;
      if (await leases.acquire(slot, owner, now, leaseSeconds)) {
        this.slot = slot;
        return;
      }
    }
    this.slot = undefined;
  }
}

function hashOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
  return hash;
}
