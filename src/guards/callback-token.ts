/**
 * Worker callback tokens: a directive carries a token that lets the worker call back over HTTP for
 * exactly that job, step, attempt and lease, without any other credential.
 *
 *   token  = "lcb1." kid "." payload "." mac
 *   payload = base64url(JSON {"j": jobId, "s": stepId, "a": attemptNo, "l": leaseId})
 *   mac     = base64url(HMAC-SHA256(key[kid], "lcb1." kid "." payload))
 *
 * `kid` names the key that signed it, so keys can be rotated: verification accepts the current key
 * and the previous one (a token signed with a key no longer configured answers `unknown_key`).
 * The MAC is compared in constant time; nothing about a token is trusted before its MAC matches.
 *
 * The token carries no expiry of its own. It "stops working when the attempt ends" through the
 * ledger, which is the only truth about attempts: `verifyCallbackToken` returns the attempt and
 * lease the token is bound to, and the caller must then read the step from the ledger and accept
 * the callback only when `callbackTokenMatchesAttempt(bound, view)` holds (the attempt is still in
 * flight and its lease is the token's). A token of an attempt that failed, succeeded, was
 * cancelled or was superseded by a new attempt is refused there, so replaying it changes nothing.
 *
 * Verification never throws: any string (or any value) yields a result.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isInFlight, type AttemptView } from '../domain/attempt';
import { GuardConfigError } from './errors';

const VERSION = 'lcb1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** SHA-256 output, base64url without padding. */
const MAC_CHARS = 43;
/** Longer than any token Lucius issues for ids within the ledger's limits; longer input is refused unread. */
export const MAX_CALLBACK_TOKEN_LENGTH = 4096;
export const MIN_CALLBACK_KEY_BYTES = 32;

export interface CallbackKey {
  /** Key id, written into every token it signs (letters, digits, `_`, `-`; at most 32). */
  readonly id: string;
  readonly secret: Buffer;
}

/** The keys verification accepts: the current one signs; the previous one is still accepted. */
export interface CallbackKeyRing {
  readonly current: CallbackKey;
  readonly previous?: CallbackKey;
}

export interface CallbackTokenClaims {
  readonly jobId: string;
  readonly stepId: string;
  readonly attemptNo: number;
  readonly leaseId: string;
}

/** The attempt a verified token is bound to: check it against the ledger before accepting the callback. */
export interface BoundAttempt {
  readonly attemptNo: number;
  readonly leaseId: string;
}

export type CallbackTokenFailure =
  /** Not a token at all: wrong type, length, shape, version or encoding. */
  | 'malformed'
  /** Signed with a key id that is neither the current nor the previous key. */
  | 'unknown_key'
  /** The MAC does not match: tampered, or signed with another secret under the same key id. */
  | 'bad_signature'
  /** A genuine token for another job. */
  | 'wrong_job'
  /** A genuine token for another step of this job. */
  | 'wrong_step';

export type CallbackTokenVerification =
  | ({ readonly ok: true; readonly keyId: string } & BoundAttempt)
  | { readonly ok: false; readonly reason: CallbackTokenFailure };

/**
 * Builds a key from its id and secret, refusing a key that cannot be safe: an id the token format
 * cannot carry, or a secret shorter than 32 bytes (HMAC-SHA256's output size).
 */
export function callbackKey(id: string, secret: Buffer): CallbackKey {
  if (!KEY_ID.test(id))
    throw new GuardConfigError(
      'callback-token',
      `key id "${id}" must be 1 to 32 letters, digits, "_" or "-"`,
    );
  if (secret.length < MIN_CALLBACK_KEY_BYTES)
    throw new GuardConfigError(
      'callback-token',
      `key "${id}" has ${secret.length} bytes; at least ${MIN_CALLBACK_KEY_BYTES} are required`,
    );
  // The secret is not enumerable, so logging or serializing settings never prints it.
  const key = { id } as { id: string; secret: Buffer };
  Object.defineProperty(key, 'secret', { value: Buffer.from(secret), enumerable: false });
  return Object.freeze(key);
}

/**
 * Parses a key written as `<kid>:<secret>`, the secret in base64 or base64url (e.g. from
 * `openssl rand -base64 32`). The message never contains the secret.
 */
export function parseCallbackKey(text: string): CallbackKey {
  const colon = text.indexOf(':');
  if (colon <= 0)
    throw new GuardConfigError('callback-token', 'a key must be written as <key id>:<base64 secret>');
  const id = text.slice(0, colon);
  const encoded = text.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded))
    throw new GuardConfigError('callback-token', `the secret of key "${id}" is not base64`);
  return callbackKey(id, Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

export function callbackKeyRing(current: CallbackKey, previous?: CallbackKey): CallbackKeyRing {
  if (previous !== undefined && previous.id === current.id)
    throw new GuardConfigError(
      'callback-token',
      `the previous key must have another id than the current one ("${current.id}")`,
    );
  return Object.freeze(previous === undefined ? { current } : { current, previous });
}

/** Signs a token for one attempt of one step. Throws on claims no attempt can have (a programming error). */
export function issueCallbackToken(key: CallbackKey, claims: CallbackTokenClaims): string {
  const problem = claimsProblem(claims);
  if (problem !== undefined) throw new TypeError(`cannot issue a callback token: ${problem}`);
  const payload = Buffer.from(
    JSON.stringify({ j: claims.jobId, s: claims.stepId, a: claims.attemptNo, l: claims.leaseId }),
    'utf8',
  ).toString('base64url');
  const signed = `${VERSION}.${key.id}.${payload}`;
  return `${signed}.${mac(key.secret, signed).toString('base64url')}`;
}

/**
 * Checks a token presented for `claimed` (the job and step the callback's route names) and returns
 * the attempt it is bound to, or why it is refused. Then check the bound attempt against the ledger
 * with `callbackTokenMatchesAttempt`.
 */
export function verifyCallbackToken(
  keys: CallbackKeyRing,
  token: unknown,
  claimed: { readonly jobId: string; readonly stepId: string },
): CallbackTokenVerification {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CALLBACK_TOKEN_LENGTH)
    return refused('malformed');
  const parts = token.split('.');
  if (parts.length !== 4) return refused('malformed');
  const [version, keyId, payload, signature] = parts as [string, string, string, string];
  if (version !== VERSION || !KEY_ID.test(keyId)) return refused('malformed');
  if (payload.length === 0 || !BASE64URL.test(payload)) return refused('malformed');
  if (signature.length !== MAC_CHARS || !BASE64URL.test(signature)) return refused('malformed');

  const key = [keys.current, keys.previous].find((k) => k !== undefined && k.id === keyId);
  if (key === undefined) return refused('unknown_key');
  const presented = Buffer.from(signature, 'base64url');
  const expected = mac(key.secret, `${version}.${keyId}.${payload}`);
  // Canonical base64url only: a re-encoding with other trailing bits would decode to the same MAC.
  if (presented.toString('base64url') !== signature || presented.length !== expected.length)
    return refused('malformed');
  if (!timingSafeEqual(presented, expected)) return refused('bad_signature');

  const claims = decodeClaims(payload);
  if (claims === undefined) return refused('malformed');
  if (claims.jobId !== claimed.jobId) return refused('wrong_job');
  if (claims.stepId !== claimed.stepId) return refused('wrong_step');
  return { ok: true, keyId, attemptNo: claims.attemptNo, leaseId: claims.leaseId };
}

/**
 * Where a verified token's attempt stands in the ledger:
 * - `current`: the ledger's attempt is the token's and is in flight: the callback may be applied;
 * - `ended`: the token's attempt ended (succeeded, failed, cancelled): the token no longer works;
 * - `superseded`: the ledger holds another attempt or lease (a later attempt, or none yet).
 */
export type CallbackTokenStanding = 'current' | 'ended' | 'superseded';

export function callbackTokenStanding(
  bound: BoundAttempt,
  view: Pick<AttemptView, 'status' | 'attemptNo' | 'leaseId'>,
): CallbackTokenStanding {
  if (view.attemptNo !== bound.attemptNo || view.leaseId !== bound.leaseId) return 'superseded';
  return isInFlight(view.status) ? 'current' : 'ended';
}

/** True only while the token's attempt is the ledger's attempt and still in flight. */
export function callbackTokenMatchesAttempt(
  bound: BoundAttempt,
  view: Pick<AttemptView, 'status' | 'attemptNo' | 'leaseId'>,
): boolean {
  return callbackTokenStanding(bound, view) === 'current';
}

function mac(secret: Buffer, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed, 'utf8').digest();
}

function refused(reason: CallbackTokenFailure): CallbackTokenVerification {
  return { ok: false, reason };
}

function claimsProblem(claims: CallbackTokenClaims): string | undefined {
  if (typeof claims.jobId !== 'string' || claims.jobId.length === 0)
    return 'jobId must be a non-empty string';
  if (typeof claims.stepId !== 'string' || claims.stepId.length === 0)
    return 'stepId must be a non-empty string';
  if (!Number.isSafeInteger(claims.attemptNo) || claims.attemptNo < 1)
    return 'attemptNo must be a positive integer';
  if (typeof claims.leaseId !== 'string' || claims.leaseId.length === 0)
    return 'leaseId must be a non-empty string';
  return undefined;
}

function decodeClaims(payload: string): CallbackTokenClaims | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { j, s, a, l } = parsed as Record<string, unknown>;
  if (typeof j !== 'string' || typeof s !== 'string' || typeof a !== 'number' || typeof l !== 'string')
    return undefined;
  const claims = { jobId: j, stepId: s, attemptNo: a, leaseId: l };
  return claimsProblem(claims) === undefined ? claims : undefined;
}
