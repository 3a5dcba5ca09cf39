import { handleAdmitCommand } from '../../../src/http/command-handlers';
import { handleGetJob, handleGetSteps, handleListJobs } from '../../../src/http/job-handlers';
import { handleHealth, handleReadiness } from '../../../src/http/health-handlers';
import { LedgerUnavailableError } from '../../../src/ledger/errors';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import {
  bodyOf,
  callerFor,
  context,
  envelope,
  get,
  headerOf,
  post,
  testServices,
  type TestServices,
} from './fixtures';

async function admitted(services: TestServices, overrides: Record<string, unknown> = {}): Promise<string> {
  const response = await handleAdmitCommand(
    services,
    post('/api/v1/commands', envelope(overrides)),
    context(),
    callerFor(services),
  );
  expect(response.status).toBe(202);
  return bodyOf(response).jobId as string;
}

const getJob = (s: TestServices, jobId: string, query: string) =>
  handleGetJob(s, get(`/api/v1/jobs/${jobId}${query}`, { jobId }), context(), callerFor(s));
const getSteps = (s: TestServices, jobId: string, query: string) =>
  handleGetSteps(s, get(`/api/v1/jobs/${jobId}/steps${query}`, { jobId }), context(), callerFor(s));
const list = (s: TestServices, query: string) =>
  handleListJobs(s, get(`/api/v1/jobs${query}`), context(), callerFor(s));

describe('handleGetJob', () => {
  it('returns the job with its steps collated in protocol order', async () => {
    const services = testServices();
    const jobId = await admitted(services, {
      request_type: 'OCR->EMBEDDING->SIS',
      payload: {
        steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'm' }, sis: { analysis: ['summary'] } },
      },
    });
    const response = await getJob(services, jobId, '?tenant_id=t1');
    expect(response.status).toBe(200);
    const body = bodyOf(response);
    expect(body).toMatchObject({ jobId, status: 'ACCEPTED', tenantId: 't1', inputRef: 'blob://in/doc.pdf' });
    expect(
      (body.steps as Array<Record<string, unknown>>).map((s) => [
        s.index,
        s.stepId,
        s.status,
        s.attemptNo,
        typeof s.lane,
      ]),
    ).toEqual([
      [0, 'ocr', 'PENDING', 0, 'number'],
      [1, 'embedding', 'PENDING', 0, 'number'],
      [2, 'sis', 'PENDING', 0, 'number'],
    ]);
    expect(body.links).toEqual({
      self: `http://localhost:7071/api/v1/jobs/${jobId}?tenant_id=t1`,
      steps: `http://localhost:7071/api/v1/jobs/${jobId}/steps?tenant_id=t1`,
    });
  });

  it('answers 404 for an unknown job and, identically, for another tenant’s job', async () => {
    const services = testServices();
    const jobId = await admitted(services);
    const unknown = await getJob(services, '00000000-0000-4000-8000-999999999999', '?tenant_id=t1');
    const foreign = await getJob(services, jobId, '?tenant_id=t2');
    for (const response of [unknown, foreign]) {
      expect(response.status).toBe(404);
      expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(bodyOf(response)).toMatchObject({ code: 'job_not_found' });
      expect(JSON.stringify(bodyOf(response))).not.toContain('t1');
    }
  });

  it('answers 404 for a job id that cannot exist', async () => {
    expect((await getJob(testServices(), 'bad\\id', '?tenant_id=t1')).status).toBe(404);
  });

  it('answers 400 naming tenant_id when it is missing or invalid', async () => {
    const services = testServices();
    const jobId = await admitted(services);
    for (const query of ['', '?tenant_id=', '?tenant_id=a/b']) {
      const response = await getJob(services, jobId, query);
      expect(response.status).toBe(400);
      expect(bodyOf(response)).toMatchObject({
        code: 'invalid_query',
        errors: [expect.objectContaining({ parameter: 'tenant_id' })],
      });
    }
  });
});

describe('handleGetSteps', () => {
  it('lists the steps, or one step by step_id', async () => {
    const services = testServices();
    const jobId = await admitted(services);
    const all = bodyOf(await getSteps(services, jobId, '?tenant_id=t1'));
    expect((all.steps as Array<{ stepId: string }>).map((s) => s.stepId)).toEqual(['ocr', 'embedding']);
    const one = bodyOf(await getSteps(services, jobId, '?tenant_id=t1&step_id=embedding'));
    expect(one.steps).toEqual([
      expect.objectContaining({
        stepId: 'embedding',
        type: 'EMBEDDING',
        payload: { model: 'text-embedding-3-large' },
      }),
    ]);
  });

  it('answers 404 for an unknown step and for another tenant', async () => {
    const services = testServices();
    const jobId = await admitted(services);
    expect(bodyOf(await getSteps(services, jobId, '?tenant_id=t1&step_id=sis'))).toMatchObject({
      status: 404,
      code: 'step_not_found',
    });
    expect((await getSteps(services, jobId, '?tenant_id=t9')).status).toBe(404);
  });
});

describe('handleListJobs', () => {
  it('pages through a tenant’s jobs newest first with continuation links', async () => {
    const services = testServices();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await admitted(services, { idempotency_key: `k${i}` }));
    await admitted(services, { tenant_id: 'other' });
    const seen: string[] = [];
    let query = '?tenant_id=t1&limit=2';
    for (let page = 0; page < 5; page += 1) {
      const body = bodyOf(await list(services, query));
      seen.push(...(body.items as Array<{ jobId: string }>).map((i) => i.jobId));
      const next = (body.links as { next?: string }).next;
      if (next === undefined) break;
      expect(next).toContain('limit=2');
      query = new URL(next).search;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and request type', async () => {
    const services = testServices();
    const ocrOnly = await admitted(services, {
      request_type: 'OCR',
      payload: { steps: { ocr: { output_format: 'TEXT' } } },
    });
    const both = await admitted(services);
    await services.ledger.applyJobEvent(both, { type: 'START' }, services.clock.now());
    const running = bodyOf(await list(services, '?tenant_id=t1&status=running'));
    expect((running.items as Array<{ jobId: string }>).map((i) => i.jobId)).toEqual([both]);
    const ocr = bodyOf(await list(services, `?tenant_id=t1&request_type=OCR`));
    expect((ocr.items as Array<{ jobId: string }>).map((i) => i.jobId)).toEqual([ocrOnly]);
  });

  it('answers 400 for a bad status, limit or continuation', async () => {
    const services = testServices();
    for (const [query, parameter] of [
      ['?tenant_id=t1&status=DONE', 'status'],
      ['?tenant_id=t1&limit=0', 'limit'],
      ['?tenant_id=t1&limit=abc', 'limit'],
    ]) {
      expect(bodyOf(await list(services, query as string))).toMatchObject({
        status: 400,
        errors: [expect.objectContaining({ parameter })],
      });
    }
    expect(bodyOf(await list(services, '?tenant_id=t1&continuation=not-a-token'))).toMatchObject({
      status: 400,
      code: 'invalid_query',
      errors: [expect.objectContaining({ parameter: 'continuation' })],
    });
  });

  it('binds a continuation to its tenant: another tenant’s listing refuses it with 400', async () => {
    const services = testServices();
    for (let i = 0; i < 3; i += 1) await admitted(services, { idempotency_key: `k${i}` });
    for (let i = 0; i < 3; i += 1) await admitted(services, { tenant_id: 't2', idempotency_key: `k${i}` });
    const first = bodyOf(await list(services, '?tenant_id=t1&limit=1'));
    const token = first.continuation as string;
    expect(typeof token).toBe('string');
    const foreign = await list(services, `?tenant_id=t2&limit=1&continuation=${encodeURIComponent(token)}`);
    expect(foreign.status).toBe(400);
    expect(bodyOf(foreign)).toMatchObject({
      code: 'invalid_query',
      errors: [expect.objectContaining({ parameter: 'continuation' })],
    });
    const own = bodyOf(
      await list(services, `?tenant_id=t1&limit=1&continuation=${encodeURIComponent(token)}`),
    );
    expect((own.items as Array<{ tenantId: string }>).map((i) => i.tenantId)).toEqual(['t1']);
  });

  it('never carries the function key or any other parameter of the request into links.next', async () => {
    const services = testServices();
    for (let i = 0; i < 3; i += 1) await admitted(services, { idempotency_key: `k${i}` });
    const body = bodyOf(
      await list(services, '?tenant_id=t1&limit=1&status=accepted&code=secret-function-key&access_token=abc'),
    );
    const next = new URL((body.links as { next: string }).next);
    expect([...next.searchParams.keys()].sort()).toEqual(['continuation', 'limit', 'status', 'tenant_id']);
    expect(next.toString()).not.toContain('secret-function-key');
  });
});

describe('health handlers', () => {
  it('answers /health 200 while the process is up', () => {
    expect(handleHealth()).toMatchObject({ status: 200, jsonBody: { status: 'ok' } });
  });

  it('answers /healthz 200 when the ledger answers and 503 with a problem when it does not', async () => {
    const services = testServices();
    const ok = await handleReadiness(services, get('/api/healthz'), context());
    expect(ok.status).toBe(200);
    const down = {
      ...services,
      readiness: {
        ...services.readiness,
        ledger: {
          ping: async () =>
            Promise.reject(new LedgerUnavailableError('table endpoint refused the connection')),
        },
      },
    };
    const response = await handleReadiness(down, get('/api/healthz'), context());
    expect(response.status).toBe(503);
    expect(bodyOf(response)).toMatchObject({ code: 'ledger_unavailable' });
    expect(headerOf(response, 'retry-after')).toBeDefined();
  });
});
