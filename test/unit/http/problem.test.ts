import { AuthFailure } from '../../../src/auth/errors';
import { LuciusError } from '../../../src/domain/errors';
import { RequestLimitError } from '../../../src/guards/request-limits';
import { RateLimitedError } from '../../../src/http/errors';
import { problemResponse, statusForError } from '../../../src/http/problem';
import { IdempotencyConflictError } from '../../../src/ledger/errors';

describe('problemResponse', () => {
  it('maps an unmapped caller fault to 400, never 500', () => {
    expect(statusForError(new LuciusError('something_new', 'x', { fault: 'caller' }))).toBe(400);
  });

  it('maps unmapped system faults to 503 when retryable and 500 otherwise', () => {
    expect(statusForError(new LuciusError('a', 'x', { fault: 'system', retryable: true }))).toBe(503);
    expect(statusForError(new LuciusError('b', 'x', { fault: 'system' }))).toBe(500);
  });

  it('writes an RFC 9457 document with the instance and no internal job id', () => {
    const response = problemResponse(new IdempotencyConflictError('t1', 'k', 'job-secret'), {
      instance: '/api/v1/commands',
    });
    const body = JSON.parse(String(response.body)) as Record<string, unknown>;
    expect(response.status).toBe(409);
    expect(body).toMatchObject({
      type: 'urn:lucius:problem:idempotency_conflict',
      title: 'Conflict',
      status: 409,
      instance: '/api/v1/commands',
      tenant_id: 't1',
    });
    expect(JSON.stringify(body)).not.toContain('job-secret');
  });

  it('hides the message of unknown errors', () => {
    const response = problemResponse(new TypeError('cannot read x of undefined at /srv/app.js'));
    expect(response.status).toBe(500);
    expect(String(response.body)).not.toContain('/srv/app.js');
  });

  it('answers authentication failures with their status and WWW-Authenticate challenge', () => {
    const missing = problemResponse(AuthFailure.unauthenticated());
    expect(missing.status).toBe(401);
    expect(missing.headers).toMatchObject({ 'WWW-Authenticate': 'Bearer realm="lucius"' });
    const role = problemResponse(AuthFailure.missingRole('submit', 'Lucius.Submit'));
    expect(role.status).toBe(403);
    expect(JSON.parse(String(role.body))).toMatchObject({ title: 'Forbidden', code: 'missing_role' });
    expect(problemResponse(AuthFailure.tenantRequired()).status).toBe(400);
    expect(problemResponse(AuthFailure.unavailable(new Error('jwks down'))).status).toBe(503);
  });

  it("answers a rate limit's 429 with its own Retry-After", () => {
    const response = problemResponse(new RateLimitedError('tenant', 7), { retryAfterSeconds: 5 });
    expect(response.status).toBe(429);
    expect(response.headers).toMatchObject({ 'Retry-After': '7' });
  });

  it('maps the request limits to 414 and 431', () => {
    for (const [code, status] of [
      ['uri_too_long', 414],
      ['request_header_fields_too_large', 431],
    ] as const) {
      const response = problemResponse(new RequestLimitError({ code, status, limit: 1, detail: 'too big' }));
      expect(response.status).toBe(status);
    }
  });
});
