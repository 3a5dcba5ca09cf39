/**
 * The read API: GET /v1/jobs/{jobId}, GET /v1/jobs/{jobId}/steps, GET /v1/jobs.
 * `tenant_id` is required on every read; another tenant's job answers 404 like an unknown one.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { getTenantJob, getTenantSteps, listTenantJobs } from '../usecases/read-jobs';
import { jobLinks, toJobSummaryView, toJobView, toStepView, ROUTE_PREFIX } from './job-view';
import { optionalStatus, optionalText, pageSize, requiredTenant } from './query';
import { errorResponse, jsonResponse } from './respond';

type JobReadServices = Pick<Services, 'readJobs' | 'http'>;

type Handler = (
  services: JobReadServices,
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

function guarded(
  body: (services: JobReadServices, request: HttpRequest) => Promise<HttpResponseInit>,
): Handler {
  return async (services, request, context) => {
    try {
      return await body(services, request);
    } catch (error) {
      return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
    }
  };
}

export const handleGetJob: Handler = guarded(async (services, request) => {
  const tenantId = requiredTenant(request);
  const { job, steps } = await getTenantJob(services.readJobs, tenantId, request.params.jobId ?? '');
  return jsonResponse(200, toJobView(new URL(request.url).origin, job, steps));
});

export const handleGetSteps: Handler = guarded(async (services, request) => {
  const tenantId = requiredTenant(request);
  const jobId = request.params.jobId ?? '';
  const steps = await getTenantSteps(
    services.readJobs,
    tenantId,
    jobId,
    optionalText(request, 'step_id', 64),
  );
  const links = jobLinks(new URL(request.url).origin, { jobId, tenantId });
  return jsonResponse(200, {
    jobId,
    steps: steps.map(toStepView),
    links: { job: links.self, self: links.steps },
  });
});

export const handleListJobs: Handler = guarded(async (services, request) => {
  const tenantId = requiredTenant(request);
  const status = optionalStatus(request);
  const requestType = optionalText(request, 'request_type', 128);
  const continuation = optionalText(request, 'continuation', 2048);
  const page = await listTenantJobs(services.readJobs, {
    tenantId,
    limit: pageSize(request),
    ...(status === undefined ? {} : { status }),
    ...(requestType === undefined ? {} : { requestType }),
    ...(continuation === undefined ? {} : { continuation }),
  });
  const url = new URL(request.url);
  const next = page.continuation === undefined ? undefined : new URL(`${ROUTE_PREFIX}/v1/jobs`, url.origin);
  if (next !== undefined) {
    url.searchParams.forEach((value, key) => key !== 'continuation' && next.searchParams.set(key, value));
    next.searchParams.set('continuation', page.continuation as string);
  }
  return jsonResponse(200, {
    items: page.items.map((item) => toJobSummaryView(url.origin, item)),
    ...(page.continuation === undefined ? {} : { continuation: page.continuation }),
    links: { ...(next === undefined ? {} : { next: next.toString() }) },
  });
});
