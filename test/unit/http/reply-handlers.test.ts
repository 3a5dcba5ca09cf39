import type { HttpResponseInit } from '@azure/functions';
import { handleCancelJob } from '../../../src/http/control-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import { handleReplyCallback } from '../../../src/http/reply-handlers';
import type { WorkerReplyKind } from '../../../src/domain/worker-reply';
import type { Step } from '../../../src/domain/step';
import {
  admitJob,
  bodyOf,
  context,
  dispatchStep,
  headerOf,
  postTo,
  replyBody,
  testServices,
  type AttemptKey,
  type TestServices,
} from './fixtures';

function callback(
  services: TestServices,
  kind: WorkerReplyKind,
  route: { jobId: string; stepId: string },
  body: unknown,
  headers?: Record<string, string>,
): Promise<HttpResponseInit> {
  const path = `/api/v1/jobs/${route.jobId}/steps/${route.stepId}/${kind}`;
  return handleReplyCallback(
    kind,
    services,
    postTo(path, { jobId: route.jobId, stepId: route.stepId }, body, headers),
    context(),
  );
}

/** Sends the reply for `attempt` to the route of its own job and step. */
function reply(
  services: TestServices,
  kind: WorkerReplyKind,
  attempt: AttemptKey,
  overrides: Record<string, unknown> = {},
): Promise<HttpResponseInit> {
  return callback(services, kind, attempt, replyBody(kind, attempt, overrides));
}

function expectProblem(response: HttpResponseInit, status: number, code: string): Record<string, unknown> {
  expect(response.status).toBe(status);
  expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = bodyOf(response);
  expect(problem).toMatchObject({ status, code });
  return problem;
}

async function stepOf(services: TestServices, attempt: AttemptKey): Promise<Step> {
  const step = (await services.ledger.getJob(attempt.jobId))?.steps.find((s) => s.stepId === attempt.stepId);
  if (step === undefined) throw new Error('step not found');
  return step;
}

/** A job admitted and its first step published: the worker may now ACK attempt 1. */
async function awaitingAck(
  services: TestServices,
  overrides: Record<string, unknown> = {},
): Promise<AttemptKey> {
  const jobId = await admitJob(services, overrides);
  await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
  return dispatchStep(services, jobId, 'ocr');
}

describe('handleReplyCallback', () => {
  it('applies an ACK: 202 with the step IN_PROGRESS under a lease, and raises the attempt’s event', async () => {
    const services = testServices({ LUCIUS_LEASE_MINUTES: '5' });
    const attempt = await awaitingAck(services);
    const response = await reply(services, 'ack', attempt);
    expect(response.status).toBe(202);
    const body = bodyOf(response);
    expect(body.outcome).toBe('applied');
    expect(body.step).toMatchObject({
      stepId: 'ocr',
      status: 'IN_PROGRESS',
      attemptNo: 1,
      leaseId: attempt.leaseId,
    });
    const step = await stepOf(services, attempt);
    expect(step.status).toBe('IN_PROGRESS');
    expect(Date.parse(step.leaseExpiresAt ?? '') - Date.parse(step.updatedAt)).toBe(5 * 60_000);
    expect(services.signals.raised).toEqual([
      {
        jobId: attempt.jobId,
        eventName: `reply:ocr:1:${attempt.leaseId}`,
        payload: {
          kind: 'ack',
          attempt: expect.objectContaining({ stepId: 'ocr', status: 'IN_PROGRESS', attemptNo: 1 }),
        },
      },
    ]);
  });

  it('extends the lease on a heartbeat and records the RESULT with its output', async () => {
    const services = testServices({ LUCIUS_LEASE_MINUTES: '5' });
    const attempt = await awaitingAck(services);
    await reply(services, 'ack', attempt);
    const leased = (await stepOf(services, attempt)).leaseExpiresAt ?? '';

    const heartbeat = await reply(services, 'heartbeat', attempt, { extend_minutes: 30, progress: 40 });
    expect(heartbeat.status).toBe(202);
    expect(bodyOf(heartbeat).outcome).toBe('applied');
    const extended = (await stepOf(services, attempt)).leaseExpiresAt ?? '';
    expect(Date.parse(extended)).toBeGreaterThan(Date.parse(leased));

    const result = await reply(services, 'result', attempt, {
      output_ref: 'blob://out/ocr.txt',
      result: { pages: 3 },
    });
    expect(result.status).toBe(202);
    expect(bodyOf(result)).toMatchObject({
      outcome: 'applied',
      step: { status: 'SUCCEEDED', outputRef: 'blob://out/ocr.txt', result: { pages: 3 } },
    });
    expect(services.signals.raised.map((r) => (r.payload as { kind: string }).kind)).toEqual([
      'ack',
      'heartbeat',
      'result',
    ]);
  });

  it('records a failed RESULT as the attempt’s failure, to be retried when its class allows', async () => {
    const services = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
    const attempt = await awaitingAck(services);
    await reply(services, 'ack', attempt);
    const response = await reply(services, 'result', attempt, {
      status: 'FAILED',
      output_ref: undefined,
      failure: { failure_class: 'TRANSIENT', message: 'OCR engine busy' },
    });
    expect(response.status).toBe(202);
    expect(bodyOf(response).step).toMatchObject({
      status: 'FAILED_RETRY',
      failure: { failureClass: 'TRANSIENT', message: 'OCR engine busy', attemptNo: 1, exhausted: false },
    });
  });

  it('answers a repeated reply 202 duplicate, counts it on the step and raises its event again', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    await reply(services, 'ack', attempt);
    const before = await stepOf(services, attempt);
    const again = await reply(services, 'ack', attempt);
    expect(again.status).toBe(202);
    expect(bodyOf(again)).toMatchObject({ outcome: 'duplicate', step: { status: 'IN_PROGRESS' } });
    const after = await stepOf(services, attempt);
    expect(after.duplicateReplies).toBe(1);
    expect(after.leaseExpiresAt).toBe(before.leaseExpiresAt);
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([
      `reply:ocr:1:${attempt.leaseId}`,
      `reply:ocr:1:${attempt.leaseId}`,
    ]);
  });

  it('answers a reply to a step that has ended 202 finished, changing nothing and raising nothing', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    await reply(services, 'ack', attempt);
    await reply(services, 'result', attempt);
    const raised = services.signals.raised.length;
    const late = await reply(services, 'heartbeat', attempt);
    expect(late.status).toBe(202);
    expect(bodyOf(late)).toMatchObject({ outcome: 'finished', step: { status: 'SUCCEEDED' } });
    expect((await stepOf(services, attempt)).status).toBe('SUCCEEDED');
    expect(services.signals.raised).toHaveLength(raised);
  });

  it('answers a reply to a cancelled step 202 finished', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const cancelled = await handleCancelJob(
      services,
      postTo(`/api/v1/jobs/${attempt.jobId}/cancel?tenant_id=t1`, { jobId: attempt.jobId }),
      context(),
    );
    expect(cancelled.status).toBe(202);
    const response = await reply(services, 'ack', attempt);
    expect(response.status).toBe(202);
    expect(bodyOf(response)).toMatchObject({ outcome: 'finished', step: { status: 'CANCELLED' } });
  });

  it('answers 404 job_not_found for an unknown job and step_not_found for an unknown step', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const ghost = { ...attempt, jobId: '00000000-0000-4000-8000-999999999999' };
    expectProblem(await reply(services, 'ack', ghost), 404, 'job_not_found');
    expectProblem(await reply(services, 'ack', { ...attempt, stepId: 'sis' }), 404, 'step_not_found');
    expect(services.signals.raised).toEqual([]);
  });

  it('answers 409 stale_lease for a wrong lease or attempt, counts it on the step and raises nothing', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const wrongLease = await reply(services, 'ack', {
      ...attempt,
      leaseId: '11111111-2222-4333-8444-555555555555',
    });
    expectProblem(wrongLease, 409, 'stale_lease');
    expectProblem(await reply(services, 'ack', { ...attempt, attemptNo: 2 }), 409, 'stale_lease');
    const step = await stepOf(services, attempt);
    expect(step).toMatchObject({ status: 'AWAITING_ACK', staleReplies: 2 });
    expect(services.signals.raised).toEqual([]);
  });

  it('answers 409 stale_lease for a reply to an earlier attempt once the next one is dispatched', async () => {
    const services = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
    const first = await awaitingAck(services);
    await services.ledger.applyStepEvent(
      first.jobId,
      'ocr',
      {
        type: 'FAIL',
        attemptNo: 1,
        leaseId: first.leaseId,
        failureClass: 'ACK_TIMEOUT',
        message: 'no ACK',
        maxAttempts: 3,
      },
      services.clock.now(),
    );
    const second = await dispatchStep(services, first.jobId, 'ocr');
    expectProblem(await reply(services, 'result', first), 409, 'stale_lease');
    expect(await stepOf(services, second)).toMatchObject({
      status: 'AWAITING_ACK',
      attemptNo: 2,
      staleReplies: 1,
    });
  });

  it('answers 422 invalid_reply with the JSON pointer of every violation of its schema', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const response = await reply(services, 'ack', attempt, { attempt_no: 0, lease_minutes: 90, extra: 1 });
    const problem = expectProblem(response, 422, 'invalid_reply');
    const pointers = (problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/attempt_no', '/extra', '/lease_minutes']);
    expect((await stepOf(services, attempt)).status).toBe('AWAITING_ACK');
  });

  it('answers 422 for a body of another kind than the route', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const response = await callback(services, 'ack', attempt, replyBody('heartbeat', attempt));
    expectProblem(response, 422, 'invalid_reply');
    expect((await stepOf(services, attempt)).status).toBe('AWAITING_ACK');
  });

  it('answers 422 naming job_id and step_id when the body names another job or step than the URL', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const other = await awaitingAck(services, { idempotency_key: 'other' });
    const response = await callback(
      services,
      'ack',
      attempt,
      replyBody('ack', { ...other, stepId: 'embedding' }),
    );
    const problem = expectProblem(response, 422, 'invalid_reply');
    expect((problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()).toEqual([
      '/job_id',
      '/step_id',
    ]);
    expect((await stepOf(services, other)).status).toBe('AWAITING_ACK');
    expect(services.signals.raised).toEqual([]);
  });

  it('answers 400 malformed_json for a body that is not JSON', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    expectProblem(await callback(services, 'ack', attempt, '{"kind": "ack",'), 400, 'malformed_json');
  });

  it('answers 415 for a body that is not declared JSON', async () => {
    const services = testServices();
    const attempt = await awaitingAck(services);
    const response = await callback(services, 'ack', attempt, replyBody('ack', attempt), {
      'content-type': 'text/plain',
    });
    expectProblem(response, 415, 'unsupported_media_type');
    expect((await stepOf(services, attempt)).status).toBe('AWAITING_ACK');
  });

  it('answers 503 with Retry-After when the orchestration cannot be told, keeping the change; a resend delivers it', async () => {
    const services = testServices({ LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: '9' });
    const attempt = await awaitingAck(services);
    services.signals.failing = true;
    const response = await reply(services, 'ack', attempt);
    expectProblem(response, 503, 'orchestration_unavailable');
    expect(headerOf(response, 'retry-after')).toBe('9');
    expect((await stepOf(services, attempt)).status).toBe('IN_PROGRESS');

    services.signals.failing = false;
    const resent = await reply(services, 'ack', attempt);
    expect(resent.status).toBe(202);
    expect(bodyOf(resent).outcome).toBe('duplicate');
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([`reply:ocr:1:${attempt.leaseId}`]);
  });
});
