/**
 * POST /v1/jobs/{jobId}/cancel and POST /v1/jobs/{jobId}/redrive, behind the security pipeline
 * (secure-route.ts). The `tenant_id` query parameter names the job's tenant, as on reads (a caller
 * with exactly one tenant may omit it); another tenant's job answers 404 like an unknown one.
 * Cancel takes an optional JSON body `{ "reason": "..." }`.
 * 202 with the job when the call changed it, 200 when it already was so; 404 unknown job; 409 a job
 * in a state that does not allow it; 429 redrive at the tenant's in-flight limit; 503 when the
 * orchestration could not be reached (the ledger change stands; resend).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { SchemaValidationError } from '../contracts/errors';
import type { Services } from '../services';
import { cancelTenantJob, redriveTenantJob, type ControlResult } from '../usecases/control-job';
import { toJobView } from './job-view';
import { readJsonBody } from './read-json-body';
import type { Caller } from './caller';
import { requestedTenant } from './query';
import { errorResponse, jsonResponse } from './respond';

const MAX_REASON_LENGTH = 512;

export async function handleCancelJob(
  services: Pick<Services, 'controlJob' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  try {
    const jobId = request.params.jobId ?? '';
    const tenantId = await caller.tenant(requestedTenant(request), 'read', jobId);
    const reason = await readReason(request);
    const result = await cancelTenantJob(services.controlJob(context), tenantId, jobId, reason);
    context.info(
      JSON.stringify({ event: 'job.cancelled', job_id: result.job.jobId, changed: result.changed }),
    );
    return answer(request, result);
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}

export async function handleRedriveJob(
  services: Pick<Services, 'controlJob' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  try {
    const jobId = request.params.jobId ?? '';
    const tenantId = await caller.tenant(requestedTenant(request), 'read', jobId);
    const result = await redriveTenantJob(services.controlJob(context), tenantId, jobId);
    context.info(
      JSON.stringify({ event: 'job.redriven', job_id: result.job.jobId, drive: result.job.redrives }),
    );
    return answer(request, result);
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}

function answer(request: HttpRequest, result: ControlResult): HttpResponseInit {
  return jsonResponse(
    result.changed ? 202 : 200,
    toJobView(new URL(request.url).origin, result.job, result.steps),
  );
}

/** The optional body `{ "reason": string }`; an empty body is no reason. */
async function readReason(request: HttpRequest): Promise<string | undefined> {
  if ((request.headers.get('content-length') ?? '') === '0' || request.body === null) return undefined;
  const body = await readJsonBody(request, 16 * 1024);
  if (body === undefined || body === null) return undefined;
  const reason = (body as { reason?: unknown }).reason;
  if (typeof body !== 'object' || Array.isArray(body) || (reason !== undefined && typeof reason !== 'string'))
    throw new SchemaValidationError('cancel request', [
      { pointer: '/reason', message: 'must be a string', keyword: 'type' },
    ]);
  if (typeof reason === 'string' && reason.length > MAX_REASON_LENGTH)
    throw new SchemaValidationError('cancel request', [
      {
        pointer: '/reason',
        message: `must be at most ${MAX_REASON_LENGTH} characters`,
        keyword: 'maxLength',
      },
    ]);
  return reason;
}
