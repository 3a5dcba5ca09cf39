/**
 * A handler's result → the Node response, as the worker and host convert it:
 *
 * - `undefined`/`null` → 204 No Content (no HTTP output was set);
 * - an `HttpResponse`, or an `HttpResponseInit` wrapped in the app's `HttpResponse` (so `jsonBody`,
 *   string, bytes, `ReadableStream`, `Blob`, `FormData`, ... bodies behave exactly as the library
 *   defines them: default status 200, `content-type` from the body);
 * - `cookies` become `Set-Cookie` headers;
 * - the body is streamed, not buffered; HEAD sends none;
 * - anything else (a string, a number) is the worker's "The HTTP response must be an object" error,
 *   which the caller answers with 500.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Cookie, HttpResponse } from '@azure/functions';
import { DevhostBaseError } from '../common/errors';

type HttpResponseClass = typeof import('@azure/functions').HttpResponse;

/** A handler returned something that is not an HTTP response: the app's fault. */
export class InvalidHttpResultError extends DevhostBaseError<'invalid_http_result'> {
  readonly fault = 'caller';

  constructor() {
    super(
      'invalid_http_result',
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  }
}

export function toHttpResponse(
  HttpResponseCtor: HttpResponseClass,
  result: unknown,
): HttpResponse | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object') throw new InvalidHttpResultError();
  return result instanceof HttpResponseCtor
    ? result
    : new HttpResponseCtor(result as ConstructorParameters<HttpResponseClass>[0]);
}

export async function writeNodeResponse(
  res: ServerResponse,
  response: HttpResponse | undefined,
  method: string,
): Promise<void> {
  if (response === undefined) {
    res.writeHead(204).end();
    return;
  }
  const cookies = response.cookies.map(serializeCookie);
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const setCookies = [...response.headers.getSetCookie(), ...cookies];
  if (setCookies.length > 0) res.setHeader('set-cookie', setCookies);
  res.statusCode = response.status;
  const body = response.body;
  if (body === null || method === 'HEAD') {
    if (body !== null) await body.cancel();
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), res);
}

export function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain !== undefined) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path !== undefined) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) {
    const expires = typeof cookie.expires === 'number' ? new Date(cookie.expires) : cookie.expires;
    parts.push(`Expires=${expires.toUTCString()}`);
  }
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure === true) parts.push('Secure');
  if (cookie.httpOnly === true) parts.push('HttpOnly');
  if (cookie.sameSite !== undefined) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}
