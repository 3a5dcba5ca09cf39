/**
 * ShardOwnership over in-memory leases with a controlled clock: loops split the shards fairly, a
 * newcomer gets its share once the others see it, a dead owner's shards are taken after its leases
 * expire, and no shard ever has two owners.
 */
import type { Clock } from '../../../src/domain/clock';
import { MemoryShardLeases } from '../../../src/ledger/memory-shard-leases';
import { fairShare, isMemberSlot, ShardOwnership } from '../../../src/cli/shard-ownership';

const LANES = 16;
const LEASE_SECONDS = 30;

class ManualClock implements Clock {
  private ms = Date.parse('2026-01-05T10:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

function owners(leases: MemoryShardLeases, clock: Clock) {
  return leases
    .list()
    .then((all) => all.filter((l) => !isMemberSlot(l) && Date.parse(l.expiresAt) > clock.now().getTime()));
}

describe('ShardOwnership', () => {
  let leases: MemoryShardLeases;
  let clock: ManualClock;
  const loop = (owner: string) =>
    new ShardOwnership({ leases, clock, owner, laneCount: LANES, leaseSeconds: LEASE_SECONDS });

  beforeEach(() => {
    leases = new MemoryShardLeases();
    clock = new ManualClock();
  });

  it('computes the fair share as the lanes over the live owners, rounded up', () => {
    expect(fairShare(16, 1)).toBe(16);
    expect(fairShare(16, 3)).toBe(6);
    expect(fairShare(16, 0)).toBe(16);
  });

  it('gives every shard to a lone loop', async () => {
    expect(await loop('a').claim()).toEqual(Array.from({ length: LANES }, (_, i) => i));
  });

  it('splits the shards with a loop that joins, without ever sharing one', async () => {
    const a = loop('a');
    const b = loop('b');
    await a.claim();
    expect(await b.claim()).toEqual([]); // seen by the others from now on
    for (let round = 0; round < 3; round += 1) {
      clock.advance(5);
      await a.claim();
      await b.claim();
      const held = await owners(leases, clock);
      expect(new Set(held.map((l) => l.shard)).size).toBe(held.length);
    }
    expect(a.shards).toHaveLength(8);
    expect(b.shards).toHaveLength(8);
    expect([...a.shards, ...b.shards].sort((x, y) => x - y)).toEqual(
      Array.from({ length: LANES }, (_, i) => i),
    );
  });

  it("takes a dead loop's shards once its leases expired, and not before", async () => {
    const a = loop('a');
    const b = loop('b');
    await a.claim();
    await b.claim();
    clock.advance(5);
    await a.claim();
    await b.claim();
    expect(b.shards).toHaveLength(8);
    // b dies: it stops renewing.
    clock.advance(LEASE_SECONDS - 1);
    expect(await a.claim()).toHaveLength(8);
    clock.advance(2);
    expect(await a.claim()).toHaveLength(LANES);
  });

  it('gives its leases back on a clean stop, so another takes them at once', async () => {
    const a = loop('a');
    const b = loop('b');
    await a.claim();
    await a.releaseAll();
    expect(await leases.list()).toEqual([]);
    expect(await b.claim()).toHaveLength(LANES);
  });

  it('covers every shard with three loops, none above the fair share', async () => {
    const loops = ['a', 'b', 'c'].map(loop);
    for (let round = 0; round < 4; round += 1) {
      for (const l of loops) await l.claim();
      clock.advance(5);
    }
    expect(Math.max(...loops.map((l) => l.shards.length))).toBe(fairShare(LANES, 3));
    expect(loops.flatMap((l) => l.shards).sort((x, y) => x - y)).toEqual(
      Array.from({ length: LANES }, (_, i) => i),
    );
  });
});
