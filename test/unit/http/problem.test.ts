import { LuciusError } from '../../../src/domain/errors';
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
});
