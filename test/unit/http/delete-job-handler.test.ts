import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { handleDeleteJob } from '../../../src/http/delete-job-handler';
import { handleGetJob } from '../../../src/http/job-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import {
  admitJob,
  bodyOf,
  callerFor,
  context,
  failJob,
  get,
  headerOf,
  ORIGIN,
  testServices,
  type TestServices,
} from './fixtures';

function del(services: TestServices, jobId: string, query = '?tenant_id=t1'): Promise<HttpResponseInit> {
  const url = new URL(`${ORIGIN}/api/v1/jobs/${jobId}${query}`);
  const request = new HttpRequest({
    method: 'DELETE',
    url: url.toString(),
    params: { jobId },
    query: Object.fromEntries(url.searchParams),
  });
  return handleDeleteJob(services, request, context(), callerFor(services));
}

function expectProblem(response: HttpResponseInit, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(bodyOf(response)).toMatchObject({ status, code });
}

describe('handleDeleteJob', () => {
  it('answers 204 for a finished job and removes it with its orchestration history', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    await services.control.start({ jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING' });

    const response = await del(services, jobId);
    expect(response.status).toBe(204);
    expect(await services.ledger.getJob(jobId)).toBeUndefined();
    expect(await services.control.inspect(jobId)).toEqual({ state: 'Missing' });
    expectProblem(await del(services, jobId), 404, 'job_not_found');
  });

  it('answers 409 for a job that has not finished, and keeps it', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    expectProblem(await del(services, jobId), 409, 'invalid_transition');
    expect((await services.ledger.getJob(jobId))?.job.status).toBe('ACCEPTED');
  });

  it("answers 404 for an unknown job and for another tenant's, and 400 without tenant_id", async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    await failJob(services, jobId);
    expectProblem(await del(services, '00000000-0000-4000-8000-999999999999'), 404, 'job_not_found');
    expectProblem(await del(services, jobId, '?tenant_id=t2'), 404, 'job_not_found');
    expectProblem(await del(services, jobId, ''), 400, 'invalid_query');
    expect(await services.ledger.getJob(jobId)).toBeDefined();
  });
});

describe('the job view', () => {
  it('shows the repairs, the deadline and the orchestration restarts', async () => {
    const services = testServices();
    const jobId = await admitJob(services);
    const repair = {
      at: '2026-05-01T12:00:05.000Z',
      kind: 'ORCHESTRATION_RESTARTED',
      reason: 'x',
      by: 'test',
    } as const;
    await services.ledger.recordRepair(jobId, repair, { countsRestart: true });
    const view = bodyOf(
      await handleGetJob(
        services,
        get(`/api/v1/jobs/${jobId}?tenant_id=t1`, { jobId }),
        context(),
        callerFor(services),
      ),
    );
    expect(view).toMatchObject({ orchestrationRestarts: 1, repairs: [repair] });
    expect(typeof view.deadlineAt).toBe('string');
  });
});
