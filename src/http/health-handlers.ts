/** GET /health: the process is up. GET /healthz: the ledger answers (503 problem otherwise). */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { errorResponse, jsonResponse } from './respond';

export function handleHealth(): HttpResponseInit {
  return jsonResponse(200, { status: 'ok' }, { 'Cache-Control': 'no-store' });
}

export async function handleReadiness(
  services: Pick<Services, 'readiness' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    await services.readiness.ledger.ping();
    return jsonResponse(
      200,
      { status: 'ok', ledger: { backend: services.readiness.backend, status: 'ok' } },
      { 'Cache-Control': 'no-store' },
    );
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}
