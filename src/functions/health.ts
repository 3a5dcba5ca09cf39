/** Liveness and readiness probes (anonymous, as probes are). */
import { app } from '@azure/functions';
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
  handler: (request, context) => handleReadiness(getServices(), request, context),
});
