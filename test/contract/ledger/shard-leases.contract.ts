/**
 * The ShardLeases contract, run against every adapter: exclusive ownership, renewal, expiry
 * judged by the caller's clock, release, and exactly one winner when owners race for a shard.
 */
import type { ShardLeases } from '../../../src/ports/shard-leases';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

export function describeShardLeasesContract(name: string, create: () => Promise<ShardLeases>): void {
  describe(`${name} (ShardLeases contract)`, () => {
    let leases: ShardLeases;

    beforeEach(async () => {
      leases = await create();
    });

    it('gives a free shard to the first owner and lists the lease with its expiry', async () => {
      expect(await leases.acquire(3, 'loop-a', at(0), 30)).toBe(true);
      expect(await leases.list()).toEqual([{ shard: 3, owner: 'loop-a', expiresAt: at(30).toISOString() }]);
    });

    it('refuses a shard held by another owner until the lease expires', async () => {
      await leases.acquire(1, 'loop-a', at(0), 30);
      expect(await leases.acquire(1, 'loop-b', at(29), 30)).toBe(false);
      expect((await leases.list())[0]).toMatchObject({ owner: 'loop-a', expiresAt: at(30).toISOString() });
      expect(await leases.acquire(1, 'loop-b', at(30), 30)).toBe(true);
      expect(await leases.list()).toEqual([{ shard: 1, owner: 'loop-b', expiresAt: at(60).toISOString() }]);
    });

    it('renews the lease of its owner', async () => {
      await leases.acquire(2, 'loop-a', at(0), 30);
      expect(await leases.acquire(2, 'loop-a', at(20), 30)).toBe(true);
      expect(await leases.acquire(2, 'loop-b', at(40), 30)).toBe(false);
      expect((await leases.list())[0]?.expiresAt).toBe(at(50).toISOString());
    });

    it('lets another owner take a released shard at once', async () => {
      await leases.acquire(4, 'loop-a', at(0), 30);
      await leases.release(4, 'loop-a');
      expect(await leases.list()).toEqual([]);
      expect(await leases.acquire(4, 'loop-b', at(1), 30)).toBe(true);
    });

    it('ignores a release by an owner that does not hold the shard', async () => {
      await leases.acquire(5, 'loop-a', at(0), 30);
      await leases.release(5, 'loop-b');
      await leases.release(6, 'loop-b');
      expect(await leases.list()).toEqual([{ shard: 5, owner: 'loop-a', expiresAt: at(30).toISOString() }]);
    });

    it('keeps shards independent and lists them in shard order', async () => {
      await leases.acquire(9, 'loop-b', at(0), 30);
      await leases.acquire(0, 'loop-a', at(0), 30);
      await leases.acquire(10, 'loop-a', at(0), 10);
      expect((await leases.list()).map((l) => [l.shard, l.owner])).toEqual([
        [0, 'loop-a'],
        [9, 'loop-b'],
        [10, 'loop-a'],
      ]);
    });

    it('lets exactly one of many racing owners take a free shard', async () => {
      const owners = Array.from({ length: 6 }, (_, i) => `loop-${i}`);
      const won = await Promise.all(owners.map((owner) => leases.acquire(7, owner, at(0), 30)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = owners[won.indexOf(true)];
      expect(await leases.list()).toEqual([{ shard: 7, owner: winner, expiresAt: at(30).toISOString() }]);
    });

    it('lets exactly one of many racing owners take an expired shard', async () => {
      await leases.acquire(8, 'dead-loop', at(0), 30);
      const owners = Array.from({ length: 6 }, (_, i) => `loop-${i}`);
      const won = await Promise.all(owners.map((owner) => leases.acquire(8, owner, at(31), 30)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await leases.list())[0]?.owner).toBe(owners[won.indexOf(true)]);
    });

    it('rejects a shard that is not a lane number and an empty owner', async () => {
      await expect(leases.acquire(-1, 'loop-a', at(0), 30)).rejects.toBeInstanceOf(RangeError);
      await expect(leases.acquire(1.5, 'loop-a', at(0), 30)).rejects.toBeInstanceOf(RangeError);
      await expect(leases.acquire(1, '', at(0), 30)).rejects.toBeInstanceOf(RangeError);
    });
  });
}
