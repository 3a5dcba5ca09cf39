import fc from 'fast-check';
import { IdempotencyKeyMismatchError, InvalidIdempotencyKeyError } from '../../../src/domain/errors';
import {
  canonicalJson,
  isWithinWindow,
  requestHash,
  resolveIdempotency,
} from '../../../src/domain/idempotency';

const envelope = {
  tenant_id: 't1',
  request_type: 'OCR',
  payload: { steps: { ocr: { output_format: 'TEXT' } } },
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        return canonicalJson(record) === canonicalJson(reversed);
      }),
    );
  });
});

describe('resolveIdempotency', () => {
  it('derives a key from the canonical hash when none is given', () => {
    const identity = resolveIdempotency(envelope, undefined);
    expect(identity.source).toBe('derived');
    expect(identity.key).toBe(`hash:${requestHash(envelope)}`);
    expect(resolveIdempotency({ ...envelope }, undefined).scopeId).toBe(identity.scopeId);
  });

  it('prefers the header, then the body key', () => {
    expect(resolveIdempotency({ ...envelope, idempotency_key: 'b' }, undefined)).toMatchObject({
      key: 'b',
      source: 'body',
    });
    expect(resolveIdempotency(envelope, 'h')).toMatchObject({ key: 'h', source: 'header' });
    expect(resolveIdempotency({ ...envelope, idempotency_key: 'h' }, 'h')).toMatchObject({
      key: 'h',
      source: 'header',
    });
  });

  it('refuses a header that differs from the body key', () => {
    expect(() => resolveIdempotency({ ...envelope, idempotency_key: 'b' }, 'h')).toThrow(
      IdempotencyKeyMismatchError,
    );
  });

  it('refuses empty, overlong or control-character header keys', () => {
    for (const bad of ['', 'x'.repeat(257), 'a\nb'])
      expect(() => resolveIdempotency(envelope, bad)).toThrow(InvalidIdempotencyKeyError);
  });

  it('scopes keys per tenant and hashes the body without the key', () => {
    expect(resolveIdempotency(envelope, 'k').scopeId).not.toBe(
      resolveIdempotency({ ...envelope, tenant_id: 't2' }, 'k').scopeId,
    );
    expect(resolveIdempotency({ ...envelope, idempotency_key: 'k' }, undefined).requestHash).toBe(
      requestHash(envelope),
    );
    expect(resolveIdempotency({ ...envelope, input_ref: 'other' }, 'k').requestHash).not.toBe(
      requestHash(envelope),
    );
  });
});

describe('isWithinWindow', () => {
  it('holds for less than the TTL and lapses at it', () => {
    const created = '2026-01-01T00:00:00.000Z';
    expect(isWithinWindow(created, new Date('2026-01-01T23:59:59.999Z'), 24)).toBe(true);
    expect(isWithinWindow(created, new Date('2026-01-02T00:00:00.000Z'), 24)).toBe(false);
  });
});
