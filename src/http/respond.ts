/** Response helpers shared by the HTTP handlers: JSON bodies and the one error path. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { LuciusError } from '../domain/errors';
import { problemResponse } from './problem';

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'Content-Type': 'application/json', ...headers } };
}

/**
 * Turns any error into a problem response and logs it: caller mistakes at warning level, system
 * failures at error level with the cause.
 */
export function errorResponse(
  error: unknown,
  request: HttpRequest,
  context: InvocationContext,
  retryAfterSeconds: number,
): HttpResponseInit {
  const instance = new URL(request.url).pathname;
  if (error instanceof LuciusError && error.fault === 'caller') {
    context.warn(
      JSON.stringify({ event: 'http.rejected', code: error.code, path: instance, message: error.message }),
    );
  } else {
    context.error(
      JSON.stringify({
        event: 'http.failed',
        path: instance,
        code: error instanceof LuciusError ? error.code : 'internal_error',
      }),
      error,
    );
  }
  return problemResponse(error, { instance, retryAfterSeconds });
}
