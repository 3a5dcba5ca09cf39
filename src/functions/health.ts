/**
 * Liveness and readiness probes (anonymous, as probes are). Readiness asks the durable task hub
 * through the invocation's durable client, hence its input binding.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleHealth, handleReadiness } from '../http/health-handlers';

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => handleHealth(),
});

app.http('healthz', {
  route: 'healthz',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: (request, context) => handleReadiness(getServices(), request, context),
});
