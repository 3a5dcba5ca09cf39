/**
 * Liveness and readiness probes (anonymous, as probes are, and outside the security pipeline; their
 * answers still carry the security headers). Readiness asks the durable task hub through the
 * invocation's durable client, hence its input binding.
 */
import { app, type HttpResponseInit } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { withSecurityHeaders } from '../guards/security-headers';
import { handleHealth, handleReadiness } from '../http/health-handlers';

function withHeaders(response: HttpResponseInit): HttpResponseInit {
  const headers = (response.headers ?? {}) as Record<string, string>;
  return { ...response, headers: withSecurityHeaders(headers, getServices().security.headers) };
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => withHeaders(handleHealth()),
});

app.http('healthz', {
  route: 'healthz',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => withHeaders(await handleReadiness(getServices(), request, context)),
});
