import fc from 'fast-check';
import type { Clock } from '../../../src/domain/clock';
import { GuardConfigError } from '../../../src/guards/errors';
import { takeEach, TokenBucketLimiter, type TokenBucketOptions } from '../../../src/guards/rate-limiter';

class ManualClock implements Clock {
  constructor(public ms = Date.parse('2026-01-01T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const options = (overrides: Partial<TokenBucketOptions> = {}): TokenBucketOptions => ({
  name: 'tenant',
  capacity: 5,
  refillPerSecond: 1,
  maxKeys: 1000,
  ...overrides,
});

describe('TokenBucketLimiter', () => {
  it('allows a burst up to the capacity, then refuses with the wait until the next token', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketLimiter(options({ capacity: 3, refillPerSecond: 0.5 }), clock);
    expect(limiter.take('t1')).toEqual({
      allowed: true,
      remaining: 2,
      resetSeconds: 2,
      retryAfterSeconds: 0,
    });
    expect(limiter.take('t1')).toEqual({
      allowed: true,
      remaining: 1,
      resetSeconds: 4,
      retryAfterSeconds: 0,
    });
    expect(limiter.take('t1')).toEqual({
      allowed: true,
      remaining: 0,
      resetSeconds: 6,
      retryAfterSeconds: 0,
    });
    expect(limiter.take('t1')).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 6,
      retryAfterSeconds: 2,
    });

    clock.advance(1500);
    expect(limiter.take('t1')).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 5,
      retryAfterSeconds: 1,
    });
    clock.advance(500);
    expect(limiter.take('t1')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('keeps each key in its own bucket', () => {
    const limiter = new TokenBucketLimiter(options({ capacity: 1 }), new ManualClock());
    expect(limiter.take('t1').allowed).toBe(true);
    expect(limiter.take('t1').allowed).toBe(false);
    expect(limiter.take('t2').allowed).toBe(true);
  });

  it('never holds more than the capacity, however long a key stays idle', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketLimiter(options({ capacity: 2 }), clock);
    limiter.take('t1');
    clock.advance(86_400_000 * 365);
    expect(limiter.take('t1').remaining).toBe(1);
    expect(limiter.take('t1').remaining).toBe(0);
    expect(limiter.take('t1').allowed).toBe(false);
  });

  it('credits no time twice when the clock steps back', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketLimiter(options({ capacity: 2, refillPerSecond: 1 }), clock);
    limiter.take('t1');
    limiter.take('t1');
    clock.advance(-5_000);
    expect(limiter.take('t1').allowed).toBe(false);
    clock.advance(5_000);
    expect(limiter.take('t1').allowed).toBe(false);
    clock.advance(1_000);
    expect(limiter.take('t1')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('peeks without taking', () => {
    const limiter = new TokenBucketLimiter(options({ capacity: 1 }), new ManualClock());
    expect(limiter.peek('t1')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.peek('t1')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.take('t1').allowed).toBe(true);
    expect(limiter.peek('t1').allowed).toBe(false);
  });

  it('takes a cost of several tokens, and says how long until that cost fits', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketLimiter(options({ capacity: 10, refillPerSecond: 2 }), clock);
    expect(limiter.take('t1', 8)).toMatchObject({ allowed: true, remaining: 2 });
    expect(limiter.take('t1', 5)).toEqual({
      allowed: false,
      remaining: 2,
      resetSeconds: 4,
      retryAfterSeconds: 2,
    });
    clock.advance(2000);
    expect(limiter.take('t1', 5)).toMatchObject({ allowed: true, remaining: 1 });
    expect(() => limiter.take('t1', 11)).toThrow(RangeError);
    expect(() => limiter.take('t1', 0)).toThrow(RangeError);
    expect(limiter.status('t1')).toEqual({
      allowed: true,
      remaining: 1,
      resetSeconds: 5,
      retryAfterSeconds: 0,
    });
  });

  it('advertises its policy: the capacity and the seconds an empty bucket takes to refill', () => {
    const limiter = new TokenBucketLimiter(
      options({ capacity: 100, refillPerSecond: 1.5 }),
      new ManualClock(),
    );
    expect(limiter.policy).toEqual({ name: 'tenant', quota: 100, windowSeconds: 67 });
  });

  it('refuses a configuration that cannot work', () => {
    const clock = new ManualClock();
    for (const bad of [
      { capacity: 0 },
      { capacity: 1.5 },
      { refillPerSecond: 0 },
      { refillPerSecond: -1 },
      { refillPerSecond: 0.0001 },
      { refillPerSecond: 1 / 3 },
      { refillPerSecond: Number.NaN },
      { maxKeys: 0 },
      { name: 'has space' },
      { name: '' },
    ])
      expect(() => new TokenBucketLimiter(options(bad), clock)).toThrow(GuardConfigError);
  });

  describe('memory', () => {
    it('stays within maxKeys under any number of keys', () => {
      const limiter = new TokenBucketLimiter(options({ maxKeys: 500 }), new ManualClock());
      for (let i = 0; i < 50_000; i++) {
        limiter.take(`principal-${i}`);
        expect(limiter.size).toBeLessThanOrEqual(500);
      }
      expect(limiter.size).toBe(500);
    });

    it('drops buckets that have been idle long enough to be full again', () => {
      const clock = new ManualClock();
      const limiter = new TokenBucketLimiter(options({ capacity: 5, refillPerSecond: 1 }), clock);
      for (let i = 0; i < 400; i++) limiter.take(`k${i}`);
      expect(limiter.size).toBe(400);

      clock.advance(999); // one micro-token short of full: nothing may be dropped
      for (let i = 0; i < 100; i++) limiter.take('active');
      expect(limiter.size).toBe(401);

      clock.advance(1); // now every idle bucket is full: each call drops a few
      for (let i = 0; i < 100; i++) limiter.take('active');
      expect(limiter.size).toBe(1);
    });

    it('keeps the most recently used buckets when it must evict one that is not full', () => {
      const clock = new ManualClock();
      const limiter = new TokenBucketLimiter(options({ capacity: 2, maxKeys: 3 }), clock);
      for (const key of ['a', 'b', 'c']) limiter.take(key);
      limiter.take('a'); // a is now the most recently used, and empty
      limiter.take('d'); // evicts b, the least recently used
      expect(limiter.size).toBe(3);
      expect(limiter.take('a').allowed).toBe(false);
    });
  });

  describe('properties', () => {
    const scenario = fc.record({
      capacity: fc.integer({ min: 1, max: 20 }),
      refillMilliPerSecond: fc.integer({ min: 1, max: 5_000 }),
      events: fc.array(fc.record({ waitMs: fc.nat({ max: 3_000 }), key: fc.constantFrom('a', 'b', 'c') }), {
        maxLength: 300,
      }),
    });

    it('never allows more than capacity + rate × elapsed over any window', () => {
      fc.assert(
        fc.property(scenario, ({ capacity, refillMilliPerSecond, events }) => {
          const clock = new ManualClock();
          const limiter = new TokenBucketLimiter(
            { name: 'p', capacity, refillPerSecond: refillMilliPerSecond / 1000, maxKeys: 3 },
            clock,
          );
          const allowedAt = new Map<string, number[]>();
          for (const { waitMs, key } of events) {
            clock.advance(waitMs);
            if (limiter.take(key).allowed) allowedAt.set(key, [...(allowedAt.get(key) ?? []), clock.ms]);
          }
          for (const times of allowedAt.values())
            for (let i = 0; i < times.length; i++)
              for (let j = i; j < times.length; j++) {
                const count = j - i + 1;
                const elapsedMs = (times[j] as number) - (times[i] as number);
                // count ≤ capacity + (milli-tokens per second / 1000) × (elapsedMs / 1000), in integers
                expect(count * 1_000_000).toBeLessThanOrEqual(
                  capacity * 1_000_000 + refillMilliPerSecond * elapsedMs,
                );
              }
        }),
      );
    });

    it('allows a refused request once Retry-After has passed, and remaining never exceeds the capacity', () => {
      fc.assert(
        fc.property(scenario, ({ capacity, refillMilliPerSecond, events }) => {
          const clock = new ManualClock();
          const limiter = new TokenBucketLimiter(
            { name: 'p', capacity, refillPerSecond: refillMilliPerSecond / 1000, maxKeys: 3 },
            clock,
          );
          for (const { waitMs, key } of events) {
            clock.advance(waitMs);
            const decision = limiter.take(key);
            expect(decision.remaining).toBeLessThanOrEqual(capacity - (decision.allowed ? 1 : 0));
            if (!decision.allowed) {
              expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(1);
              clock.advance(decision.retryAfterSeconds * 1000);
              expect(limiter.peek(key).allowed).toBe(true);
            }
          }
        }),
      );
    });
  });
});

describe('takeEach', () => {
  it('takes from every limiter only when all allow, so one refusal spends no other token', () => {
    const clock = new ManualClock();
    const tenant = new TokenBucketLimiter(options({ name: 'tenant', capacity: 10 }), clock);
    const principal = new TokenBucketLimiter(options({ name: 'principal', capacity: 2 }), clock);
    const check = () =>
      takeEach([
        { limiter: tenant, key: 't1' },
        { limiter: principal, key: 'alice' },
      ]);
    expect(check().allowed).toBe(true);
    expect(check().allowed).toBe(true);
    const refused = check();
    expect(refused.allowed).toBe(false);
    expect(refused.outcomes.map((o) => [o.policy.name, o.decision.allowed, o.decision.remaining])).toEqual([
      ['tenant', true, 8],
      ['principal', false, 0],
    ]);
    expect(tenant.status('t1').remaining).toBe(8);
  });
});
