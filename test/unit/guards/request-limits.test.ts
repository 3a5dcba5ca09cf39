import { GuardConfigError } from '../../../src/guards/errors';
import {
  checkRequestLimits,
  DEFAULT_REQUEST_LIMITS,
  RequestLimitError,
  requestLimits,
  type RequestLimits,
} from '../../../src/guards/request-limits';

const limits: RequestLimits = requestLimits({
  maxBodyBytes: 1000,
  maxHeaderCount: 5,
  maxHeaderBytes: 200,
  maxQueryBytes: 30,
});
const url = 'https://lucius.example/api/v1/jobs';

describe('checkRequestLimits', () => {
  it('passes a request within every limit', () => {
    expect(
      checkRequestLimits(limits, {
        url: `${url}?tenant_id=t1`,
        headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' },
      }),
    ).toBeUndefined();
    expect(checkRequestLimits(DEFAULT_REQUEST_LIMITS, { url, headers: new Headers() })).toBeUndefined();
  });

  it('answers 431 for too many header fields, counting repeated ones', () => {
    const headers: Array<[string, string]> = [
      ['a', '1'],
      ['a', '2'],
      ['b', '1'],
      ['c', '1'],
      ['d', '1'],
      ['e', '1'],
    ];
    expect(checkRequestLimits(limits, { url, headers })).toEqual({
      code: 'request_header_fields_too_large',
      status: 431,
      limit: 5,
      detail: 'the request has 6 header fields; at most 5 are accepted',
    });
    expect(checkRequestLimits(limits, { url, headers: { a: ['1', '2', '3', '4', '5', '6'] } })).toMatchObject(
      {
        status: 431,
      },
    );
  });

  it('answers 431 for a header section larger than the limit in bytes (UTF-8)', () => {
    // "authorization: " + value + CRLF: 13 + 4 + n bytes
    expect(checkRequestLimits(limits, { url, headers: { Authorization: 'x'.repeat(183) } })).toBeUndefined();
    expect(checkRequestLimits(limits, { url, headers: { Authorization: 'x'.repeat(184) } })).toMatchObject({
      code: 'request_header_fields_too_large',
      status: 431,
      limit: 200,
    });
    expect(checkRequestLimits(limits, { url, headers: { Authorization: 'é'.repeat(92) } })).toMatchObject({
      status: 431,
    });
  });

  it('answers 414 for a query string longer than the limit, ignoring the fragment', () => {
    expect(
      checkRequestLimits(limits, { url: `${url}?${'q'.repeat(30)}#${'f'.repeat(100)}`, headers: {} }),
    ).toBeUndefined();
    expect(checkRequestLimits(limits, { url: `${url}?${'q'.repeat(31)}`, headers: {} })).toEqual({
      code: 'uri_too_long',
      status: 414,
      limit: 30,
      detail: 'the query string has 31 bytes; at most 30 are accepted',
    });
    expect(checkRequestLimits(limits, { url: `/api/v1/jobs?${'q'.repeat(31)}`, headers: {} })).toMatchObject({
      status: 414,
    });
  });

  it('answers 413 for a declared body larger than the limit, and leaves an unreadable length to the body reader', () => {
    expect(checkRequestLimits(limits, { url, headers: { 'content-length': '1001' } })).toEqual({
      code: 'payload_too_large',
      status: 413,
      limit: 1000,
      detail: 'the request body declares 1001 bytes; at most 1000 are accepted',
    });
    expect(checkRequestLimits(limits, { url, headers: { 'content-length': 'abc' } })).toBeUndefined();
  });

  it('reports the header limit first, then the query, then the body', () => {
    const everything = {
      url: `${url}?${'q'.repeat(31)}`,
      headers: { 'content-length': '5000', Authorization: 'x'.repeat(300) },
    };
    expect(checkRequestLimits(limits, everything)?.status).toBe(431);
    expect(checkRequestLimits(limits, { ...everything, headers: { 'content-length': '5000' } })?.status).toBe(
      414,
    );
  });

  it('turns a violation into a caller-fault error carrying its code and status', () => {
    const violation = checkRequestLimits(limits, { url: `${url}?${'q'.repeat(31)}`, headers: {} });
    const error = new RequestLimitError(violation!);
    expect(error).toMatchObject({
      code: 'uri_too_long',
      status: 414,
      fault: 'caller',
      details: { limit: 30 },
    });
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => requestLimits({ ...DEFAULT_REQUEST_LIMITS, maxHeaderCount: 0 })).toThrow(GuardConfigError);
    expect(() => requestLimits({ ...DEFAULT_REQUEST_LIMITS, maxQueryBytes: 1.5 })).toThrow(/maxQueryBytes/);
  });
});
