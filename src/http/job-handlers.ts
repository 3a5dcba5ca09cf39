/**
 * The read API: GET /v1/jobs/{jobId}, GET /v1/jobs/{jobId}/steps, GET /v1/jobs, behind the security
 * pipeline (secure-route.ts). The tenant is the caller's (`tenant_id`, which a caller with exactly one
 * tenant may omit): another tenant's job answers 404 like an unknown one; listing another tenant's
 * jobs answers 403 `tenant_forbidden`. Continuation tokens are bound to their tenant
 * (tenant-continuation.ts), and `links.next` carries only the listing's own parameters, never a
 * function key (`code`) or another credential.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { getTenantJob, getTenantSteps, listTenantJobs } from '../usecases/read-jobs';
import type { Caller } from './caller';
import { jobLinks, toJobSummaryView, toJobView, toStepView, ROUTE_PREFIX } from './job-view';
import { optionalStatus, optionalText, pageSize, requestedTenant } from './query';
import { errorResponse, jsonResponse } from './respond';
import { bindContinuation, unbindContinuation } from './tenant-continuation';

type JobReadServices = Pick<Services, 'readJobs' | 'http'>;

type Handler = (
  services: JobReadServices,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit>;

/** The query parameters `links.next` repeats (an allow-list: nothing else of the request is echoed). */
const LISTING_PARAMETERS = ['status', 'request_type', 'limit'] as const;

function guarded(
  body: (services: JobReadServices, request: HttpRequest, caller: Caller) => Promise<HttpResponseInit>,
): Handler {
  return async (services, request, context, caller) => {
    try {
      return await body(services, request, caller);
    } catch (error) {
      return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
    }
  };
}

export const handleGetJob: Handler = guarded(async (services, request, caller) => {
  const jobId = request.params.jobId ?? '';
  const tenantId = await caller.tenant(requestedTenant(request), 'read', jobId);
  const { job, steps } = await getTenantJob(services.readJobs, tenantId, jobId);
  return jsonResponse(200, toJobView(new URL(request.url).origin, job, steps));
});

export const handleGetSteps: Handler = guarded(async (services, request, caller) => {
  const jobId = request.params.jobId ?? '';
  const tenantId = await caller.tenant(requestedTenant(request), 'read', jobId);
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

export const handleListJobs: Handler = guarded(async (services, request, caller) => {
  const tenantId = await caller.tenant(requestedTenant(request), 'list');
  const status = optionalStatus(request);
  const requestType = optionalText(request, 'request_type', 128);
  const token = optionalText(request, 'continuation', 2048);
  const continuation = token === undefined ? undefined : unbindContinuation(tenantId, token);
  const page = await listTenantJobs(services.readJobs, {
    tenantId,
    limit: pageSize(request),
    ...(status === undefined ? {} : { status }),
    ...(requestType === undefined ? {} : { requestType }),
    ...(continuation === undefined ? {} : { continuation }),
  });
  const url = new URL(request.url);
  const nextToken =
    page.continuation === undefined ? undefined : bindContinuation(tenantId, page.continuation);
  let next: URL | undefined;
  if (nextToken !== undefined) {
    next = new URL(`${ROUTE_PREFIX}/v1/jobs`, url.origin);
    next.searchParams.set('tenant_id', tenantId);
    for (const name of LISTING_PARAMETERS) {
      const value = url.searchParams.get(name);
      if (value !== null && value !== '') next.searchParams.set(name, value);
    }
    next.searchParams.set('continuation', nextToken);
  }
  return jsonResponse(200, {
    items: page.items.map((item) => toJobSummaryView(url.origin, item)),
    ...(nextToken === undefined ? {} : { continuation: nextToken }),
    links: { ...(next === undefined ? {} : { next: next.toString() }) },
  });
});
