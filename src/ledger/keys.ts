/**
 * Storage keys, valid on real Azure Tables (no `/ \ # ?` or control characters).
 *
 * - Step row key: `STEP|000|ocr` (zero-padded index so rows sort in protocol order). The old
 *   spelling `STEP#000#ocr` is accepted as input only.
 * - Job index row key: `<15-digit inverted epoch ms>|<jobId>`, so a tenant's jobs sort newest first.
 * - Continuation tokens: base64url of `{"v":1,"after":"<index row key>"}`.
 */
import { InvalidContinuationError } from './errors';

export const JOB_ROW_KEY = 'JOB';
const STEP_PREFIX = 'STEP';
const MAX_EPOCH_MS = 999_999_999_999_999;

export function stepRowKey(index: number, stepId: string): string {
  return `${STEP_PREFIX}|${String(index).padStart(3, '0')}|${stepId}`;
}

export function parseStepRowKey(rowKey: string): { index: number; stepId: string } | undefined {
  const match = /^STEP([|#])(\d{1,6})\1(.+)$/.exec(rowKey);
  if (match === null) return undefined;
  return { index: Number(match[2]), stepId: match[3] as string };
}

export function indexRowKey(createdAt: string, jobId: string): string {
  const inverted = MAX_EPOCH_MS - Date.parse(createdAt);
  return `${String(inverted).padStart(15, '0')}|${jobId}`;
}

export function encodeContinuation(afterRowKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterRowKey }), 'utf8').toString('base64url');
}

export function decodeContinuation(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && (parsed as { v?: unknown }).v === 1) {
      const after = (parsed as { after?: unknown }).after;
      if (typeof after === 'string' && /^\d{15}\|[A-Za-z0-9-]+$/.test(after)) return after;
    }
  } catch (error) {
    throw new InvalidContinuationError(error);
  }
  throw new InvalidContinuationError();
}

/** Characters Azure Tables forbids in PartitionKey/RowKey. */
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

export function assertValidKey(key: string, what: string): string {
  if (key.length === 0 || key.length > 1024 || FORBIDDEN_KEY_CHARS.test(key)) {
    throw new RangeError(`${what} "${key}" is not a valid Azure Table key`);
  }
  return key;
}
