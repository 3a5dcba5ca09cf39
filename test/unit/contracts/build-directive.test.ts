import { validateDirective } from '../../../src/contracts/directive';
import { buildCancelDirective, buildDirective } from '../../../src/contracts/build-directive';
import {
  callbackKey,
  callbackKeyRing,
  issueCallbackToken,
  verifyCallbackToken,
} from '../../../src/guards/callback-token';
import { at, job, REPLY_PREFIX, step, T0 } from '../messaging/fixtures';

const LEASE = '5b0f8f4e-3c1a-4d57-9b3e-2f7c1a0d9e42';

describe('buildDirective', () => {
  it('builds a directive.v1 document for the attempt, replying to the lane reply topic', () => {
    const directive = buildDirective({
      job: job('job-7', { correlationId: 'corr-7' }),
      step: step('job-7', 'EMBEDDING', { lane: 3, payload: { model: 'small' } }),
      attempt: { attemptNo: 2, leaseId: LEASE },
      inputRef: 'blob://out/doc/ocr',
      deadlines: {
        ackDeadline: at(30_000),
        leaseExpiresAt: at(900_000),
        resultDeadline: '2030-01-01T01:00:00Z',
      },
      replyPrefix: REPLY_PREFIX,
      issuedAt: T0,
    });

    expect(directive).toEqual({
      schema_version: 'v1',
      kind: 'directive',
      job_id: 'job-7',
      tenant_id: 't1',
      step_id: 'embedding',
      step_index: 1,
      step_type: 'EMBEDDING',
      attempt_no: 2,
      lease_id: LEASE,
      lane: 3,
      correlation_id: 'corr-7',
      reply_to: 'global-bus-replies-p3',
      issued_at: '2030-01-01T00:00:00.000Z',
      input_ref: 'blob://out/doc/ocr',
      output_ref: 'blob://out/doc',
      payload: { model: 'small' },
      ack_deadline: '2030-01-01T00:00:30.000Z',
      lease_expires_at: '2030-01-01T00:15:00.000Z',
      result_deadline: '2030-01-01T01:00:00Z',
    });
    expect(validateDirective(directive).ok).toBe(true);
  });

  it('leaves out what the job and deadlines do not have, and takes a step output location when named', () => {
    const directive = buildDirective({
      job: job('job-8'),
      step: step('job-8', 'OCR', { lane: 0 }),
      attempt: { attemptNo: 1, leaseId: LEASE },
      inputRef: 'blob://in/doc.pdf',
      outputRef: 'blob://out/doc/ocr',
      deadlines: { ackDeadline: at(30_000) },
      replyPrefix: 'replies-',
      issuedAt: T0,
    });

    expect(directive).not.toHaveProperty('correlation_id');
    expect(directive).not.toHaveProperty('callback_token');
    expect(directive).not.toHaveProperty('lease_expires_at');
    expect(directive).not.toHaveProperty('result_deadline');
    expect(directive.output_ref).toBe('blob://out/doc/ocr');
    expect(directive.reply_to).toBe('replies-0');
    expect(validateDirective(directive).ok).toBe(true);
  });

  it('carries the attempt’s callback token as callback_token', () => {
    const key = callbackKey('2026-01', Buffer.alloc(32, 5));
    const claims = { jobId: 'job-8', stepId: 'ocr', attemptNo: 1, leaseId: LEASE };
    const directive = buildDirective({
      job: job('job-8'),
      step: step('job-8', 'OCR', { lane: 0 }),
      attempt: { attemptNo: 1, leaseId: LEASE },
      inputRef: 'blob://in/doc.pdf',
      deadlines: { ackDeadline: at(30_000) },
      replyPrefix: REPLY_PREFIX,
      issuedAt: T0,
      callbackToken: issueCallbackToken(key, claims),
    });

    expect(validateDirective(directive).ok).toBe(true);
    expect(
      verifyCallbackToken(callbackKeyRing(key), directive.callback_token, { jobId: 'job-8', stepId: 'ocr' }),
    ).toMatchObject({ ok: true, attemptNo: 1, leaseId: LEASE });
  });
});

describe('buildCancelDirective', () => {
  it('builds a cancel for the same attempt, without the work and with the reason', () => {
    const cancel = buildCancelDirective({
      job: job('job-9'),
      step: step('job-9', 'SIS', { lane: 2 }),
      attempt: { attemptNo: 3, leaseId: LEASE },
      reason: 'cancelled by the tenant',
      replyPrefix: REPLY_PREFIX,
      issuedAt: at(5_000),
    });

    expect(cancel).toEqual({
      schema_version: 'v1',
      kind: 'cancel',
      job_id: 'job-9',
      tenant_id: 't1',
      step_id: 'sis',
      step_index: 2,
      step_type: 'SIS',
      attempt_no: 3,
      lease_id: LEASE,
      lane: 2,
      reply_to: 'global-bus-replies-p2',
      issued_at: '2030-01-01T00:00:05.000Z',
      reason: 'cancelled by the tenant',
    });
    expect(validateDirective(cancel).ok).toBe(true);
  });
});
