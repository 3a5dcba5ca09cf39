/**
 * Idempotency of admissions.
 *
 * A command's idempotency key is, in order: the `Idempotency-Key` header, the body's
 * `idempotency_key`, or else a canonical hash of the envelope (so an identical command resent is
 * recognised without any key). Keys are scoped per tenant. The request hash (canonical JSON of the
 * envelope without `idempotency_key`, SHA-256) tells a true duplicate from a conflicting reuse of a key.
 */
import { createHash } from 'node:crypto';
import { IdempotencyKeyMismatchError, InvalidIdempotencyKeyError } from './errors';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function requestHash(envelope: Readonly<Record<string, unknown>>): string {
  const { idempotency_key: _ignored, ...rest } = envelope;
  return sha256Hex(canonicalJson(rest));
}

export interface IdempotencyIdentity {
  /** The key as the caller gave it, or `hash:<requestHash>` when derived. */
  readonly key: string;
  readonly source: 'header' | 'body' | 'derived';
  readonly requestHash: string;
  /** A fixed-length id of (tenant, key), safe in any storage key. */
  readonly scopeId: string;
}

export function validateIdempotencyKey(key: string): void {
  if (key.length === 0) throw new InvalidIdempotencyKeyError('must not be empty');
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new InvalidIdempotencyKeyError(`must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw new InvalidIdempotencyKeyError('must not contain control characters');
}

export function resolveIdempotency(
  envelope: Readonly<{ tenant_id: string; idempotency_key?: string | undefined }> &
    Readonly<Record<string, unknown>>,
  headerKey: string | undefined,
): IdempotencyIdentity {
  const hash = requestHash(envelope);
  const bodyKey = envelope.idempotency_key;
  if (headerKey !== undefined) validateIdempotencyKey(headerKey);
  if (headerKey !== undefined && bodyKey !== undefined && headerKey !== bodyKey)
    throw new IdempotencyKeyMismatchError();
  const explicit = headerKey ?? bodyKey;
  const key = explicit ?? `hash:${hash}`;
  const source = headerKey !== undefined ? 'header' : bodyKey !== undefined ? 'body' : 'derived';
  return { key, source, requestHash: hash, scopeId: idempotencyScopeId(envelope.tenant_id, key) };
}

/** The scope id of a tenant's idempotency key (what `resolveIdempotency` answers as `scopeId`). */
export function idempotencyScopeId(tenantId: string, key: string): string {
  return sha256Hex(`${tenantId}\u0000${key}`);
}

/** Whether an idempotency record made at `createdAt` still holds at `now`. */
export function isWithinWindow(createdAt: string, now: Date, ttlHours: number): boolean {
  return now.getTime() - Date.parse(createdAt) < ttlHours * 3_600_000;
}

/**
 * Whether a live record written at `createdAt` whose job does not exist is an orphan at `now`: its
 * admission died before writing the job, so the command may be admitted again over it.
 */
export function isOrphanPastGrace(createdAt: string, now: Date, orphanGraceSeconds: number): boolean {
  return now.getTime() - Date.parse(createdAt) >= orphanGraceSeconds * 1000;
}
