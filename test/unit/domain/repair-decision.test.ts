import fc from 'fast-check';
import { JOB_STATUSES, isTerminalJobStatus, type Job } from '../../../src/domain/job';
import {
  decideRepair,
  stepDeadline,
  sweeperFor,
  type RepairInput,
} from '../../../src/domain/repair-decision';
import { STEP_STATUSES, type Step } from '../../../src/domain/step';
import { INSTANCE_STATES, isLiveInstance, type InstanceState } from '../../../src/domain/instance';
import { at, job, step, T0 } from '../messaging/fixtures';

const TIMINGS = {
  acceptGraceSeconds: 60,
  timerGraceSeconds: 30,
  dispatchGraceSeconds: 45,
  recheckSeconds: 300,
  maxOrchestrationRestarts: 2,
  jobTimeoutSeconds: 3600,
};

const iso = (offsetSeconds: number): string => at(offsetSeconds * 1000).toISOString();

function input(overrides: Partial<RepairInput> & { nowSeconds?: number } = {}): RepairInput {
  const { nowSeconds = 0, ...rest } = overrides;
  return {
    jobId: 'job-1',
    entryCreatedAt: T0.toISOString(),
    job: job('job-1'),
    steps: [step('job-1', 'OCR'), step('job-1', 'EMBEDDING')],
    instance: { state: 'Running' },
    now: at(nowSeconds * 1000),
    timings: TIMINGS,
    ...rest,
  };
}

function awaitingAck(deadlineSeconds: number): Step {
  return step('job-1', 'OCR', {
    status: 'AWAITING_ACK',
    attemptNo: 1,
    leaseId: 'lease-1',
    ackDeadline: iso(deadlineSeconds),
  });
}

describe('decideRepair', () => {
  it('removes an orphan entry once the accept grace passed, and waits before that', () => {
    const early = decideRepair(input({ job: undefined, steps: [], instance: undefined, nowSeconds: 59 }));
    expect(early).toEqual({ nextCheckAt: at(60_000) });
    const late = decideRepair(input({ job: undefined, steps: [], instance: undefined, nowSeconds: 60 }));
    expect(late.repair?.kind).toBe('IDEMPOTENCY_ORPHAN_REMOVED');
    expect(late.nextCheckAt).toBeUndefined();
  });

  it('cleans the entry of a job that ended', () => {
    for (const status of ['SUCCEEDED', 'FAILED', 'CANCELLED'] as const) {
      const decision = decideRepair(input({ job: job('job-1', { status }), instance: undefined }));
      expect(decision).toEqual({ repair: expect.objectContaining({ kind: 'INDEX_CLEANED' }) });
    }
  });

  it('starts an ACCEPTED job with no instance only after the accept grace', () => {
    const accepted = job('job-1', { status: 'ACCEPTED' });
    const early = decideRepair(input({ job: accepted, instance: { state: 'Missing' }, nowSeconds: 30 }));
    expect(early.repair).toBeUndefined();
    expect(early.nextCheckAt).toEqual(at(60_000));
    const late = decideRepair(input({ job: accepted, instance: { state: 'Missing' }, nowSeconds: 61 }));
    expect(late.repair?.kind).toBe('ORCHESTRATION_STARTED');
  });

  it('restarts an in-flight job whose instance ended or vanished, while restarts remain', () => {
    for (const state of ['Terminated', 'Failed', 'Completed', 'Missing'] as const) {
      const decision = decideRepair(input({ instance: { state } }));
      expect(decision.repair?.kind).toBe('ORCHESTRATION_RESTARTED');
      expect(decision.nextCheckAt).toEqual(at(300_000));
    }
  });

  it('restarts an ACCEPTED job whose instance ended', () => {
    const accepted = job('job-1', { status: 'ACCEPTED' });
    expect(decideRepair(input({ job: accepted, instance: { state: 'Terminated' } })).repair?.kind).toBe(
      'ORCHESTRATION_RESTARTED',
    );
  });

  it('fails the job as ORCHESTRATION_LOST when restarts are exhausted', () => {
    const decision = decideRepair(
      input({ job: job('job-1', { orchestrationRestarts: 2 }), instance: { state: 'Terminated' } }),
    );
    expect(decision.repair?.kind).toBe('ORCHESTRATION_LOST');
    expect(decision.repair?.reason).toContain('Terminated');
    expect(decision.nextCheckAt).toBeUndefined();
  });

  it('rechecks a live orchestration whose step deadline passed by more than the timer grace', () => {
    const steps = [awaitingAck(10), step('job-1', 'EMBEDDING')];
    expect(decideRepair(input({ steps, nowSeconds: 39 })).repair).toBeUndefined();
    const decision = decideRepair(input({ steps, nowSeconds: 41 }));
    expect(decision.repair?.kind).toBe('TIMER_RECHECKED');
    expect(decision.repair?.reason).toContain('ocr');
    expect(decision.nextCheckAt).toEqual(at(71_000));
  });

  it('asks for a redispatch of a step DISPATCHING past the dispatch grace', () => {
    const dispatching = step('job-1', 'OCR', {
      status: 'DISPATCHING',
      attemptNo: 1,
      leaseId: 'l',
      ackDeadline: iso(600),
      updatedAt: iso(0),
    });
    expect(decideRepair(input({ steps: [dispatching], nowSeconds: 44 })).repair).toBeUndefined();
    expect(decideRepair(input({ steps: [dispatching], nowSeconds: 45 })).repair?.kind).toBe(
      'DISPATCH_RETRIED',
    );
  });

  it('rechecks a live orchestration past the job deadline and times out a job whose instance is gone', () => {
    const late = job('job-1', { deadlineAt: iso(100) });
    expect(decideRepair(input({ job: late, nowSeconds: 131 })).repair?.kind).toBe('TIMER_RECHECKED');
    const gone = decideRepair(input({ job: late, instance: { state: 'Missing' }, nowSeconds: 131 }));
    expect(gone.repair?.kind).toBe('JOB_TIMED_OUT');
    expect(gone.nextCheckAt).toBeUndefined();
  });

  it('judges a redriven job by its run deadline, and restarts it rather than time it out when its instance is gone', () => {
    const redriven = job('job-1', { redrives: 1, deadlineAt: iso(100) });
    const runStartedLate = { state: 'Running' as const, createdAt: iso(1000) };
    expect(
      decideRepair(input({ job: redriven, instance: runStartedLate, nowSeconds: 1050 })).repair,
    ).toBeUndefined();
    expect(
      decideRepair(input({ job: redriven, instance: runStartedLate, nowSeconds: 1131 })).repair?.kind,
    ).toBe('TIMER_RECHECKED');
    expect(
      decideRepair(input({ job: redriven, instance: { state: 'Missing' }, nowSeconds: 1131 })).repair?.kind,
    ).toBe('ORCHESTRATION_RESTARTED');
  });

  it('schedules the next check at the soonest deadline plus its grace', () => {
    const inProgress = step('job-1', 'OCR', {
      status: 'IN_PROGRESS',
      attemptNo: 1,
      leaseId: 'l',
      leaseExpiresAt: iso(120),
      resultDeadline: iso(90),
    });
    const decision = decideRepair(
      input({ steps: [inProgress], job: job('job-1', { deadlineAt: iso(1000) }) }),
    );
    expect(decision).toEqual({ nextCheckAt: at(120_000) });
  });

  it('refuses to decide for a job in flight without its instance state', () => {
    expect(() => decideRepair(input({ instance: undefined }))).toThrow(RangeError);
  });
});

describe('stepDeadline', () => {
  it('is the end of the backoff for a step waiting to retry', () => {
    const retry = step('job-1', 'OCR', {
      status: 'FAILED_RETRY',
      updatedAt: iso(10),
      failure: {
        failureClass: 'TRANSIENT',
        message: 'x',
        attemptNo: 1,
        exhausted: false,
        retryDelayMs: 5000,
      },
    });
    expect(stepDeadline(retry)).toEqual(at(15_000));
    expect(stepDeadline(step('job-1', 'OCR'))).toBeUndefined();
  });
});

describe('sweeperFor', () => {
  it('gives deadline repairs to the lease sweeper and the rest to the drift sweeper', () => {
    expect(sweeperFor('TIMER_RECHECKED')).toBe('lease');
    expect(sweeperFor('JOB_TIMED_OUT')).toBe('lease');
    expect(sweeperFor('ORCHESTRATION_RESTARTED')).toBe('drift');
    expect(sweeperFor('INDEX_CLEANED')).toBe('drift');
  });
});

describe('decideRepair (properties)', () => {
  const offset = fc.integer({ min: -2000, max: 2000 });
  const optionalOffset = fc.option(offset, { nil: undefined });
  const stepArb = fc.record({
    status: fc.constantFrom(...STEP_STATUSES),
    ackDeadline: optionalOffset,
    leaseExpiresAt: optionalOffset,
    resultDeadline: optionalOffset,
    updatedAt: offset,
    retryDelayMs: fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
  });
  const inputArb = fc.record({
    status: fc.constantFrom(...JOB_STATUSES),
    state: fc.constantFrom(...INSTANCE_STATES),
    restarts: fc.integer({ min: 0, max: 4 }),
    deadlineAt: optionalOffset,
    createdAt: offset,
    steps: fc.array(stepArb, { maxLength: 3 }),
    timerGrace: fc.integer({ min: 0, max: 120 }),
    recheck: fc.integer({ min: 1, max: 900 }),
  });

  type Generated = typeof inputArb extends fc.Arbitrary<infer T> ? T : never;

  function build(v: Generated): RepairInput {
    const theJob: Job = job('job-1', {
      status: v.status,
      orchestrationRestarts: v.restarts,
      createdAt: iso(v.createdAt),
      ...(v.deadlineAt === undefined ? {} : { deadlineAt: iso(v.deadlineAt) }),
    });
    const steps = v.steps.map((s, index) =>
      step('job-1', (['OCR', 'EMBEDDING', 'SIS'] as const)[index], {
        status: s.status,
        attemptNo: 1,
        updatedAt: iso(s.updatedAt),
        ...(s.ackDeadline === undefined ? {} : { ackDeadline: iso(s.ackDeadline) }),
        ...(s.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: iso(s.leaseExpiresAt) }),
        ...(s.resultDeadline === undefined ? {} : { resultDeadline: iso(s.resultDeadline) }),
        ...(s.retryDelayMs === undefined
          ? {}
          : {
              failure: {
                failureClass: 'TRANSIENT' as const,
                message: 'x',
                attemptNo: 1,
                exhausted: false,
                retryDelayMs: s.retryDelayMs,
              },
            }),
      }),
    );
    return {
      jobId: 'job-1',
      entryCreatedAt: iso(v.createdAt),
      job: theJob,
      steps,
      instance: { state: v.state as InstanceState },
      now: T0,
      timings: { ...TIMINGS, timerGraceSeconds: v.timerGrace, recheckSeconds: v.recheck },
    };
  }

  it('schedules the next check after now and within the recheck interval', () => {
    fc.assert(
      fc.property(inputArb, (v) => {
        const decision = decideRepair(build(v));
        if (decision.nextCheckAt === undefined) return;
        expect(decision.nextCheckAt.getTime()).toBeGreaterThan(T0.getTime());
        expect(decision.nextCheckAt.getTime()).toBeLessThanOrEqual(T0.getTime() + v.recheck * 1000);
      }),
    );
  });

  it('never replaces a live instance and never rechecks a gone one', () => {
    fc.assert(
      fc.property(inputArb, (v) => {
        const kind = decideRepair(build(v)).repair?.kind;
        if (isTerminalJobStatus(v.status)) {
          expect(kind).toBe('INDEX_CLEANED');
        } else if (isLiveInstance(v.state)) {
          expect([
            'ORCHESTRATION_STARTED',
            'ORCHESTRATION_RESTARTED',
            'ORCHESTRATION_LOST',
            'JOB_TIMED_OUT',
          ]).not.toContain(kind);
        } else {
          expect(['TIMER_RECHECKED', 'DISPATCH_RETRIED']).not.toContain(kind);
        }
      }),
    );
  });

  it('restarts only while restarts remain, and fails the job as lost only when they are spent', () => {
    fc.assert(
      fc.property(inputArb, (v) => {
        const kind = decideRepair(build(v)).repair?.kind;
        if (kind === 'ORCHESTRATION_RESTARTED')
          expect(v.restarts).toBeLessThan(TIMINGS.maxOrchestrationRestarts);
        if (kind === 'ORCHESTRATION_LOST')
          expect(v.restarts).toBeGreaterThanOrEqual(TIMINGS.maxOrchestrationRestarts);
      }),
    );
  });

  it('leaves a job alone while its instance runs and nothing it waits on is overdue', () => {
    fc.assert(
      fc.property(inputArb, (v) => {
        const built = build(v);
        const overdue = (t: Date | undefined, graceSeconds: number): boolean =>
          t !== undefined && t.getTime() + graceSeconds * 1000 <= T0.getTime();
        const anyOverdue =
          overdue(
            built.job?.deadlineAt === undefined ? undefined : new Date(built.job.deadlineAt),
            v.timerGrace,
          ) ||
          built.steps.some(
            (s) =>
              s.status !== 'PENDING' &&
              (overdue(stepDeadline(s), v.timerGrace) ||
                (s.status === 'DISPATCHING' && overdue(new Date(s.updatedAt), TIMINGS.dispatchGraceSeconds))),
          );
        fc.pre(!isTerminalJobStatus(v.status) && isLiveInstance(v.state) && !anyOverdue);
        expect(decideRepair(built).repair).toBeUndefined();
      }),
    );
  });
});
