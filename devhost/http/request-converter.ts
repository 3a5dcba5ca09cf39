/**
 * Node request → the app's `HttpRequest`, as the worker's HTTP stream mode builds it: the body is
 * the request stream itself (not buffered; GET and HEAD have none), headers as sent (repeated ones
 * joined with ", "), the query from the URL, and the matched route parameters.
 *
 * `params`: without streaming the worker passes the route parameters only. With
 * `app.setup({ enableHttpStream: true })` the library builds `params` from the host's trigger
 * metadata, which holds every query-string value (repeated names joined with ",") and the route
 * parameters (a route parameter wins over a query value of the same name): `streamParams` does that.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpRequest } from '@azure/functions';

type HttpRequestClass = typeof import('@azure/functions').HttpRequest;

export function fromNodeRequest(
  HttpRequestCtor: HttpRequestClass,
  req: IncomingMessage,
  url: URL,
  routeParams: Record<string, string>,
  options: { readonly streamParams?: boolean } = {},
): HttpRequest {
  const params = options.streamParams === true ? { ...queryValues(url), ...routeParams } : routeParams;
  const method = (req.method ?? 'GET').toUpperCase();
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.push([name, Array.isArray(value) ? value.join(', ') : value]);
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const nativeRequest = new Request(url, {
    method,
    headers,
    ...(hasBody ? { body: req as unknown as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
  // `nativeRequest` is how the library's own stream mode (createStreamRequest) builds requests.
  return new HttpRequestCtor({
    nativeRequest,
    params,
  } as unknown as ConstructorParameters<HttpRequestClass>[0]);
}

function queryValues(url: URL): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of new Set(url.searchParams.keys())) values[name] = url.searchParams.getAll(name).join(',');
  return values;
}
