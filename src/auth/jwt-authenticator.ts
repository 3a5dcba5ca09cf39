/**
 * Bearer JWT authentication, shared by `entra` (keys from the tenant's published JWKS) and `dev`
 * (keys from the local dev issuer): one code path validates both.
 *
 * A token is accepted when its signature verifies with a key of the trusted set (chosen by `kid`),
 * its `alg` is in the allow-list (asymmetric algorithms only: `none` and HS* are never accepted, so
 * a token "signed" with the public key as an HMAC secret is refused), `iss` is a trusted issuer,
 * `aud` is one of the configured audiences, and `nbf`/`exp` hold at the current time give or take
 * the clock skew (`exp` is required). The claims are then read into a `Principal` (principal.ts).
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { bearerTokenOf, type AuthMode, type Authenticator, type HeaderLookup } from './authenticator';
import { AuthFailure } from './errors';
import { principalFromClaims, type Principal } from './principal';

import { ASYMMETRIC_ALGORITHMS, type SigningAlgorithm } from '../config/auth-settings';

export { ASYMMETRIC_ALGORITHMS, type SigningAlgorithm };

/** Where the keys and issuers come from; resolved on each request (sources cache what they fetch). */
export interface TokenTrust {
  resolve(): Promise<{ readonly keys: JWTVerifyGetKey; readonly issuers: readonly string[] }>;
}

export interface JwtAuthenticatorOptions {
  readonly mode: Extract<AuthMode, 'entra' | 'dev'>;
  readonly trust: TokenTrust;
  readonly audiences: readonly string[];
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockSkewSeconds: number;
  readonly tenantsClaim: string;
  /** The current time (tests move it); default the system clock. */
  readonly now?: () => Date;
}

export class JwtAuthenticator implements Authenticator {
  readonly mode: JwtAuthenticatorOptions['mode'];

  constructor(private readonly options: JwtAuthenticatorOptions) {
    if (options.audiences.length === 0)
      throw new RangeError('a JWT authenticator needs at least one audience');
    const symmetric = options.algorithms.filter(
      (alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg),
    );
    if (options.algorithms.length === 0 || symmetric.length > 0)
      throw new RangeError(`allowed algorithms must be asymmetric (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
    this.mode = options.mode;
  }

  async authenticate(headers: HeaderLookup): Promise<Principal | AuthFailure> {
    const token = bearerTokenOf(headers);
    if (token instanceof AuthFailure) return token;
    let trust: Awaited<ReturnType<TokenTrust['resolve']>>;
    try {
      trust = await this.options.trust.resolve();
    } catch (error) {
      return AuthFailure.unavailable(error);
    }
    try {
      const { payload } = await jwtVerify(token, trust.keys, {
        issuer: [...trust.issuers],
        audience: [...this.options.audiences],
        algorithms: [...this.options.algorithms],
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: (this.options.now ?? (() => new Date()))(),
        requiredClaims: ['exp'],
      });
      return principalFromClaims(payload, this.options.tenantsClaim);
    } catch (error) {
      return failureOf(error);
    }
  }
}

/** A jose error as the failure to answer with; the library's message stays in `cause` only. */
export function failureOf(error: unknown): AuthFailure {
  if (error instanceof errors.JWTExpired) return AuthFailure.invalidToken('the token has expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    const description =
      error.claim === 'nbf'
        ? 'the token is not valid yet'
        : error.claim === 'iat'
          ? 'the token was issued in the future'
          : error.claim === 'aud'
            ? 'the token is for another audience'
            : error.claim === 'iss'
              ? 'the token is from an issuer this app does not trust'
              : `the token's ${error.claim} claim is missing or invalid`;
    return AuthFailure.invalidToken(description, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return AuthFailure.invalidToken('the token is signed with an algorithm this app does not accept', error);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return AuthFailure.invalidToken('the token signature is invalid', error);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return AuthFailure.invalidToken('the token is signed with a key the issuer does not publish', error);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return AuthFailure.invalidToken('the token is malformed', error);
  if (error instanceof errors.JWKInvalid || error instanceof TypeError)
    return AuthFailure.invalidToken('the token cannot be verified with the published keys', error);
  // The key set could not be fetched or read (timeout, HTTP error, a malformed document): not the
  // caller's fault.
  return AuthFailure.unavailable(error);
}
