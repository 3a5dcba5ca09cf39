/**
 * Worker callbacks over HTTP behind the pipeline, over the memory ledger and the real state machines:
 * with a bearer principal holding Lucius.Worker (the pipeline checked the role; the handler checks
 * the job's tenant) or with the directive's callback token (checked here, then against the ledger's
 * current attempt). A refused token writes nothing: the ledger and the tenant's in-flight count are
 * compared before and after.
 */
import { randomUUID } from 'node:crypto';
import type { HttpResponseInit } from '@azure/functions';
import type { Principal } from '../../../src/auth/principal';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import type { Caller } from '../../../src/http/caller';
import { CALLBACK_TOKEN_HEADER } from '../../../src/http/caller';
import { handleReplyCallback } from '../../../src/http/reply-handlers';
import type { WorkerReplyKind } from '../../../src/domain/worker-reply';
import type { Step } from '../../../src/domain/step';
import {
  callbackKey,
  callbackKeyRing,
  issueCallbackToken,
  type CallbackKeyRing,
} from '../../../src/guards/callback-token';
import {
  cancelInLedger,
  publishDirective,
  recordAttempt,
  resolveTimeout,
  startJob,
} from '../../../src/usecases/job-activities';
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

const notUsed = (): Promise<string> => Promise.reject(new Error('worker callbacks never resolve a tenant'));

/** What the pipeline hands the handler for a bearer token holding Lucius.Worker. */
function workerCaller(tenants: readonly string[] = ['t1']): Caller {
  const principal: Principal = { subject: 'worker-app', roles: ['Lucius.Worker'], tenants };
  return { principal, tenant: notUsed, mayUse: (tenantId) => Promise.resolve(tenants.includes(tenantId)) };
}

/** What the pipeline hands the handler for a request with the Lucius-Callback-Token header. */
function tokenCaller(token: string): Caller {
  return { callbackToken: token, tenant: notUsed, mayUse: () => Promise.resolve(false) };
}

function callback(
  services: TestServices,
  kind: WorkerReplyKind,
  route: { jobId: string; stepId: string },
  body: unknown,
  headers?: Record<string, string>,
  caller: Caller = workerCaller(),
): Promise<HttpResponseInit> {
  const path = `/api/v1/jobs/${route.jobId}/steps/${route.stepId}/${kind}`;
  return handleReplyCallback(
    kind,
    services,
    postTo(path, { jobId: route.jobId, stepId: route.stepId }, body, headers),
    context(),
    caller,
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
  it('applies an ACK: 202 with the step IN_PROGRESS under a lease, raising no event (the ledger is told)', async () => {
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
    // Only a RESULT wakes the orchestration; its ACK timer resolves through the ledger.
    expect(services.signals.raised).toEqual([]);
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
    expect(services.signals.raised).toEqual([
      {
        jobId: attempt.jobId,
        eventName: `reply:ocr:1:${attempt.leaseId}`,
        payload: {
          kind: 'result',
          attempt: expect.objectContaining({ stepId: 'ocr', status: 'SUCCEEDED', attemptNo: 1 }),
        },
      },
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

  it('answers a repeated reply 202 duplicate and counts it on the step (a repeated RESULT raises its event again)', async () => {
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
    expect(services.signals.raised).toEqual([]);
    await reply(services, 'result', attempt);
    expect((await reply(services, 'result', attempt)).status).toBe(202);
    expect((await stepOf(services, attempt)).duplicateReplies).toBe(2);
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
    await cancelInLedger(services.ledger, attempt.jobId, 'no longer needed', services.clock.now());
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
    const response = await reply(services, 'result', attempt);
    expectProblem(response, 503, 'orchestration_unavailable');
    expect(headerOf(response, 'retry-after')).toBe('9');
    expect((await stepOf(services, attempt)).status).toBe('SUCCEEDED');

    services.signals.failing = false;
    const resent = await reply(services, 'result', attempt);
    expect(resent.status).toBe(202);
    expect(bodyOf(resent).outcome).toBe('duplicate');
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([`reply:ocr:1:${attempt.leaseId}`]);
  });
});

/** A job admitted and started, attempt 1 of `ocr` recorded and published by the real activities. */
async function published(services: TestServices): Promise<{ attempt: AttemptKey; token: string }> {
  const jobId = await admitJob(services, { idempotency_key: randomUUID() });
  const deps = services.jobActivities;
  await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING' });
  const attempt: AttemptKey = { jobId, stepId: 'ocr', attemptNo: 1, leaseId: randomUUID() };
  const ackDeadline = new Date(services.clock.now().getTime() + 30_000).toISOString();
  await recordAttempt(deps, { ...attempt, inputRef: 'blob://in/doc.pdf', ackDeadline });
  await publishDirective(deps, attempt, () => undefined);
  const directive = services.publisher
    .published()
    .map((p) => p.directive)
    .find((d) => d.job_id === jobId && d.lease_id === attempt.leaseId);
  if (directive?.callback_token === undefined) throw new Error('the directive carries no callback token');
  return { attempt, token: directive.callback_token };
}

function withToken(
  services: TestServices,
  kind: WorkerReplyKind,
  attempt: AttemptKey,
  token: string,
  overrides: Record<string, unknown> = {},
  route: { jobId: string; stepId: string } = attempt,
): Promise<HttpResponseInit> {
  const headers = { 'content-type': 'application/json', [CALLBACK_TOKEN_HEADER.toLowerCase()]: token };
  return callback(services, kind, route, replyBody(kind, attempt, overrides), headers, tokenCaller(token));
}

/** Everything a callback could change: the job, its steps (with their counters), the tenant's in-flight count, the events raised. */
async function snapshot(services: TestServices, jobId: string): Promise<unknown> {
  return structuredClone({
    job: await services.ledger.getJob(jobId),
    inflight: await services.ledger.inflightCount('t1'),
    raised: services.signals.raised.length,
  });
}

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('handleReplyCallback with a callback token', () => {
  it('applies the ACK and the RESULT of the attempt the published directive’s token is bound to', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    const acked = await withToken(services, 'ack', attempt, token);
    expect(acked.status).toBe(202);
    expect(bodyOf(acked)).toMatchObject({ outcome: 'applied', step: { status: 'IN_PROGRESS' } });
    const heartbeat = await withToken(services, 'heartbeat', attempt, token);
    expect(bodyOf(heartbeat).outcome).toBe('applied');
    const result = await withToken(services, 'result', attempt, token, { output_ref: 'blob://out/ocr.txt' });
    expect(result.status).toBe(202);
    expect(bodyOf(result)).toMatchObject({
      outcome: 'applied',
      step: { status: 'SUCCEEDED', outputRef: 'blob://out/ocr.txt' },
    });
    // The RESULT wakes the orchestration; the ACK and the heartbeat are recorded in the ledger only.
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([`reply:ocr:1:${attempt.leaseId}`]);
  });

  it('applies a heartbeat before the ACK as the ACK it implies, as without a token', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    const response = await withToken(services, 'heartbeat', attempt, token);
    expect(response.status).toBe(202);
    expect(bodyOf(response)).toMatchObject({ outcome: 'applied', step: { status: 'IN_PROGRESS' } });
  });

  it('answers a resent ACK of the current attempt 202 duplicate, as without a token', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    await withToken(services, 'ack', attempt, token);
    const again = await withToken(services, 'ack', attempt, token);
    expect(again.status).toBe(202);
    expect(bodyOf(again).outcome).toBe('duplicate');
  });

  const endings: ReadonlyArray<{
    readonly ended: string;
    readonly end: (services: TestServices, attempt: AttemptKey, token: string) => Promise<void>;
    readonly status: string;
  }> = [
    {
      ended: 'succeeded',
      status: 'SUCCEEDED',
      end: async (services, attempt, token) => {
        expect((await withToken(services, 'result', attempt, token)).status).toBe(202);
      },
    },
    {
      ended: 'failed',
      status: 'FAILED_FINAL',
      end: async (services, attempt, token) => {
        const failed = await withToken(services, 'result', attempt, token, {
          status: 'FAILED',
          output_ref: undefined,
          failure: { failure_class: 'PERMANENT', message: 'unreadable scan' },
        });
        expect(failed.status).toBe(202);
      },
    },
    {
      ended: 'timed out',
      status: 'FAILED_RETRY',
      end: async (services, attempt) => {
        const step = await stepOf(services, attempt);
        await resolveTimeout(services.jobActivities, {
          ...attempt,
          timeout: 'ack',
          deadline: step.ackDeadline ?? '',
        });
      },
    },
    {
      ended: 'cancelled',
      status: 'CANCELLED',
      end: async (services, attempt) => {
        await cancelInLedger(services.ledger, attempt.jobId, 'no longer needed', services.clock.now());
      },
    },
  ];

  for (const { ended, end, status } of endings) {
    it(`answers 409 stale_lease to a token replayed after its attempt ${ended}, writing nothing`, async () => {
      const services = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
      const { attempt, token } = await published(services);
      await end(services, attempt, token);
      expect((await stepOf(services, attempt)).status).toBe(status);
      const before = await snapshot(services, attempt.jobId);
      for (const kind of ['ack', 'heartbeat', 'result'] as const) {
        const problem = expectProblem(await withToken(services, kind, attempt, token), 409, 'stale_lease');
        // The stale answer names the current attempt's number, never its lease.
        expect(JSON.stringify(problem.expected)).not.toContain('leaseId');
      }
      expect(await snapshot(services, attempt.jobId)).toEqual(before);
    });
  }

  it('answers 409 stale_lease to the token of an attempt superseded by the next one, writing nothing', async () => {
    const services = testServices({ LUCIUS_MAX_ATTEMPTS: '3' });
    const { attempt, token } = await published(services);
    const step = await stepOf(services, attempt);
    await resolveTimeout(services.jobActivities, {
      ...attempt,
      timeout: 'ack',
      deadline: step.ackDeadline ?? '',
    });
    const next = await dispatchStep(services, attempt.jobId, 'ocr');
    const before = await snapshot(services, attempt.jobId);
    expectProblem(await withToken(services, 'ack', attempt, token), 409, 'stale_lease');
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
    expect(await stepOf(services, next)).toMatchObject({ status: 'AWAITING_ACK', attemptNo: 2 });
  });

  it('answers 403 callback_token_invalid to a token of another step of the same job, writing nothing', async () => {
    const services = testServices();
    const { attempt } = await published(services);
    const forEmbedding = issueCallbackToken(services.callbackKeys.current, {
      ...attempt,
      stepId: 'embedding',
    });
    const before = await snapshot(services, attempt.jobId);
    const problem = expectProblem(
      await withToken(services, 'ack', attempt, forEmbedding),
      403,
      'callback_token_invalid',
    );
    expect(JSON.stringify(problem)).not.toContain(forEmbedding);
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });

  it('answers 403 to a genuine token presented on another job’s route', async () => {
    const services = testServices();
    const first = await published(services);
    const second = await published(services);
    const before = await snapshot(services, second.attempt.jobId);
    const response = await withToken(services, 'ack', second.attempt, first.token);
    expectProblem(response, 403, 'callback_token_invalid');
    expect(await snapshot(services, second.attempt.jobId)).toEqual(before);
  });

  it('answers 403 when the body’s attempt or lease is not the token’s, before the ledger is asked', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    const before = await snapshot(services, attempt.jobId);
    expectProblem(
      await withToken(services, 'ack', { ...attempt, attemptNo: 2 }, token),
      403,
      'callback_token_invalid',
    );
    expectProblem(
      await withToken(services, 'ack', { ...attempt, leaseId: randomUUID() }, token),
      403,
      'callback_token_invalid',
    );
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });

  it('answers 403 to a tampered token (payload, MAC, key id) and to no token at all', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    const [version, kid, payload, mac] = token.split('.') as [string, string, string, string];
    const otherLease = Buffer.from(
      JSON.stringify({ j: attempt.jobId, s: 'ocr', a: 1, l: randomUUID() }),
    ).toString('base64url');
    const tampered = [
      [version, kid, otherLease, mac].join('.'),
      [version, kid, replaceAt(payload, 3, payload[3] === 'A' ? 'B' : 'A'), mac].join('.'),
      [version, kid, payload, replaceAt(mac, 0, mac[0] === 'A' ? 'B' : 'A')].join('.'),
      [version, 'another-key', payload, mac].join('.'),
      'lcb1.not-a-token',
      '',
    ];
    const before = await snapshot(services, attempt.jobId);
    for (const presented of tampered) {
      expectProblem(await withToken(services, 'ack', attempt, presented), 403, 'callback_token_invalid');
    }
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });

  it('answers 403 before reading the body, so a bad token learns nothing of the body’s checks', async () => {
    const services = testServices();
    const { attempt } = await published(services);
    const response = await callback(
      services,
      'ack',
      attempt,
      '{"kind": "ack",',
      { 'content-type': 'application/json' },
      tokenCaller('lcb1.k.e30.' + 'A'.repeat(43)),
    );
    expectProblem(response, 403, 'callback_token_invalid');
  });

  it('accepts a token signed with the previous key during a rotation, and refuses one of a retired key', async () => {
    const services = testServices();
    const { attempt, token } = await published(services);
    const newKey = callbackKey('rotated', Buffer.alloc(32, 3));
    const rotated: CallbackKeyRing = callbackKeyRing(newKey, services.callbackKeys.current);
    const afterRotation: TestServices = { ...services, callbackKeys: rotated };
    const acked = await withToken(afterRotation, 'ack', attempt, token);
    expect(acked.status).toBe(202);
    expect(bodyOf(acked).outcome).toBe('applied');

    const retired: TestServices = { ...services, callbackKeys: callbackKeyRing(newKey) };
    const before = await snapshot(services, attempt.jobId);
    expectProblem(await withToken(retired, 'heartbeat', attempt, token), 403, 'callback_token_invalid');
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });
});

describe('handleReplyCallback with a Lucius.Worker principal', () => {
  it('answers 404 job_not_found for a job of a tenant the principal may not act for, writing nothing', async () => {
    const services = testServices();
    const { attempt } = await published(services);
    const before = await snapshot(services, attempt.jobId);
    const response = await callback(
      services,
      'ack',
      attempt,
      replyBody('ack', attempt),
      undefined,
      workerCaller(['t2']),
    );
    const problem = expectProblem(response, 404, 'job_not_found');
    const unknown = expectProblem(
      await reply(services, 'ack', { ...attempt, jobId: randomUUID() }),
      404,
      'job_not_found',
    );
    expect(Object.keys(problem).sort()).toEqual(Object.keys(unknown).sort());
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });

  it('applies the reply for a job of a tenant the principal may act for', async () => {
    const services = testServices();
    const { attempt } = await published(services);
    const response = await callback(
      services,
      'ack',
      attempt,
      replyBody('ack', attempt),
      undefined,
      workerCaller(['t2', 't1']),
    );
    expect(response.status).toBe(202);
  });
});
