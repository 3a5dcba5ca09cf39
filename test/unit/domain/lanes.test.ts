import fc from 'fast-check';
import { fnv1a32, laneFor, resolveLane } from '../../../src/domain/lanes';

describe('lane routing', () => {
  it('hashes with 32-bit FNV-1a (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('uses the routing key when given, the tenant otherwise', () => {
    expect(resolveLane({ tenant_id: 't1', routing_key: 'doc-42' }, 16)).toEqual({
      lane: laneFor('doc-42', 16),
      routingKeyUsed: 'routing_key',
      routingKey: 'doc-42',
    });
    expect(resolveLane({ tenant_id: 't1' }, 16)).toEqual({
      lane: laneFor('t1', 16),
      routingKeyUsed: 'tenant_id',
      routingKey: 't1',
    });
  });

  it('always lands in 0..count-1 and is stable for a key', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (key, count) => {
        const lane = laneFor(key, count);
        return lane >= 0 && lane < count && Number.isInteger(lane) && lane === laneFor(key, count);
      }),
    );
  });

  it('spreads tenants over all 16 lanes', () => {
    const lanes = new Set(Array.from({ length: 500 }, (_, i) => laneFor(`tenant-${i}`, 16)));
    expect(lanes.size).toBe(16);
  });

  it('refuses a lane count below one', () => {
    expect(() => laneFor('x', 0)).toThrow(RangeError);
  });
});
