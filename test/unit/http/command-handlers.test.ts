import fc from 'fast-check';
import { handleAdmitCommand } from '../../../src/http/command-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import { MemoryJobLedger } from '../../../src/ledger/memory-job-ledger';
import { bodyOf, callerFor, context, envelope, headerOf, post, testServices } from './fixtures';

const ROUTE = '/api/v1/commands';

async function admit(
  services: ReturnType<typeof testServices>,
  body: unknown,
  headers?: Record<string, string>,
) {
  return handleAdmitCommand(services, post(ROUTE, body, headers), context(), callerFor(services));
}

function expectProblem(response: Awaited<ReturnType<typeof admit>>, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = bodyOf(response);
  expect(problem).toMatchObject({ status, code, type: `urn:lucius:problem:${code}` });
  expect(typeof problem.detail).toBe('string');
  return problem;
}

describe('handleAdmitCommand', () => {
  it('answers 202 with the job, its steps and lanes, a Location header, and starts the orchestration', async () => {
    const services = testServices();
    const response = await admit(services, envelope());
    expect(response.status).toBe(202);
    const body = bodyOf(response);
    expect(body).toMatchObject({
      status: 'ACCEPTED',
      duplicate: false,
      tenantId: 't1',
      requestType: 'OCR->EMBEDDING',
    });
    const jobId = body.jobId as string;
    expect(
      (body.steps as Array<Record<string, unknown>>).map((s) => [s.stepId, s.type, s.status, s.lane]),
    ).toEqual([
      ['ocr', 'OCR', 'PENDING', body.lane],
      ['embedding', 'EMBEDDING', 'PENDING', body.lane],
    ]);
    expect(headerOf(response, 'location')).toBe(`http://localhost:7071/api/v1/jobs/${jobId}?tenant_id=t1`);
    expect(services.starter.started.get(jobId)).toEqual({
      jobId,
      tenantId: 't1',
      requestType: 'OCR->EMBEDDING',
    });
    expect((await services.ledger.getJob(jobId))?.steps).toHaveLength(2);
  });

  it('behaves the same on /v1/orchestrate', async () => {
    const services = testServices();
    const response = await handleAdmitCommand(
      services,
      post('/api/v1/orchestrate', envelope()),
      context(),
      callerFor(services),
    );
    expect(response.status).toBe(202);
  });

  it('answers 200 with the same job for the same command again, creating nothing new', async () => {
    const services = testServices();
    const first = bodyOf(await admit(services, envelope()));
    const again = await admit(services, envelope());
    expect(again.status).toBe(200);
    expect(bodyOf(again)).toMatchObject({ jobId: first.jobId, duplicate: true });
    expect((await services.ledger.listJobs({ tenantId: 't1', limit: 10 })).items).toHaveLength(1);
    expect(await services.ledger.inflightCount('t1')).toBe(1);
  });

  it('creates one job when identical commands arrive concurrently', async () => {
    const services = testServices();
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => admit(services, envelope({ idempotency_key: 'k-1' }))),
    );
    expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(11);
    expect(new Set(responses.map((r) => bodyOf(r).jobId)).size).toBe(1);
    expect(await services.ledger.inflightCount('t1')).toBe(1);
  });

  it('answers 409 when an idempotency key is reused for another command', async () => {
    const services = testServices();
    await admit(services, envelope(), { 'content-type': 'application/json', 'idempotency-key': 'order-7' });
    const response = await admit(services, envelope({ input_ref: 'blob://in/other.pdf' }), {
      'content-type': 'application/json',
      'idempotency-key': 'order-7',
    });
    expectProblem(response, 409, 'idempotency_conflict');
  });

  it('answers 400 when the Idempotency-Key header and the body key differ', async () => {
    const response = await admit(testServices(), envelope({ idempotency_key: 'a' }), {
      'content-type': 'application/json',
      'idempotency-key': 'b',
    });
    const problem = expectProblem(response, 400, 'idempotency_key_mismatch');
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/idempotency_key' })]);
  });

  it('answers 400 for malformed JSON', async () => {
    expectProblem(await admit(testServices(), '{"tenant_id": '), 400, 'malformed_json');
  });

  it('answers 400 with the JSON pointer of every schema violation', async () => {
    const { tenant_id: _t, ...withoutTenant } = envelope();
    const response = await admit(testServices(), { ...withoutTenant, priority: 42, extra: true });
    const problem = expectProblem(response, 400, 'validation_failed');
    const pointers = (problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/extra', '/priority', '/tenant_id']);
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const services = testServices({ LUCIUS_MAX_BODY_BYTES: '2048' });
    const big = envelope({ labels: { note: 'x'.repeat(200) }, input_ref: 'y'.repeat(2048) });
    expectProblem(await admit(services, big), 413, 'payload_too_large');
    const declared = await admit(services, envelope(), {
      'content-type': 'application/json',
      'content-length': '999999',
    });
    expectProblem(declared, 413, 'payload_too_large');
  });

  it('answers 415 for a missing or non-JSON content type', async () => {
    expectProblem(
      await admit(testServices(), envelope(), { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    expectProblem(await admit(testServices(), envelope(), {}), 415, 'unsupported_media_type');
  });

  it('accepts application/json with parameters and +json types', async () => {
    expect(
      (await admit(testServices(), envelope(), { 'content-type': 'application/json; charset=utf-8' })).status,
    ).toBe(202);
    expect(
      (await admit(testServices(), envelope(), { 'content-type': 'application/vnd.lucius.command+json' }))
        .status,
    ).toBe(202);
  });

  it('answers 422 for an unknown request type', async () => {
    const problem = expectProblem(
      await admit(testServices(), envelope({ request_type: 'FAX' })),
      422,
      'unknown_request_type',
    );
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/request_type' })]);
  });

  it('answers 422 for a missing or invalid step payload, pointing at it', async () => {
    const response = await admit(
      testServices(),
      envelope({ payload: { steps: { ocr: { output_format: 'BMP' } } } }),
    );
    const problem = expectProblem(response, 422, 'invalid_step_payload');
    expect((problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()).toEqual([
      '/payload/steps/embedding',
      '/payload/steps/ocr/output_format',
    ]);
  });

  it('answers 429 with Retry-After at the tenant limit and writes nothing', async () => {
    const services = testServices({
      LUCIUS_MAX_INFLIGHT_PER_TENANT: '2',
      LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: '7',
    });
    await admit(services, envelope({ idempotency_key: 'a' }));
    await admit(services, envelope({ idempotency_key: 'b' }));
    const response = await admit(services, envelope({ idempotency_key: 'c' }));
    expectProblem(response, 429, 'tenant_at_capacity');
    expect(headerOf(response, 'retry-after')).toBe('7');
    expect((await services.ledger.listJobs({ tenantId: 't1', limit: 10 })).items).toHaveLength(2);
    expect(await services.ledger.inflightCount('t1')).toBe(2);
    expect((await admit(services, envelope({ idempotency_key: 'a' }))).status).toBe(200);
    expect((await admit(services, envelope({ tenant_id: 't2' }))).status).toBe(202);
  });

  it('answers 503 when the orchestration cannot start, keeps the job, and starts it on resend', async () => {
    const services = testServices();
    services.starter.failing = true;
    const response = await admit(services, envelope());
    expectProblem(response, 503, 'orchestration_unavailable');
    expect(headerOf(response, 'retry-after')).toBeDefined();
    expect((await services.ledger.listJobs({ tenantId: 't1', limit: 10 })).items).toHaveLength(1);
    services.starter.failing = false;
    const resent = await admit(services, envelope());
    expect(resent.status).toBe(200);
    expect(services.starter.started.has(bodyOf(resent).jobId as string)).toBe(true);
  });

  it('answers 500 without leaking the cause when the ledger throws something unexpected', async () => {
    const ledger = new MemoryJobLedger();
    ledger.admit = async () => Promise.reject(new Error('socket hang up: secret-host'));
    const broken = testServices({}, { ledger });
    const problem = expectProblem(await admit(broken, envelope()), 500, 'internal_error');
    expect(JSON.stringify(problem)).not.toContain('secret-host');
  });

  it('answers random and mutated envelopes with a job or a problem document, never a throw or a 500', async () => {
    const services = testServices({ LUCIUS_MAX_INFLIGHT_PER_TENANT: '1000000' });
    const base = envelope();
    const mutated = fc
      .tuple(fc.constantFrom(...Object.keys(base), 'payload', 'extra'), fc.jsonValue())
      .map(([key, value]) => ({ ...base, [key]: value }));
    const withoutField = fc
      .constantFrom(...Object.keys(base))
      .map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)));
    const stepMutation = fc
      .tuple(fc.constantFrom('ocr', 'embedding', 'sis', 'x/y'), fc.jsonValue())
      .map(([step, value]) => ({
        ...base,
        payload: { steps: { ...(base.payload as { steps: object }).steps, [step]: value } },
      }));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), mutated, withoutField, stepMutation, fc.string()),
        async (candidate) => {
          const response = await admit(services, typeof candidate === 'string' ? candidate : candidate);
          const status = response.status ?? 0;
          expect([200, 202, 400, 409, 422]).toContain(status);
          if (status >= 400) {
            expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
            expect(bodyOf(response).status).toBe(status);
          } else {
            expect(typeof bodyOf(response).jobId).toBe('string');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
