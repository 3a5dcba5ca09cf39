import type { Clock } from '../../../src/domain/clock';
import { rateLimitHeaders } from '../../../src/guards/rate-limit-headers';
import { takeEach, TokenBucketLimiter, type RateLimitOutcome } from '../../../src/guards/rate-limiter';

const policy = { name: 'default', quota: 100, windowSeconds: 60 };

describe('rateLimitHeaders', () => {
  it('writes the policy and the current limit as Structured Field lists, without Retry-After when allowed', () => {
    const outcome: RateLimitOutcome = {
      policy,
      decision: { allowed: true, remaining: 42, resetSeconds: 18, retryAfterSeconds: 0 },
    };
    expect(rateLimitHeaders([outcome])).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=42;t=18',
    });
  });

  it('adds Retry-After when refused, and the refused policy’s reset names the same moment', () => {
    const outcome: RateLimitOutcome = {
      policy,
      decision: { allowed: false, remaining: 0, resetSeconds: 60, retryAfterSeconds: 1 },
    };
    expect(rateLimitHeaders([outcome])).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=0;t=1',
      'Retry-After': '1',
    });
  });

  it('lists every policy a request was checked against; Retry-After is the longest refused wait', () => {
    let ms = Date.parse('2026-01-01T00:00:00Z');
    const clock: Clock = { now: () => new Date(ms) };
    const tenant = new TokenBucketLimiter(
      { name: 'tenant', capacity: 3, refillPerSecond: 0.25, maxKeys: 10 },
      clock,
    );
    const principal = new TokenBucketLimiter(
      { name: 'principal', capacity: 2, refillPerSecond: 0.5, maxKeys: 10 },
      clock,
    );
    const check = () =>
      takeEach([
        { limiter: tenant, key: 't1' },
        { limiter: principal, key: 'alice' },
      ]);
    check();
    check();
    const refused = check();
    expect(rateLimitHeaders(refused.outcomes)).toEqual({
      'RateLimit-Policy': '"tenant";q=3;w=12, "principal";q=2;w=4',
      RateLimit: '"tenant";r=1;t=8, "principal";r=0;t=2',
      'Retry-After': '2',
    });
    ms += 2000; // tenant: 1 + 0.5 tokens, 0.5 left after this request, 10 s to full
    expect(rateLimitHeaders(check().outcomes)).toEqual({
      'RateLimit-Policy': '"tenant";q=3;w=12, "principal";q=2;w=4',
      RateLimit: '"tenant";r=0;t=10, "principal";r=0;t=4',
    });
  });

  it('escapes a policy name as a Structured Field String, and writes nothing without policies', () => {
    const outcome: RateLimitOutcome = {
      policy: { name: 'a"b\\c', quota: 1, windowSeconds: 1 },
      decision: { allowed: true, remaining: 0, resetSeconds: 1, retryAfterSeconds: 0 },
    };
    expect(rateLimitHeaders([outcome])['RateLimit-Policy']).toBe('"a\\"b\\\\c";q=1;w=1');
    expect(rateLimitHeaders([])).toEqual({});
  });
});
