/**
 * Function keys as the Functions host checks them: a key arrives as `?code=` or the
 * `x-functions-key` header; `anonymous` needs none, `function` accepts the function key or the
 * master key, `admin` (and the /admin API) only the master key, `system` (the Durable HTTP API under
 * /runtime/webhooks/durabletask) the `durabletask_extension` system key or the master key. devhost
 * has one function key for every function (Azure's default key), one master key and one system key;
 * each is generated at start-up unless given. Keys are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthLevel } from '../common/functions';

export interface HostKeys {
  readonly functionKey: string;
  readonly masterKey: string;
  /** The `durabletask_extension` system key: the Durable HTTP API's `code`. */
  readonly systemKey: string;
}

/** Who may call: an HTTP function's authLevel, or one of the host's own APIs (a part's HTTP API). */
export type AccessLevel = AuthLevel | 'system';

export function generateKey(): string {
  return randomBytes(30).toString('base64url');
}

export function resolveKeys(given: Partial<HostKeys> = {}): HostKeys {
  return {
    functionKey: given.functionKey ?? generateKey(),
    masterKey: given.masterKey ?? given.functionKey ?? generateKey(),
    systemKey: given.systemKey ?? generateKey(),
  };
}

export function presentedKey(query: URLSearchParams, headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-functions-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader ?? query.get('code') ?? undefined;
}

export function isAuthorized(level: AccessLevel, keys: HostKeys, key: string | undefined): boolean {
  if (level === 'anonymous') return true;
  if (key === undefined) return false;
  if (equal(key, keys.masterKey)) return true;
  if (level === 'system') return equal(key, keys.systemKey);
  return level === 'function' && equal(key, keys.functionKey);
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
