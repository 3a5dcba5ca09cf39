/**
 * Request rate limits: one token bucket per key (a tenant, a principal), held in memory.
 *
 * A bucket holds at most `capacity` tokens and gains `refillPerSecond` tokens a second; a request
 * takes one token (or `cost`), and is refused when the bucket holds fewer. Over any window of
 * `elapsed` seconds a key is therefore never allowed more than `capacity + refillPerSecond × elapsed`
 * requests. Tokens are counted in integer micro-tokens and the refill rate is a whole number of
 * micro-tokens per millisecond (a rate with at most 3 decimals), so the arithmetic is exact.
 *
 * Memory is bounded: buckets are kept in least-recently-used order; a bucket that has been idle long
 * enough to be full again is the same as no bucket and is dropped (a few are checked at every call),
 * and when `maxKeys` buckets exist the least recently used one is dropped to make room. Only that
 * last case forgets a bucket that was not full, so `maxKeys` should exceed the number of keys active
 * within one refill time.
 *
 * The limits are per process: each Functions instance keeps its own buckets (README: "Rate limits").
 * Time comes from the injected Clock; nothing here reads the wall clock.
 */
import type { Clock } from '../domain/clock';
import { GuardConfigError } from './errors';

const MICRO = 1_000_000;
/** Idle buckets checked for eviction at every call. */
const SWEEP_PER_CALL = 4;

export interface TokenBucketOptions {
  /** The policy's name, shown in the RateLimit headers (e.g. "tenant"). */
  readonly name: string;
  /** Largest burst: the tokens a full bucket holds. */
  readonly capacity: number;
  /** Tokens regained per second (at most 3 decimals, e.g. 0.5 or 12.125). */
  readonly refillPerSecond: number;
  /** Most buckets held at once (memory bound). */
  readonly maxKeys: number;
}

/** What the RateLimit-Policy header advertises for a limiter. */
export interface RateLimitPolicy {
  readonly name: string;
  /** Quota: the burst capacity. */
  readonly quota: number;
  /** Seconds an empty bucket takes to fill again. */
  readonly windowSeconds: number;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until the bucket is full again (0 when full). */
  readonly resetSeconds: number;
  /** Seconds until a request of the same cost would be allowed (0 when this one was). */
  readonly retryAfterSeconds: number;
}

export interface RateLimitOutcome {
  readonly policy: RateLimitPolicy;
  readonly decision: RateLimitDecision;
}

interface Bucket {
  /** Micro-tokens held at `atMs`. */
  micro: number;
  atMs: number;
}

export class TokenBucketLimiter {
  readonly policy: RateLimitPolicy;
  private readonly capacityMicro: number;
  /** Micro-tokens regained per millisecond. */
  private readonly microPerMs: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly clock: Clock,
  ) {
    const { name, capacity, refillPerSecond, maxKeys } = options;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw new GuardConfigError(
        'rate-limit',
        `policy name "${name}" must be 1 to 64 letters, digits, "_" or "-"`,
      );
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 1_000_000_000)
      throw new GuardConfigError(
        'rate-limit',
        `${name}: capacity must be an integer from 1 to 1e9 (got ${capacity})`,
      );
    const microPerMs = Math.round(refillPerSecond * 1000);
    if (
      !Number.isFinite(refillPerSecond) ||
      refillPerSecond < 0.001 ||
      refillPerSecond > 1_000_000 ||
      Math.abs(refillPerSecond * 1000 - microPerMs) > 1e-6
    )
      throw new GuardConfigError(
        'rate-limit',
        `${name}: refillPerSecond must be from 0.001 to 1e6 with at most 3 decimals (got ${refillPerSecond})`,
      );
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      throw new GuardConfigError(
        'rate-limit',
        `${name}: maxKeys must be a positive integer (got ${maxKeys})`,
      );
    this.capacityMicro = capacity * MICRO;
    this.microPerMs = microPerMs;
    this.policy = Object.freeze({
      name,
      quota: capacity,
      windowSeconds: Math.ceil(capacity / refillPerSecond),
    });
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens from `key`'s bucket if it holds them; refuses without taking otherwise. */
  take(key: string, cost = 1): RateLimitDecision {
    return this.decide(key, cost, true);
  }

  /** What `take` would answer, without taking anything. */
  peek(key: string, cost = 1): RateLimitDecision {
    return this.decide(key, cost, false);
  }

  /** The bucket as it stands (what a request of cost 0 would see). */
  status(key: string): RateLimitDecision {
    return this.decide(key, 0, false);
  }

  private decide(key: string, cost: number, consume: boolean): RateLimitDecision {
    const lowest = consume ? 1 : 0;
    if (!Number.isSafeInteger(cost) || cost < lowest || cost > this.options.capacity)
      throw new RangeError(
        `cost must be an integer from ${lowest} to the capacity ${this.options.capacity} (got ${cost})`,
      );
    const clockMs = this.clock.now().getTime();
    this.sweep(clockMs);
    const existing = this.buckets.get(key);
    // A clock that steps back must not let the same interval be credited twice.
    const nowMs = existing === undefined ? clockMs : Math.max(existing.atMs, clockMs);
    const micro = existing === undefined ? this.capacityMicro : this.refilled(existing, nowMs);
    const costMicro = cost * MICRO;
    const allowed = micro >= costMicro;
    const after = allowed ? micro - costMicro : micro;

    if (consume && allowed) {
      this.buckets.delete(key);
      if (this.buckets.size >= this.options.maxKeys) this.evictOldest();
      this.buckets.set(key, { micro: after, atMs: nowMs });
    } else if (existing !== undefined) {
      // Touched: keep it in least-recently-used order, with its refill credited.
      this.buckets.delete(key);
      this.buckets.set(key, { micro, atMs: nowMs });
    }
    return {
      allowed,
      remaining: Math.floor(after / MICRO),
      resetSeconds: this.secondsToGain(this.capacityMicro - after),
      retryAfterSeconds: allowed ? 0 : Math.max(1, this.secondsToGain(costMicro - micro)),
    };
  }

  private refilled(bucket: Bucket, nowMs: number): number {
    const elapsed = Math.max(0, nowMs - bucket.atMs);
    // Beyond 2^53 the product is inexact, but then it is far above the capacity anyway.
    return Math.min(this.capacityMicro, bucket.micro + elapsed * this.microPerMs);
  }

  private secondsToGain(micro: number): number {
    return micro <= 0 ? 0 : Math.ceil(Math.ceil(micro / this.microPerMs) / 1000);
  }

  /** Drops the least recently used buckets that have filled up again (they equal a missing bucket). */
  private sweep(nowMs: number): void {
    let checked = 0;
    for (const [key, bucket] of this.buckets) {
      if (checked++ >= SWEEP_PER_CALL) break;
      if (this.refilled(bucket, nowMs) >= this.capacityMicro) this.buckets.delete(key);
    }
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }
}

/**
 * Checks a request against several limiters at once (e.g. its tenant's and its principal's) and
 * takes a token from each only when every one allows it, so a request refused by one limit does not
 * spend the others' tokens.
 */
export function takeEach(
  checks: ReadonlyArray<{
    readonly limiter: TokenBucketLimiter;
    readonly key: string;
    readonly cost?: number;
  }>,
): { readonly allowed: boolean; readonly outcomes: readonly RateLimitOutcome[] } {
  const peeks = checks.map((c) => c.limiter.peek(c.key, c.cost ?? 1));
  const allowed = peeks.every((d) => d.allowed);
  // Refused: the limits that would have allowed report their bucket as it stands (nothing was taken).
  const decisions = allowed
    ? checks.map((c) => c.limiter.take(c.key, c.cost ?? 1))
    : checks.map((c, i) =>
        peeks[i]?.allowed === true ? c.limiter.status(c.key) : (peeks[i] as RateLimitDecision),
      );
  return {
    allowed,
    outcomes: checks.map((c, i) => ({
      policy: c.limiter.policy,
      decision: decisions[i] as RateLimitDecision,
    })),
  };
}
