/**
 * Continuation tokens of `GET /v1/jobs`, bound to the tenant they were issued for.
 *
 * The ledger's token only says where a listing stopped inside one tenant's index (ledger/keys.ts);
 * the listing itself is always confined to the tenant the caller was authorized for, so a token
 * cannot reveal another tenant's rows. Binding it to its tenant makes a token used for another
 * tenant a clear client error (400 invalid query `continuation`) instead of a silently shifted page.
 */
import { InvalidQueryError } from './errors';

const VERSION = 1;

/** The token handed to the caller for the ledger's `continuation` of `tenantId`'s listing. */
export function bindContinuation(tenantId: string, continuation: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, t: tenantId, c: continuation }), 'utf8').toString(
    'base64url',
  );
}

/** The ledger's continuation inside a token the caller sent for `tenantId`; 400 when it is not one. */
export function unbindContinuation(tenantId: string, token: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { v, t, c } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  if (v !== VERSION || typeof t !== 'string' || typeof c !== 'string')
    throw new InvalidQueryError('continuation', 'is not a continuation token this API issued');
  if (t !== tenantId)
    throw new InvalidQueryError(
      'continuation',
      'was issued for another tenant: restart the listing without it',
    );
  return c;
}
