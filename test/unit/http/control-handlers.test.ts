import type { HttpResponseInit } from '@azure/functions';
import { handleCancelJob, handleRedriveJob } from '../../../src/http/control-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import {
  admitJob,
  bodyOf,
  callerFor,
  context,
  dispatchStep,
  failJob,
  headerOf,
  postTo,
  testServices,
  type TestServices,
} from './fixtures';

const UNKNOWN_JOB = '00000000-0000-4000-8000-999999999999';

function cancel(
  services: TestServices,
  jobId: string,
  query = '?tenant_id=t1',
  body?: unknown,
  headers?: Record<string, string>,
): Promise<HttpResponseInit> {
  return handleCancelJob(
    services,
    postTo(`/api/v1/jobs/${jobId}/cancel${query}`, { jobId }, body, headers),
    context(),
    callerFor(services),
  );
}

function redrive(services: TestServices, jobId: string, query = '?tenant_id=t1'): Promise<HttpResponseInit> {
  return handleRedriveJob(
    services,
    postTo(`/api/v1/jobs/${jobId}/redrive${query}`, { jobId }),
    context(),
    callerFor(services),
  );
}

function expectProblem(response: HttpResponseInit, status: number, code: string): Record<string, unknown> {
  expect(response.status).toBe(status);
  expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = bodyOf(response);
  expect(problem).toMatchObject({ status, code });
  return problem;
}

function statuses(view: Record<string, unknown>): Array<[string, string]> {
  return (view.steps as Array<{ stepId: string; status: string }>).map((s) => [s.stepId, s.status]);
}

async function succeedJob(services: TestServices, jobId: string): Promise<void> {
  const { ledger, clock } = services;
  await ledger.applyJobEvent(jobId, { type: 'START' }, clock.now());
  for (const stepId of ['ocr', 'embedding']) {
    const attempt = await dispatchStep(services, jobId, stepId);
    await ledger.applyStepEvent(
      jobId,
      stepId,
      {
        type: 'SUCCEED',
        attemptNo: attempt.attemptNo,
        leaseId: attempt.leaseId,
        outputRef: `blob://${stepId}`,
      },
      clock.now(),
    );
  }
  await ledger.applyJobEvent(jobId, { type: 'SUCCEED' }, clock.now());
}

describe('handleCancelJob', () => {
  it('answers 202 with the job and every unfinished step CANCELLED, and tells the orchestration', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
    await dispatchStep(services, jobId, 'ocr');
    const response = await cancel(services, jobId, '?tenant_id=t1', { reason: 'customer withdrew' });
    expect(response.status).toBe(202);
    const view = bodyOf(response);
    expect(view).toMatchObject({ jobId, status: 'CANCELLED', cancelReason: 'customer withdrew' });
    expect(statuses(view)).toEqual([
      ['ocr', 'CANCELLED'],
      ['embedding', 'CANCELLED'],
    ]);
    const stored = await services.ledger.getJob(jobId);
    expect(stored?.job.status).toBe('CANCELLED');
    expect(stored?.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(await services.ledger.inflightCount('t1')).toBe(0);
    expect(services.signals.raised).toEqual([
      { jobId, eventName: 'cancel', payload: { reason: 'customer withdrew' } },
    ]);
  });

  it('cancels without a body, raising a cancel with no reason', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    const response = await cancel(services, jobId, '?tenant_id=t1', undefined, {});
    expect(response.status).toBe(202);
    expect(bodyOf(response).cancelReason).toBeUndefined();
    expect(services.signals.raised).toEqual([{ jobId, eventName: 'cancel', payload: {} }]);
  });

  it('answers 200 with the job when it already was cancelled', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    expect((await cancel(services, jobId)).status).toBe(202);
    const again = await cancel(services, jobId);
    expect(again.status).toBe(200);
    expect(bodyOf(again)).toMatchObject({ jobId, status: 'CANCELLED' });
    expect(await services.ledger.inflightCount('t1')).toBe(0);
  });

  it('keeps a step that already finished as it ended', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
    const ocr = await dispatchStep(services, jobId, 'ocr');
    await services.ledger.applyStepEvent(
      jobId,
      'ocr',
      { type: 'SUCCEED', attemptNo: ocr.attemptNo, leaseId: ocr.leaseId, outputRef: 'blob://ocr' },
      services.clock.now(),
    );
    const view = bodyOf(await cancel(services, jobId));
    expect(statuses(view)).toEqual([
      ['ocr', 'SUCCEEDED'],
      ['embedding', 'CANCELLED'],
    ]);
  });

  it('answers 409 invalid_transition for a job that succeeded or failed, changing nothing', async () => {
    const services = testServices();
    const succeeded = await admitJob(services, { idempotency_key: 'ok' });
    await succeedJob(services, succeeded);
    const failed = await admitJob(services, { idempotency_key: 'ko' });
    await failJob(services, failed);
    for (const [jobId, status] of [
      [succeeded, 'SUCCEEDED'],
      [failed, 'FAILED'],
    ] as const) {
      expectProblem(await cancel(services, jobId), 409, 'invalid_transition');
      expect((await services.ledger.getJob(jobId))?.job.status).toBe(status);
    }
    expect(services.signals.raised).toEqual([]);
  });

  it('answers 404 for an unknown job and, identically, for another tenant’s job', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    expectProblem(await cancel(services, UNKNOWN_JOB), 404, 'job_not_found');
    expectProblem(await cancel(services, jobId, '?tenant_id=t2'), 404, 'job_not_found');
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('ACCEPTED');
  });

  it('answers 400 invalid_query naming tenant_id when it is missing', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    const problem = expectProblem(await cancel(services, jobId, ''), 400, 'invalid_query');
    expect(problem.errors).toEqual([expect.objectContaining({ parameter: 'tenant_id' })]);
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('ACCEPTED');
  });

  it('answers 400 validation_failed pointing at /reason when the reason is not a string', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    for (const body of [{ reason: 42 }, ['why']]) {
      const problem = expectProblem(
        await cancel(services, jobId, '?tenant_id=t1', body),
        400,
        'validation_failed',
      );
      expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/reason' })]);
    }
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('ACCEPTED');
  });

  it('answers 400 for a reason over 512 characters', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    const response = await cancel(services, jobId, '?tenant_id=t1', { reason: 'x'.repeat(513) });
    expectProblem(response, 400, 'validation_failed');
  });

  it('answers 503 when the orchestration cannot be told, the job staying cancelled; a resend tells it', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    services.signals.failing = true;
    const response = await cancel(services, jobId);
    expectProblem(response, 503, 'orchestration_unavailable');
    expect(headerOf(response, 'retry-after')).toBeDefined();
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('CANCELLED');
    services.signals.failing = false;
    expect((await cancel(services, jobId)).status).toBe(200);
    expect(services.signals.raised.map((r) => r.eventName)).toEqual(['cancel']);
  });
});

describe('handleRedriveJob', () => {
  it('answers 202 with a failed job RUNNING again, its failed step due for a retry, and starts run 1', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    expect(await services.ledger.inflightCount('t1')).toBe(0);

    const response = await redrive(services, jobId);
    expect(response.status).toBe(202);
    const view = bodyOf(response);
    expect(view).toMatchObject({ jobId, status: 'RUNNING', redrives: 1 });
    expect(view.failure).toBeUndefined();
    expect(view.finishedAt).toBeUndefined();
    expect(statuses(view)).toEqual([
      ['ocr', 'FAILED_RETRY'],
      ['embedding', 'PENDING'],
    ]);
    const stored = await services.ledger.getJob(jobId);
    expect(stored?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
    expect(stored?.steps[0]).toMatchObject({ status: 'FAILED_RETRY', attemptNo: 1, attemptBase: 1 });
    expect(await services.ledger.inflightCount('t1')).toBe(1);
    expect(services.starter.started.get(jobId)).toEqual({
      jobId,
      tenantId: 't1',
      requestType: 'OCR->EMBEDDING',
      drive: 1,
    });
  });

  it('reopens the steps of a job that failed as a whole (its deadline passed) and starts run 1', async () => {
    const services = testServices();
    const { ledger, clock } = services;
    const jobId = await admitJob(services);
    await ledger.applyJobEvent(jobId, { type: 'START' }, clock.now());
    await dispatchStep(services, jobId, 'ocr');
    // What the job deadline does: the job fails with TIMEOUT, its unfinished steps are cancelled.
    await ledger.applyJobEvent(
      jobId,
      {
        type: 'FAIL',
        failure: { stepId: 'ocr', failureClass: 'TIMEOUT', message: 'the job deadline passed' },
      },
      clock.now(),
    );
    for (const stepId of ['ocr', 'embedding'])
      await ledger.applyStepEvent(jobId, stepId, { type: 'CANCEL', reason: 'job deadline' }, clock.now());

    const response = await redrive(services, jobId);
    expect(response.status).toBe(202);
    expect(statuses(bodyOf(response))).toEqual([
      ['ocr', 'FAILED_RETRY'],
      ['embedding', 'FAILED_RETRY'],
    ]);
    const stored = await ledger.getJob(jobId);
    expect(stored?.steps[0]).toMatchObject({ attemptNo: 1, attemptBase: 1 });
    expect(stored?.steps[1]).toMatchObject({ attemptNo: 0, attemptBase: 0 });
    expect(services.starter.started.get(jobId)).toMatchObject({ jobId, drive: 1 });
  });

  it('answers 200 for a running job, (re)starting its current run without redriving again', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    services.starter.failing = true;
    expectProblem(await redrive(services, jobId), 503, 'orchestration_unavailable');
    expect((await services.ledger.getJob(jobId))?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });

    services.starter.failing = false;
    const resent = await redrive(services, jobId);
    expect(resent.status).toBe(200);
    expect(bodyOf(resent)).toMatchObject({ jobId, status: 'RUNNING' });
    expect((await services.ledger.getJob(jobId))?.job.redrives).toBe(1);
    expect(await services.ledger.inflightCount('t1')).toBe(1);
    expect(services.starter.started.get(jobId)?.drive).toBe(1);
  });

  it('redrives once when the same redrive arrives twice at once: 202 for one, 200 for the other', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    const responses = await Promise.all([redrive(services, jobId), redrive(services, jobId)]);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 202]);
    expect((await services.ledger.getJob(jobId))?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
    expect(await services.ledger.inflightCount('t1')).toBe(1);
  });

  it('answers 429 tenant_at_capacity with Retry-After when the tenant is at its in-flight limit', async () => {
    const services = testServices({
      LUCIUS_MAX_INFLIGHT_PER_TENANT: '1',
      LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: '11',
    });
    const failed = await admitJob(services, { idempotency_key: 'a' });
    await failJob(services, failed);
    await admitJob(services, { idempotency_key: 'b' });
    const response = await redrive(services, failed);
    expectProblem(response, 429, 'tenant_at_capacity');
    expect(headerOf(response, 'retry-after')).toBe('11');
    expect((await services.ledger.getJob(failed))?.job.status).toBe('FAILED');
    expect(await services.ledger.inflightCount('t1')).toBe(1);
    expect(services.starter.started.get(failed)?.drive).toBeUndefined();
  });

  it('answers 409 invalid_transition for a job that succeeded, was cancelled or has not started', async () => {
    const services = testServices();
    const succeeded = await admitJob(services, { idempotency_key: 'ok' });
    await succeedJob(services, succeeded);
    const cancelled = await admitJob(services, { idempotency_key: 'off' });
    expect((await cancel(services, cancelled)).status).toBe(202);
    const accepted = await admitJob(services, { idempotency_key: 'new' });
    for (const [jobId, status] of [
      [succeeded, 'SUCCEEDED'],
      [cancelled, 'CANCELLED'],
      [accepted, 'ACCEPTED'],
    ] as const) {
      expectProblem(await redrive(services, jobId), 409, 'invalid_transition');
      expect((await services.ledger.getJob(jobId))?.job).toMatchObject({ status, redrives: 0 });
    }
  });

  it('answers 404 for an unknown job and for another tenant’s job, and 400 without tenant_id', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    expectProblem(await redrive(services, UNKNOWN_JOB), 404, 'job_not_found');
    expectProblem(await redrive(services, jobId, '?tenant_id=t2'), 404, 'job_not_found');
    expectProblem(await redrive(services, jobId, ''), 400, 'invalid_query');
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('FAILED');
  });
});
