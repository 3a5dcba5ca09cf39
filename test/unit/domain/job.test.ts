import { InvalidTransitionError } from '../../../src/domain/errors';
import {
  canTransitionJob,
  isTerminalJobStatus,
  JOB_STATUSES,
  transitionJob,
  type Job,
  type JobEvent,
} from '../../../src/domain/job';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:01:00.000Z');

function job(status: Job['status']): Job {
  return {
    jobId: 'j1',
    tenantId: 't1',
    requestType: 'OCR',
    status,
    inputRef: 'in',
    outputRef: 'out',
    routingKey: 't1',
    routingKeyUsed: 'tenant_id',
    lane: 3,
    priority: 5,
    labels: {},
    idempotencyKey: 'k',
    requestHash: 'h',
    schemaVersion: 'v1',
    stepIds: ['ocr'],
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    redrives: 0,
    orchestrationRestarts: 0,
    repairs: [],
  };
}

const T2 = new Date('2026-01-01T00:02:00.000Z');
const FAILURE = { stepId: 'ocr', failureClass: 'PERMANENT' as const, message: 'bad scan' };

function failedJob(): Job {
  const running = transitionJob(job('ACCEPTED'), { type: 'START' }, T0).next;
  return transitionJob(running, { type: 'FAIL', failure: FAILURE }, T1).next;
}

describe('transitionJob', () => {
  it('starts an accepted job and stamps startedAt', () => {
    const { next, changed } = transitionJob(job('ACCEPTED'), { type: 'START' }, T1);
    expect(changed).toBe(true);
    expect(next.status).toBe('RUNNING');
    expect(next.startedAt).toBe(T1.toISOString());
    expect(next.updatedAt).toBe(T1.toISOString());
  });

  it('finishes a running job as SUCCEEDED, FAILED (keeping the failure) or CANCELLED', () => {
    expect(transitionJob(job('RUNNING'), { type: 'SUCCEED' }, T1).next).toMatchObject({
      status: 'SUCCEEDED',
      finishedAt: T1.toISOString(),
    });
    const failure = { stepId: 'ocr', failureClass: 'PERMANENT' as const, message: 'bad scan' };
    expect(transitionJob(job('RUNNING'), { type: 'FAIL', failure }, T1).next).toMatchObject({
      status: 'FAILED',
      failure,
    });
    expect(transitionJob(job('RUNNING'), { type: 'CANCEL', reason: 'user' }, T1).next).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'user',
    });
  });

  it('treats a repeated event as a no-op', () => {
    const running = job('RUNNING');
    expect(transitionJob(running, { type: 'START' }, T1)).toEqual({ next: running, changed: false });
    expect(transitionJob(job('SUCCEEDED'), { type: 'SUCCEED' }, T1).changed).toBe(false);
    expect(transitionJob(job('CANCELLED'), { type: 'CANCEL' }, T1).changed).toBe(false);
  });

  it('refuses to leave a terminal state, naming job, state and event', () => {
    expect(() => transitionJob(job('SUCCEEDED'), { type: 'CANCEL' }, T1)).toThrow(InvalidTransitionError);
    try {
      transitionJob(job('FAILED'), { type: 'START' }, T1);
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTransitionError);
      expect((error as InvalidTransitionError).details).toEqual({
        machine: 'job',
        subject: 'j1',
        from: 'FAILED',
        event: 'START',
      });
    }
  });

  it('refuses to succeed a job that never started', () => {
    expect(() => transitionJob(job('ACCEPTED'), { type: 'SUCCEED' }, T1)).toThrow(InvalidTransitionError);
  });

  it('never changes a terminal job, for every event but the redrive of a failed one', () => {
    const events: JobEvent[] = [
      { type: 'START' },
      { type: 'SUCCEED' },
      { type: 'FAIL', failure: { failureClass: 'TRANSIENT', message: 'x' } },
      { type: 'CANCEL' },
      { type: 'REDRIVE' },
    ];
    for (const status of JOB_STATUSES.filter(isTerminalJobStatus)) {
      for (const event of events) {
        if (status === 'FAILED' && event.type === 'REDRIVE') continue;
        if (canTransitionJob(status, event.type))
          expect(transitionJob(job(status), event, T1).changed).toBe(false);
        else expect(() => transitionJob(job(status), event, T1)).toThrow(InvalidTransitionError);
      }
    }
  });

  describe('REDRIVE', () => {
    it('takes a failed job back to RUNNING, clearing the failure and finishedAt and counting the redrive', () => {
      const failed = failedJob();
      expect(failed).toMatchObject({ status: 'FAILED', failure: FAILURE, finishedAt: T1.toISOString() });

      const { next, changed } = transitionJob(failed, { type: 'REDRIVE' }, T2);

      expect(changed).toBe(true);
      expect(next).toMatchObject({
        status: 'RUNNING',
        redrives: 1,
        startedAt: T0.toISOString(),
        updatedAt: T2.toISOString(),
      });
      expect(next).not.toHaveProperty('failure');
      expect(next).not.toHaveProperty('finishedAt');
    });

    it('counts every redrive of a job that fails again', () => {
      const once = transitionJob(failedJob(), { type: 'REDRIVE' }, T2).next;
      const failedAgain = transitionJob(once, { type: 'FAIL', failure: FAILURE }, T2).next;
      expect(transitionJob(failedAgain, { type: 'REDRIVE' }, T2).next.redrives).toBe(2);
    });

    it('refuses to redrive a job that is not FAILED, a running one included', () => {
      for (const status of JOB_STATUSES.filter((s) => s !== 'FAILED')) {
        expect(() => transitionJob(job(status), { type: 'REDRIVE' }, T1)).toThrow(InvalidTransitionError);
      }
      const redriven = transitionJob(failedJob(), { type: 'REDRIVE' }, T2).next;
      expect(() => transitionJob(redriven, { type: 'REDRIVE' }, T2)).toThrow(InvalidTransitionError);
    });
  });
});
