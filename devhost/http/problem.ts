/**
 * The errors devhost answers of its own (no route, wrong method, missing key, bad admin request,
 * a failure of devhost itself):
 * `application/problem+json` (RFC 9457) with a stable `code`, so a caller always learns why. A
 * function's own answers are never rewritten.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

export type HostProblemCode =
  | 'route_not_found'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'function_disabled'
  | 'not_supported'
  | 'invalid_request'
  | 'internal_error';

export function sendProblem(
  res: ServerResponse,
  status: number,
  code: HostProblemCode,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
  });
  res
    .writeHead(status, {
      ...headers,
      'content-type': 'application/problem+json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
