/**
 * The security part of the composition root (composition.ts): the authenticator of
 * LUCIUS_AUTH_MODE and the grants (`createAuthAdapters`), and from them and the settings the
 * pipeline's dependencies (`assembleHttpSecurity`): the per-process rate limiters, the CORS policy,
 * the request limits and the security headers.
 *
 * Without auth adapters (services assembled by a tool or a test that serves no API) the pipeline
 * fails closed: every request answers 503 auth_unavailable.
 */
import type { AuthSettings } from './config/auth-settings';
import { AuthFailure } from './auth/errors';
import type { AuthMode, Authenticator } from './auth/authenticator';
import { createAuthenticator } from './auth/create-authenticator';
import { createTenantGrants } from './auth/create-tenant-grants';
import { DevIssuer, devAuthenticator } from './auth/dev-issuer';
import { MemoryTenantGrants } from './auth/memory-tenant-grants';
import type { TenantGrants } from './auth/tenant-grants';
import type { Settings } from './config/settings';
import type { Clock } from './domain/clock';
import { corsPolicy } from './guards/cors';
import { TokenBucketLimiter } from './guards/rate-limiter';
import { requestLimits } from './guards/request-limits';
import type { HttpSecurity } from './services';

/** Who the callers are and which tenants they may use. */
export interface AuthAdapters {
  readonly mode: AuthMode;
  /** Created on first use and kept for the process (a failed creation is tried again next time). */
  readonly authenticator: () => Promise<Authenticator>;
  readonly grants: TenantGrants;
  /** The dev issuer's public JWKS (dev mode only). */
  readonly devJwks?: () => Promise<unknown>;
}

export function createAuthAdapters(auth: AuthSettings, settings: Settings): AuthAdapters {
  const grants = createTenantGrants(settings);
  if (auth.mode === 'dev') {
    const issuer = once(() => DevIssuer.open(auth.devDataDir));
    return {
      mode: auth.mode,
      authenticator: once(async () =>
        devAuthenticator(await issuer(), {
          audiences: auth.audiences,
          clockSkewSeconds: auth.clockSkewSeconds,
          tenantsClaim: auth.tenantsClaim,
        }),
      ),
      grants,
      devJwks: async () => (await issuer()).jwks(),
    };
  }
  return { mode: auth.mode, authenticator: once(() => createAuthenticator(auth)), grants };
}

/** Answers every request with 503 auth_unavailable: the wiring has no authenticator. */
const FAIL_CLOSED: AuthAdapters = {
  mode: 'entra',
  authenticator: () =>
    Promise.resolve({
      mode: 'entra',
      authenticate: () =>
        Promise.resolve(
          AuthFailure.unavailable(new Error('these services were assembled without authentication')),
        ),
    }),
  grants: new MemoryTenantGrants(),
};

export function assembleHttpSecurity(
  settings: Settings,
  clock: Clock,
  auth: AuthAdapters = FAIL_CLOSED,
): HttpSecurity {
  const { rateLimits, cors, requestLimits: limits, hstsMaxAgeSeconds } = settings.security;
  const limiter = (name: 'principal' | 'tenant') =>
    new TokenBucketLimiter(
      {
        name,
        capacity: rateLimits[name].burst,
        refillPerSecond: rateLimits[name].perSecond,
        maxKeys: rateLimits.maxKeys,
      },
      clock,
    );
  return {
    mode: auth.mode,
    authenticator: auth.authenticator,
    grants: auth.grants,
    ...(rateLimits.enabled
      ? { limiters: { principal: limiter('principal'), tenant: limiter('tenant') } }
      : {}),
    cors: corsPolicy(cors),
    requestLimits: requestLimits({ ...limits, maxBodyBytes: settings.admission.maxBodyBytes }),
    headers: { hstsMaxAgeSeconds },
    ...(auth.devJwks === undefined ? {} : { devJwks: auth.devJwks }),
  };
}

/** A promise made once and shared; made again after a failure. */
function once<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
