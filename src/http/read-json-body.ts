/**
 * Reads a JSON request body: the content type must be JSON (415), the body at most `maxBytes`
 * (413, checked against Content-Length first and again while reading), and it must parse (400).
 */
import type { HttpRequest } from '@azure/functions';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const mediaType = (value.split(';')[0] ?? '').trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

export async function readJsonBody(request: HttpRequest, maxBytes: number): Promise<unknown> {
  const contentType = request.headers.get('content-type');
  if (!isJsonContentType(contentType)) throw new UnsupportedMediaTypeError(contentType);
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const text = await readCapped(request, maxBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedJsonError(error);
  }
}

async function readCapped(request: HttpRequest, maxBytes: number): Promise<string> {
  const body = request.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}
