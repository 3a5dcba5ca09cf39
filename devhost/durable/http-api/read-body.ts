/**
 * Reads a request body as JSON for the start and raise-event endpoints. An empty body is `undefined`;
 * a non-empty one must parse (400 otherwise) and, where `requireJsonContentType`, be declared
 * `application/json` as the extension requires for raiseEvent.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError, PayloadTooLargeError } from './errors';

export interface ReadJsonOptions {
  readonly maxBytes: number;
  readonly requireJsonContentType: boolean;
}

export async function readJsonBody(req: IncomingMessage, options: ReadJsonOptions): Promise<unknown> {
  const text = await readText(req, options.maxBytes);
  if (text.trim() === '') return undefined;
  if (options.requireJsonContentType) {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new InvalidRequestError(
        `only application/json request content is supported, got ${JSON.stringify(req.headers['content-type'] ?? '')}`,
        'content-type',
      );
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidRequestError(`the request body is not valid JSON: ${(error as Error).message}`, 'body', {
      cause: error,
    });
  }
}

async function readText(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
