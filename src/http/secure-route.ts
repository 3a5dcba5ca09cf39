/**
 * The one security pipeline every API route goes through (README "Security"), in this order:
 *
 *   1. request limits: header fields (431), query string (414), declared body size (413);
 *   2. CORS: an OPTIONS preflight is answered here, before authentication (204, or 403
 *      `cors_refused`); any other OPTIONS answers 204;
 *   3. authentication (the authenticator of LUCIUS_AUTH_MODE): 401 `unauthenticated` or
 *      `invalid_token` with WWW-Authenticate, 503 `auth_unavailable`. On the worker callback routes
 *      (`callbackToken: true`), a `Lucius-Callback-Token` header replaces it: no bearer token and no
 *      role are asked for, and the handler verifies the token;
 *   4. the per-principal rate limit (429 `rate_limited` with Retry-After);
 *   5. the role the route's action needs (403 `missing_role`);
 *   6. the handler, with a `Caller` (caller.ts) that resolves the tenant (403 `tenant_forbidden`,
 *      400 `tenant_required`, or the unknown-job 404 for a job of another tenant) and takes from the
 *      per-tenant rate limit then.
 *
 * Every answer, errors included, gets the security headers, the CORS headers of its origin and the
 * RateLimit / RateLimit-Policy headers of the limits it was counted against. A refused request is
 * logged as one `http.refused` warning (code, status, path, principal when known; never a
 * credential). Nothing thrown reaches the caller as more than a problem document.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { requireRole, tenantAccess, tenantsOf } from '../auth/authorization';
import { AuthFailure, isAuthFailure } from '../auth/errors';
import type { Principal } from '../auth/principal';
import type { Action } from '../auth/roles';
import type { TenantGrants } from '../auth/tenant-grants';
import type { LuciusError } from '../domain/errors';
import { evaluateCors, type CorsResult } from '../guards/cors';
import { rateLimitHeaders } from '../guards/rate-limit-headers';
import type { RateLimitOutcome, TokenBucketLimiter } from '../guards/rate-limiter';
import { checkRequestLimits, RequestLimitError } from '../guards/request-limits';
import { withSecurityHeaders } from '../guards/security-headers';
import { JobNotFoundError } from '../ledger/errors';
import type { HttpSecurity, Services } from '../services';
import { CALLBACK_TOKEN_HEADER, type Caller, type SecuredHandler, type TenantPurpose } from './caller';
import { CorsRefusedError, InvalidQueryError, RateLimitedError } from './errors';
import { problemResponse } from './problem';
import { errorResponse } from './respond';

export interface RouteSpec {
  /** What the route does, hence the role it needs (auth/roles.ts). */
  readonly action: Action;
  /** A worker callback route: a `Lucius-Callback-Token` header stands in for a bearer token. */
  readonly callbackToken?: boolean;
}

/** What the pipeline needs of the services. */
export type SecuredServices = Pick<Services, 'security' | 'http'>;

/** A route as the function registrations call it. */
export type RouteHandler<S> = (
  services: S,
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

export function secureRoute<S extends SecuredServices>(
  spec: RouteSpec,
  handler: SecuredHandler<S>,
): RouteHandler<S> {
  return async (services, request, context) => {
    const exchange = new Exchange(services.security, request, context);
    let response: HttpResponseInit;
    try {
      response = await pass(spec, handler, services, request, context, exchange);
    } catch (error) {
      response = errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
    }
    return exchange.finish(response);
  };
}

async function pass<S extends SecuredServices>(
  spec: RouteSpec,
  handler: SecuredHandler<S>,
  services: S,
  request: HttpRequest,
  context: InvocationContext,
  exchange: Exchange,
): Promise<HttpResponseInit> {
  const { security } = services;
  const violation = checkRequestLimits(security.requestLimits, request);
  if (violation !== undefined) return exchange.refuse(new RequestLimitError(violation));

  if (request.method.toUpperCase() === 'OPTIONS') {
    if (exchange.cors.kind !== 'preflight' || exchange.cors.allowed) return { status: 204 };
    return exchange.refuse(new CorsRefusedError());
  }

  const callbackToken =
    spec.callbackToken === true ? present(request.headers.get(CALLBACK_TOKEN_HEADER)) : undefined;
  if (callbackToken !== undefined) {
    // No principal: the token's job is the closest thing to one (the handler checks the token).
    const limited = exchange.takePrincipal(`callback:${request.params.jobId ?? ''}`);
    if (limited !== undefined) return exchange.refuse(limited);
    return handler(services, request, context, exchange.caller(undefined, callbackToken));
  }

  let principal: Principal | AuthFailure;
  try {
    principal = await (await security.authenticator()).authenticate(request.headers);
  } catch (error) {
    context.error(JSON.stringify({ event: 'auth.unavailable', path: exchange.path }), error);
    principal = AuthFailure.unavailable(error);
  }
  if (isAuthFailure(principal)) return exchange.refuse(principal);
  exchange.principal = principal;

  const limited = exchange.takePrincipal(`principal:${principal.subject}`);
  if (limited !== undefined) return exchange.refuse(limited);
  const missingRole = requireRole(principal, spec.action);
  if (missingRole !== undefined) return exchange.refuse(missingRole);
  return handler(services, request, context, exchange.caller(principal));
}

/** What a caller reports to its request's passage through the pipeline. */
export interface CallerHooks {
  /** Takes from the tenant's rate limit; the error to throw when it is empty. */
  takeTenant(tenantId: string): RateLimitedError | undefined;
  /** A refusal, for the audit line. */
  note(code: string, status: number): void;
}

const NO_HOOKS: CallerHooks = { takeTenant: () => undefined, note: () => undefined };

/**
 * The caller of a request authenticated as `principal` (none: a callback token stood in), applying
 * the tenant rules over `grants`. The pipeline makes one per request; tests make their own.
 */
export function createCaller(
  grants: TenantGrants,
  principal: Principal | undefined,
  callbackToken?: string,
  hooks: CallerHooks = NO_HOOKS,
): Caller {
  return new PipelineCaller(grants, hooks, principal, callbackToken);
}

/** One request's passage through the pipeline: what it was counted against and refused for. */
class Exchange implements CallerHooks {
  readonly path: string;
  readonly cors: CorsResult;
  principal?: Principal;
  private readonly outcomes: RateLimitOutcome[] = [];
  private readonly refusals: Array<{ readonly code: string; readonly status: number }> = [];

  constructor(
    readonly security: HttpSecurity,
    private readonly request: HttpRequest,
    private readonly context: InvocationContext,
  ) {
    this.path = new URL(request.url).pathname;
    this.cors = evaluateCors(security.cors, request);
  }

  /** The problem response for a refusal, noted for the audit line. */
  refuse(error: LuciusError & { readonly status?: number }): HttpResponseInit {
    const response = problemResponse(error, { instance: this.path });
    this.note(error.code, response.status ?? 400);
    return response;
  }

  note(code: string, status: number): void {
    this.refusals.push({ code, status });
  }

  /** Takes from the principal's bucket; the error to answer with when it is empty. */
  takePrincipal(key: string): RateLimitedError | undefined {
    return this.take(this.security.limiters?.principal, key);
  }

  takeTenant(tenantId: string): RateLimitedError | undefined {
    return this.take(this.security.limiters?.tenant, tenantId);
  }

  private take(limiter: TokenBucketLimiter | undefined, key: string): RateLimitedError | undefined {
    if (limiter === undefined) return undefined;
    const decision = limiter.take(key);
    this.outcomes.push({ policy: limiter.policy, decision });
    return decision.allowed
      ? undefined
      : new RateLimitedError(limiter.policy.name, decision.retryAfterSeconds);
  }

  caller(principal: Principal | undefined, callbackToken?: string): Caller {
    return createCaller(this.security.grants, principal, callbackToken, this);
  }

  /** The response with the security, CORS and RateLimit headers; the audit line of a refusal. */
  finish(response: HttpResponseInit): HttpResponseInit {
    const headers = new Headers(response.headers as ConstructorParameters<typeof Headers>[0]);
    for (const [name, value] of Object.entries(this.cors.headers)) headers.set(name, value);
    for (const [name, value] of Object.entries(rateLimitHeaders(this.outcomes))) headers.set(name, value);
    for (const refusal of this.refusals) {
      this.context.warn(
        JSON.stringify({
          event: 'http.refused',
          code: refusal.code,
          status: refusal.status,
          method: this.request.method,
          path: this.path,
          ...(this.principal === undefined ? {} : { principal: this.principal.subject }),
        }),
      );
    }
    return {
      ...response,
      headers: withSecurityHeaders(Object.fromEntries(headers.entries()), this.security.headers),
    };
  }
}

/** The tenant rules (auth/authorization.ts) for one request, with the per-tenant rate limit. */
class PipelineCaller implements Caller {
  constructor(
    private readonly grants: TenantGrants,
    private readonly hooks: CallerHooks,
    readonly principal: Principal | undefined,
    readonly callbackToken: string | undefined,
  ) {}

  async tenant(
    requested: string | undefined,
    purpose: TenantPurpose,
    jobIdForNotFound?: string,
  ): Promise<string> {
    const { principal, hooks } = this;
    if (principal === undefined) throw this.refused(AuthFailure.tenantForbidden(requested));
    // The anonymous principal (LUCIUS_AUTH_MODE=none) may use any tenant, so it must name one.
    if ((requested === undefined || requested === '') && principal.tenants === 'all' && purpose !== 'command')
      throw new InvalidQueryError('tenant_id', 'is required');
    const access = await tenantAccess(
      principal,
      requested,
      this.grants,
      purpose === 'read' ? 'read' : 'command',
    );
    if (access.outcome === 'not-found') {
      hooks.note('tenant_forbidden', 404);
      throw new JobNotFoundError(jobIdForNotFound ?? '');
    }
    if (access.outcome === 'denied') throw this.refused(access.failure);
    const limited = hooks.takeTenant(access.tenantId);
    if (limited !== undefined) throw this.refused(limited);
    return access.tenantId;
  }

  async mayUse(tenantId: string): Promise<boolean> {
    if (this.principal === undefined) return false;
    const tenants = await tenantsOf(this.principal, this.grants);
    return tenants === 'all' || tenants.includes(tenantId);
  }

  private refused<E extends LuciusError>(error: E): E {
    this.hooks.note(error.code, isAuthFailure(error) ? error.status : 429);
    return error;
  }
}

function present(value: string | null): string | undefined {
  return value === null || value.trim() === '' ? undefined : value.trim();
}
