/**
 * What every API function registration shares: its handler behind the security pipeline
 * (http/secure-route.ts) over the process's services, and the Functions `authLevel` of
 * LUCIUS_HTTP_AUTH_LEVEL (`function`: the function key stays an extra gate; `anonymous`: bearer
 * tokens only). Each route also answers OPTIONS, for CORS preflights.
 */
import type { HttpHandler } from '@azure/functions';
import { getServices } from '../composition';
import type { SecuredHandler } from '../http/caller';
import { secureRoute, type RouteSpec } from '../http/secure-route';
import type { Services } from '../services';

export function secured(spec: RouteSpec, handler: SecuredHandler<Services>): HttpHandler {
  const route = secureRoute<Services>(spec, handler);
  return (request, context) => route(getServices(), request, context);
}

export function apiAuthLevel(): 'function' | 'anonymous' {
  return getServices().settings.security.httpAuthLevel;
}
