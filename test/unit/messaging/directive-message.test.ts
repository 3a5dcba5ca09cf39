import {
  directiveMessageId,
  directiveTopic,
  MAX_MESSAGE_ID_LENGTH,
  toDirectiveMessage,
} from '../../../src/messaging/directive-message';
import { buildCancelDirective } from '../../../src/contracts/build-directive';
import { directive, job, REPLY_PREFIX, step, T0 } from './fixtures';

const LEASE = '5b0f8f4e-3c1a-4d57-9b3e-2f7c1a0d9e42';

describe('toDirectiveMessage', () => {
  it('gives a step directive its ACK deadline as time to live, at least 1 ms', () => {
    const document = directive({ jobId: 'job-1', type: 'OCR', lane: 1, attemptNo: 1, leaseId: LEASE });
    const issued = Date.parse(document.issued_at);
    const at = (ms: number) => new Date(issued + ms).toISOString();
    expect(toDirectiveMessage({ ...document, ack_deadline: at(12_000) }).timeToLive).toBe(12_000);
    expect(toDirectiveMessage({ ...document, ack_deadline: at(-5_000) }).timeToLive).toBe(1);
  });

  it('carries the document as JSON with the routing, reply and filtering properties', () => {
    const document = directive({ jobId: 'job-1', type: 'OCR', lane: 1, attemptNo: 2, leaseId: LEASE });

    expect(toDirectiveMessage(document)).toEqual({
      body: document,
      contentType: 'application/json',
      messageId: 'job-1:ocr:2',
      correlationId: 'job-1',
      subject: 'directive',
      replyTo: 'global-bus-replies-p1',
      // Issue to ACK deadline: the directive expires from the subscription when nobody took it.
      timeToLive: Date.parse(document.ack_deadline) - Date.parse(document.issued_at),
      applicationProperties: {
        step_type: 'OCR',
        tenant_id: 't1',
        job_id: 'job-1',
        step_id: 'ocr',
        attempt_no: 2,
        lease_id: LEASE,
        lane: 1,
        schema_version: 'v1',
      },
    });
  });

  it('gives a cancel its own message id and subject', () => {
    const cancel = buildCancelDirective({
      job: job('job-1'),
      step: step('job-1', 'OCR'),
      attempt: { attemptNo: 2, leaseId: LEASE },
      replyPrefix: REPLY_PREFIX,
      issuedAt: T0,
    });

    const message = toDirectiveMessage(cancel);
    expect(message.timeToLive).toBeUndefined();

    expect(message.messageId).toBe('job-1:ocr:2:cancel');
    expect(message.subject).toBe('cancel');
    expect(message.applicationProperties?.step_type).toBe('OCR');
  });
});

describe('directiveMessageId', () => {
  it('is the same for every publish of one attempt and differs between attempts', () => {
    const first = directive({ attemptNo: 1 });
    const republished = { ...first, issued_at: '2030-01-01T00:05:00.000Z' };
    expect(directiveMessageId(first)).toBe(directiveMessageId(republished));
    expect(directiveMessageId(directive({ attemptNo: 2 }))).not.toBe(directiveMessageId(first));
  });

  it('hashes ids longer than Service Bus allows, deterministically', () => {
    const long = { kind: 'directive', job_id: 'j'.repeat(128), step_id: 'ocr', attempt_no: 1 } as const;
    const id = directiveMessageId(long);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id.length).toBeLessThanOrEqual(MAX_MESSAGE_ID_LENGTH);
    expect(directiveMessageId(long)).toBe(id);
    expect(directiveMessageId({ ...long, kind: 'cancel' })).not.toBe(id);
  });
});

describe('directiveTopic', () => {
  it('is the lane topic', () => {
    expect(directiveTopic('global-bus-p', { lane: 15 })).toBe('global-bus-p15');
  });
});
