/**
 * GET /api/dev/jwks.json: the public JWKS of the local dev issuer, anonymous, registered only when
 * LUCIUS_AUTH_MODE=dev (`npm start`), so tools and other local services can check dev tokens the way
 * the app does. It holds public keys only; the signing key stays in LUCIUS_AUTH_DEV_DATA_DIR.
 */
import { app } from '@azure/functions';
import { getServices } from '../composition';
import { withSecurityHeaders } from '../guards/security-headers';

const { security } = getServices();

if (security.mode === 'dev' && security.devJwks !== undefined) {
  const jwks = security.devJwks;
  app.http('devJwks', {
    route: 'dev/jwks.json',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => ({
      status: 200,
      jsonBody: await jwks(),
      headers: withSecurityHeaders(
        { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
        security.headers,
      ),
    }),
  });
}
