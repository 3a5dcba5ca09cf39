/**
 * Errors of the authentication and authorization layer: one class, `AuthFailure`, whose `code`
 * says what went wrong and whose `status` is the HTTP status it answers with.
 *
 * | code                 | status | meaning                                                        |
 * |----------------------|--------|----------------------------------------------------------------|
 * | `unauthenticated`    | 401    | no credentials (RFC 6750 §3.1: the challenge carries no error) |
 * | `invalid_token`      | 401    | a token that is malformed, badly signed, expired, not yet      |
 * |                      |        | valid, for another audience or issuer, or signed with an       |
 * |                      |        | algorithm that is not allowed                                  |
 * | `missing_role`       | 403    | authenticated, but without the app role the action needs       |
 * | `tenant_forbidden`   | 403    | a command for a tenant the caller may not act for              |
 * | `tenant_required`    | 400    | `tenant_id` omitted by a caller that may act for several       |
 * | `auth_unavailable`   | 503    | the identity provider's metadata or keys cannot be fetched     |
 *
 * Messages are written for the caller: they never carry a stack, a key, a URL of ours or a library's
 * internal message (the cause is kept for the log). `wwwAuthenticate` is the RFC 6750 challenge to
 * send with 401 and 403 answers.
 */
import { LuciusError } from '../domain/errors';

export const AUTH_REALM = 'lucius';

export type AuthFailureCode =
  | 'unauthenticated'
  | 'invalid_token'
  | 'missing_role'
  | 'tenant_forbidden'
  | 'tenant_required'
  | 'auth_unavailable';

export type AuthFailureStatus = 400 | 401 | 403 | 503;

const STATUS: Readonly<Record<AuthFailureCode, AuthFailureStatus>> = {
  unauthenticated: 401,
  invalid_token: 401,
  missing_role: 403,
  tenant_forbidden: 403,
  tenant_required: 400,
  auth_unavailable: 503,
};

export class AuthFailure extends LuciusError {
  declare readonly code: AuthFailureCode;
  readonly status: AuthFailureStatus;
  /** The `WWW-Authenticate` header value to answer with, when the status calls for one. */
  readonly wwwAuthenticate?: string;

  private constructor(
    code: AuthFailureCode,
    message: string,
    options: { wwwAuthenticate?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const status = STATUS[code];
    super(code, message, {
      fault: status === 503 ? 'system' : 'caller',
      retryable: status === 503,
      ...(options.details === undefined ? {} : { details: options.details }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.status = status;
    if (options.wwwAuthenticate !== undefined) this.wwwAuthenticate = options.wwwAuthenticate;
  }

  /** No credentials at all: a bare challenge, as RFC 6750 §3.1 asks. */
  static unauthenticated(): AuthFailure {
    return new AuthFailure(
      'unauthenticated',
      'This endpoint needs a bearer token (Authorization: Bearer <token>)',
      {
        wwwAuthenticate: `Bearer realm="${AUTH_REALM}"`,
      },
    );
  }

  /** A token was presented and refused; `description` says why in words fit for the caller. */
  static invalidToken(description: string, cause?: unknown): AuthFailure {
    return new AuthFailure('invalid_token', `The bearer token was refused: ${description}`, {
      wwwAuthenticate: challenge('invalid_token', description),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  static missingRole(action: string, role: string): AuthFailure {
    const description = `the ${action} action needs the app role ${role}`;
    return new AuthFailure('missing_role', `Forbidden: ${description}`, {
      wwwAuthenticate: challenge('insufficient_scope', description),
      details: { action, role },
    });
  }

  /** A command for a tenant the caller may not act for (no tenant: the caller may act for none). */
  static tenantForbidden(tenantId?: string): AuthFailure {
    return tenantId === undefined
      ? new AuthFailure('tenant_forbidden', 'Forbidden: the caller is not granted any tenant')
      : new AuthFailure('tenant_forbidden', `Forbidden: the caller may not act for tenant ${tenantId}`, {
          details: { tenant_id: tenantId },
        });
  }

  /** The caller omitted tenant_id and does not act for exactly one tenant. */
  static tenantRequired(): AuthFailure {
    return new AuthFailure(
      'tenant_required',
      'tenant_id is required: the caller may act for more than one tenant (or for none)',
    );
  }

  static unavailable(cause: unknown): AuthFailure {
    return new AuthFailure('auth_unavailable', 'The identity provider could not be reached; retry later', {
      cause,
    });
  }
}

/** An RFC 6750 §3 challenge; the description is reduced to the characters the grammar allows. */
function challenge(error: string, description: string): string {
  const safe = description.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');
  return `Bearer realm="${AUTH_REALM}", error="${error}", error_description="${safe}"`;
}

export function isAuthFailure(value: unknown): value is AuthFailure {
  return value instanceof AuthFailure;
}
