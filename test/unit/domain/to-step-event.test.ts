import { decodeReply } from '../../../src/contracts/reply-decoder';
import { transitionStep } from '../../../src/domain/step';
import { toStepEvent, type ReplyTimings } from '../../../src/domain/to-step-event';
import type { WorkerReply } from '../../../src/domain/worker-reply';
import { step } from '../messaging/fixtures';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const LEASE = '5b0f8f4e-3c1a-4d57-9b3e-2f7c1a0d9e42';
const attempt = { jobId: 'job-1', stepId: 'ocr', attemptNo: 2, leaseId: LEASE };
const TIMINGS: ReplyTimings = { leaseMinutes: 15, stepResultTimeoutSeconds: 900, maxAttempts: 3 };

describe('toStepEvent', () => {
  it('maps an ACK to ACK with the configured lease and the result deadline from now', () => {
    const reply: WorkerReply = { kind: 'ack', ...attempt, ackedAt: '2029-12-31T23:59:59Z' };
    expect(toStepEvent(reply, TIMINGS, NOW)).toEqual({
      type: 'ACK',
      attemptNo: 2,
      leaseId: LEASE,
      leaseExpiresAt: '2030-01-01T00:15:00.000Z',
      resultDeadline: '2030-01-01T00:15:00.000Z',
    });
  });

  it('grants the lease an ACK asks for, up to the cap', () => {
    const ack = (leaseMinutes: number): WorkerReply => ({
      kind: 'ack',
      ...attempt,
      ackedAt: 'x',
      leaseMinutes,
    });
    const timings = { ...TIMINGS, stepResultTimeoutSeconds: 7200 };
    expect(toStepEvent(ack(5), timings, NOW)).toMatchObject({ leaseExpiresAt: '2030-01-01T00:05:00.000Z' });
    expect(toStepEvent(ack(60), timings, NOW)).toMatchObject({
      leaseExpiresAt: '2030-01-01T01:00:00.000Z',
      resultDeadline: '2030-01-01T02:00:00.000Z',
    });
    expect(toStepEvent(ack(60), { ...timings, maxRequestedLeaseMinutes: 30 }, NOW)).toMatchObject({
      leaseExpiresAt: '2030-01-01T00:30:00.000Z',
    });
  });

  it('maps a heartbeat to HEARTBEAT extending the lease from now', () => {
    const beat: WorkerReply = { kind: 'heartbeat', ...attempt, sentAt: 'x' };
    expect(toStepEvent(beat, TIMINGS, NOW)).toEqual({
      type: 'HEARTBEAT',
      attemptNo: 2,
      leaseId: LEASE,
      leaseExpiresAt: '2030-01-01T00:15:00.000Z',
    });
    expect(toStepEvent({ ...beat, extendMinutes: 3 }, TIMINGS, NOW)).toMatchObject({
      leaseExpiresAt: '2030-01-01T00:03:00.000Z',
    });
  });

  it('maps a SUCCEEDED result to SUCCEED with its output, result and a result deadline', () => {
    const reply: WorkerReply = {
      kind: 'result',
      ...attempt,
      status: 'SUCCEEDED',
      outputRef: 'blob://out/doc/ocr',
      result: { pages: 3 },
      completedAt: 'x',
    };
    expect(toStepEvent(reply, TIMINGS, NOW)).toEqual({
      type: 'SUCCEED',
      attemptNo: 2,
      leaseId: LEASE,
      outputRef: 'blob://out/doc/ocr',
      result: { pages: 3 },
      resultDeadline: '2030-01-01T00:15:00.000Z',
    });
  });

  it('maps a FAILED result to FAIL with the class, message and attempt budget', () => {
    const reply: WorkerReply = {
      kind: 'result',
      ...attempt,
      status: 'FAILED',
      failure: { failureClass: 'PERMANENT', message: 'unreadable PDF' },
      completedAt: 'x',
    };
    expect(toStepEvent(reply, TIMINGS, NOW)).toEqual({
      type: 'FAIL',
      attemptNo: 2,
      leaseId: LEASE,
      failureClass: 'PERMANENT',
      message: 'unreadable PDF',
      maxAttempts: 3,
    });
  });

  it('yields events the step state machine applies: a decoded ACK then RESULT finish the attempt', () => {
    const awaiting = step('job-1', 'OCR', { status: 'AWAITING_ACK', attemptNo: 2, leaseId: LEASE });
    const echo = { schema_version: 'v1', job_id: 'job-1', step_id: 'ocr', attempt_no: 2, lease_id: LEASE };
    const ack = decodeReply(JSON.stringify({ ...echo, kind: 'ack', acked_at: '2030-01-01T00:00:00Z' }));
    const result = decodeReply({
      ...echo,
      kind: 'result',
      status: 'SUCCEEDED',
      output_ref: 'blob://out/doc/ocr',
      completed_at: '2030-01-01T00:01:00Z',
    });

    const acked = transitionStep(awaiting, toStepEvent(ack, TIMINGS, NOW), NOW).next;
    const later = new Date(NOW.getTime() + 60_000);
    const done = transitionStep(acked, toStepEvent(result, TIMINGS, later), later).next;

    expect(acked).toMatchObject({ status: 'IN_PROGRESS', leaseExpiresAt: '2030-01-01T00:15:00.000Z' });
    expect(done).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/doc/ocr' });
  });
});
