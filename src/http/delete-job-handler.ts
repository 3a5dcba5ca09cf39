/**
 * DELETE /v1/jobs/{jobId}?tenant_id=... (behind the security pipeline; a caller with exactly one
 * tenant may omit tenant_id): 204 when the finished job and its orchestration history
 * are gone; 404 unknown job (or another tenant's); 409 a job still running; 503 when the durable
 * backend or the ledger cannot be reached (nothing is lost: resend).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { deleteTenantJob } from '../usecases/delete-job';
import type { Caller } from './caller';
import { requestedTenant } from './query';
import { errorResponse } from './respond';

export async function handleDeleteJob(
  services: Pick<Services, 'deleteJob' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  try {
    const jobId = request.params.jobId ?? '';
    const tenantId = await caller.tenant(requestedTenant(request), 'read', jobId);
    await deleteTenantJob(services.deleteJob(context), tenantId, jobId);
    context.info(JSON.stringify({ event: 'job.deleted', job_id: jobId }));
    return { status: 204 };
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}
