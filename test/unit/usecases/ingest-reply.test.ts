import { StaleLeaseError } from '../../../src/domain/errors';
import type { Step } from '../../../src/domain/step';
import { JobNotFoundError, StepNotFoundError } from '../../../src/ledger/errors';
import type { WorkerReply } from '../../../src/domain/worker-reply';
import { ingestReply, type IngestReplyDeps } from '../../../src/usecases/ingest-reply';
import {
  admitJob,
  context,
  dispatchStep,
  testServices,
  type AttemptKey,
  type TestServices,
} from '../http/fixtures';

const SENT = '2026-05-01T12:00:00.000Z';

function depsOf(services: TestServices): IngestReplyDeps {
  return services.ingestReply(context());
}

const ack = (a: AttemptKey, leaseMinutes?: number): WorkerReply => ({
  kind: 'ack',
  ...a,
  ackedAt: SENT,
  ...(leaseMinutes === undefined ? {} : { leaseMinutes }),
});
const heartbeat = (a: AttemptKey, extendMinutes?: number): WorkerReply => ({
  kind: 'heartbeat',
  ...a,
  sentAt: SENT,
  ...(extendMinutes === undefined ? {} : { extendMinutes }),
});
const succeeded = (a: AttemptKey): WorkerReply => ({
  kind: 'result',
  ...a,
  completedAt: SENT,
  status: 'SUCCEEDED',
  outputRef: 'blob://out/ocr.txt',
});
const failed = (a: AttemptKey, failureClass: 'TRANSIENT' | 'PERMANENT'): WorkerReply => ({
  kind: 'result',
  ...a,
  completedAt: SENT,
  status: 'FAILED',
  failure: { failureClass, message: 'engine said no' },
});

async function stepOf(services: TestServices, a: AttemptKey): Promise<Step> {
  const found = (await services.ledger.getJob(a.jobId))?.steps.find((s) => s.stepId === a.stepId);
  if (found === undefined) throw new Error('step not found');
  return found;
}

async function started(services: TestServices, options: { published?: boolean } = {}): Promise<AttemptKey> {
  const jobId = await admitJob(services);
  await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
  return dispatchStep(services, jobId, 'ocr', options);
}

/** Attempt 1 timed out waiting for its ACK: FAILED_RETRY, the next attempt not dispatched yet. */
async function timedOut(services: TestServices): Promise<AttemptKey> {
  const attempt = await started(services);
  await services.ledger.applyStepEvent(
    attempt.jobId,
    'ocr',
    {
      type: 'FAIL',
      attemptNo: attempt.attemptNo,
      leaseId: attempt.leaseId,
      failureClass: 'ACK_TIMEOUT',
      message: 'no ACK by the ACK deadline',
      maxAttempts: 3,
    },
    services.clock.now(),
  );
  return attempt;
}

const minutesBetween = (from: string, to: string | undefined) =>
  (Date.parse(to ?? '') - Date.parse(from)) / 60_000;

describe('ingestReply', () => {
  it('applies an ACK with the lease the worker asked for and the configured result deadline', async () => {
    const services = testServices({ LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: '600' });
    const attempt = await started(services);
    const outcome = await ingestReply(depsOf(services), ack(attempt, 20));
    expect(outcome.kind).toBe('applied');
    const step = await stepOf(services, attempt);
    expect(step.status).toBe('IN_PROGRESS');
    expect(minutesBetween(step.updatedAt, step.leaseExpiresAt)).toBe(20);
    expect(minutesBetween(step.updatedAt, step.resultDeadline)).toBe(10);
  });

  it('applies a heartbeat that arrives before the ACK as the ACK it implies', async () => {
    const services = testServices({ LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: '600' });
    const attempt = await started(services);
    const outcome = await ingestReply(depsOf(services), heartbeat(attempt, 25));
    expect(outcome.kind).toBe('applied');
    const step = await stepOf(services, attempt);
    expect(step).toMatchObject({ status: 'IN_PROGRESS', attemptNo: 1, leaseId: attempt.leaseId });
    expect(minutesBetween(step.updatedAt, step.leaseExpiresAt)).toBe(25);
    expect(minutesBetween(step.updatedAt, step.resultDeadline)).toBe(10);
    // Recorded in the ledger only: an ACK (or the heartbeat standing for it) wakes no orchestration.
    expect(services.signals.raised).toEqual([]);
  });

  it('raises the reply event for a RESULT only: applied, and again for its duplicate', async () => {
    const services = testServices();
    const attempt = await started(services);
    expect((await ingestReply(depsOf(services), ack(attempt))).kind).toBe('applied');
    expect((await ingestReply(depsOf(services), heartbeat(attempt, 10))).kind).toBe('applied');
    expect((await ingestReply(depsOf(services), ack(attempt))).kind).toBe('duplicate');
    expect(services.signals.raised).toEqual([]);
    expect((await ingestReply(depsOf(services), succeeded(attempt))).kind).toBe('applied');
    expect((await ingestReply(depsOf(services), succeeded(attempt))).kind).toBe('duplicate');
    const event = {
      jobId: attempt.jobId,
      eventName: `reply:ocr:1:${attempt.leaseId}`,
      payload: { kind: 'result', attempt: expect.objectContaining({ status: 'SUCCEEDED' }) },
    };
    expect(services.signals.raised).toEqual([event, event]);
  });

  it('applies a heartbeat as the ACK even before the directive is recorded as published', async () => {
    const services = testServices();
    const attempt = await started(services, { published: false });
    expect((await ingestReply(depsOf(services), heartbeat(attempt))).kind).toBe('applied');
    expect((await stepOf(services, attempt)).status).toBe('IN_PROGRESS');
  });

  it('applies the ACK that arrives after a heartbeat stood in for it as a duplicate', async () => {
    const services = testServices();
    const attempt = await started(services);
    await ingestReply(depsOf(services), heartbeat(attempt, 30));
    const leased = (await stepOf(services, attempt)).leaseExpiresAt;
    const outcome = await ingestReply(depsOf(services), ack(attempt, 5));
    expect(outcome.kind).toBe('duplicate');
    expect(await stepOf(services, attempt)).toMatchObject({ leaseExpiresAt: leased, duplicateReplies: 1 });
  });

  it('applies a RESULT that arrives before the ACK, which it implies', async () => {
    const services = testServices();
    const attempt = await started(services);
    const outcome = await ingestReply(depsOf(services), succeeded(attempt));
    expect(outcome.kind).toBe('applied');
    const step = await stepOf(services, attempt);
    expect(step).toMatchObject({ status: 'SUCCEEDED', outputRef: 'blob://out/ocr.txt' });
    expect(step.resultDeadline).toBeDefined();
    expect((await ingestReply(depsOf(services), ack(attempt))).kind).toBe('duplicate');
    expect((await stepOf(services, attempt)).status).toBe('SUCCEEDED');
  });

  it('applies a failed RESULT before the ACK: retried for a transient class, final for a permanent one', async () => {
    const services = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
    const transient = await started(services);
    await ingestReply(depsOf(services), failed(transient, 'TRANSIENT'));
    expect((await stepOf(services, transient)).status).toBe('FAILED_RETRY');

    const other = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
    const permanent = await started(other);
    await ingestReply(depsOf(other), failed(permanent, 'PERMANENT'));
    expect(await stepOf(other, permanent)).toMatchObject({
      status: 'FAILED_FINAL',
      failure: { failureClass: 'PERMANENT', attemptNo: 1 },
    });
  });

  it('never shortens a lease: a heartbeat asking for less than is left keeps the longer lease', async () => {
    const services = testServices();
    const attempt = await started(services);
    await ingestReply(depsOf(services), ack(attempt, 60));
    const leased = (await stepOf(services, attempt)).leaseExpiresAt;
    expect((await ingestReply(depsOf(services), heartbeat(attempt, 1))).kind).toBe('applied');
    expect((await stepOf(services, attempt)).leaseExpiresAt).toBe(leased);
  });

  it('treats every reply for an attempt that timed out and awaits its retry as stale', async () => {
    const services = testServices();
    const attempt = await timedOut(services);
    for (const reply of [ack(attempt), heartbeat(attempt), succeeded(attempt)]) {
      const outcome = await ingestReply(depsOf(services), reply);
      expect(outcome.kind).toBe('stale');
      expect(outcome.kind === 'stale' && outcome.error).toBeInstanceOf(StaleLeaseError);
    }
    expect(await stepOf(services, attempt)).toMatchObject({
      status: 'FAILED_RETRY',
      staleReplies: 3,
      duplicateReplies: 0,
    });
    expect(services.signals.raised).toEqual([]);
  });

  it('takes a failed RESULT for an attempt that already failed by a timeout as a duplicate', async () => {
    const services = testServices();
    const attempt = await timedOut(services);
    const outcome = await ingestReply(depsOf(services), failed(attempt, 'TRANSIENT'));
    expect(outcome.kind).toBe('duplicate');
    expect(await stepOf(services, attempt)).toMatchObject({
      status: 'FAILED_RETRY',
      staleReplies: 0,
      duplicateReplies: 1,
      failure: { failureClass: 'ACK_TIMEOUT' },
    });
  });

  it('treats a reply for an earlier attempt as stale once the next one is dispatched', async () => {
    const services = testServices();
    const first = await timedOut(services);
    const second = await dispatchStep(services, first.jobId, 'ocr');
    const outcome = await ingestReply(depsOf(services), ack(first));
    expect(outcome.kind).toBe('stale');
    expect(await stepOf(services, second)).toMatchObject({
      status: 'AWAITING_ACK',
      attemptNo: 2,
      leaseId: second.leaseId,
      staleReplies: 1,
    });
  });

  it('answers a reply to a finished step as finished, counting it without raising an event', async () => {
    const services = testServices();
    const attempt = await started(services);
    await ingestReply(depsOf(services), succeeded(attempt));
    const raised = services.signals.raised.length;
    const outcome = await ingestReply(depsOf(services), heartbeat(attempt));
    expect(outcome.kind).toBe('finished');
    expect(await stepOf(services, attempt)).toMatchObject({ status: 'SUCCEEDED', duplicateReplies: 1 });
    expect(services.signals.raised).toHaveLength(raised);
  });

  it('throws JobNotFoundError for an unknown job and StepNotFoundError for an unknown step', async () => {
    const services = testServices();
    const attempt = await started(services);
    await expect(
      ingestReply(depsOf(services), ack({ ...attempt, jobId: '00000000-0000-4000-8000-999999999999' })),
    ).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(ingestReply(depsOf(services), ack({ ...attempt, stepId: 'sis' }))).rejects.toBeInstanceOf(
      StepNotFoundError,
    );
  });

  it('applies a heartbeat that races its own ACK, for the current lease', async () => {
    const services = testServices();
    const attempt = await started(services);
    const [fromHeartbeat, fromAck] = await Promise.all([
      ingestReply(depsOf(services), heartbeat(attempt, 45)),
      ingestReply(depsOf(services), ack(attempt, 5)),
    ]);
    expect(fromAck.kind).toBe('applied');
    expect(fromHeartbeat.kind).not.toBe('stale');
    const step = await stepOf(services, attempt);
    expect(step.staleReplies).toBe(0);
    expect(minutesBetween(step.updatedAt, step.leaseExpiresAt)).toBeGreaterThan(40);
  });
});
