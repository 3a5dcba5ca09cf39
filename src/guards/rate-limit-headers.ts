/**
 * The response headers of rate limiting, in the syntax of the IETF HTTPAPI draft "RateLimit header
 * fields for HTTP" (draft-ietf-httpapi-ratelimit-headers): two Structured Field lists whose members
 * are quoted policy names with parameters.
 *
 *   RateLimit-Policy: "tenant";q=100;w=10, "principal";q=50;w=10
 *   RateLimit: "tenant";r=42;t=6, "principal";r=0;t=3
 *   Retry-After: 3                      (only when the request was refused)
 *
 * `q` is a bucket's capacity and `w` the seconds an empty bucket takes to fill again; `r` the whole
 * tokens left and `t` the seconds until the quota is back. When the request is refused, the draft
 * asks `t` to name the same moment as Retry-After, so a refused policy's `t` is its retry delay.
 * The partition key (`pk`) is not sent: the caller knows who it is, and naming keys helps no one else.
 */
import type { RateLimitOutcome } from './rate-limiter';

export function rateLimitHeaders(outcomes: readonly RateLimitOutcome[]): Record<string, string> {
  if (outcomes.length === 0) return {};
  const refused = outcomes.filter((o) => !o.decision.allowed);
  const headers: Record<string, string> = {
    'RateLimit-Policy': outcomes
      .map(({ policy }) => `${sfString(policy.name)};q=${policy.quota};w=${policy.windowSeconds}`)
      .join(', '),
    RateLimit: outcomes
      .map(({ policy, decision }) => {
        const t = decision.allowed ? decision.resetSeconds : decision.retryAfterSeconds;
        return `${sfString(policy.name)};r=${decision.remaining};t=${t}`;
      })
      .join(', '),
  };
  if (refused.length > 0)
    headers['Retry-After'] = String(Math.max(...refused.map((o) => o.decision.retryAfterSeconds)));
  return headers;
}

/** A Structured Field String (RFC 9651 §3.3.3): printable ASCII, with `"` and `\` escaped. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError(`not printable ASCII: ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
