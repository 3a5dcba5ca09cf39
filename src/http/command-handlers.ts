/**
 * POST /v1/commands and POST /v1/orchestrate: admit a command, behind the security pipeline
 * (secure-route.ts). The command's `tenant_id` must be one the caller may act for (403
 * `tenant_forbidden`); a caller with exactly one tenant may omit it and it is filled in before
 * validation (several tenants and none named: 400 `tenant_required`).
 * 202 + Location for a new job; 200 with the same job for a resent command within the idempotency
 * window; problem documents otherwise (400, 403, 409, 413, 415, 422, 429 + Retry-After, 503).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { admitCommand, type AdmitCommandResult } from '../usecases/admit-command';
import { jobLinks } from './job-view';
import { readJsonBody } from './read-json-body';
import { errorResponse, jsonResponse } from './respond';
import { fromHeaders } from '../telemetry/trace-context';
import { telemetryOf } from '../usecases/lifecycle-telemetry';
import type { TraceCarrier } from '../ports/telemetry';
import type { Caller } from './caller';

function optionalParent(parent: TraceCarrier | undefined): { parent?: TraceCarrier } {
  return parent === undefined ? {} : { parent };
}

export function handleAdmitCommand(
  services: Pick<Services, 'admitCommand' | 'http'> & Partial<Pick<Services, 'telemetry'>>,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  // The admission's span starts the job's trace (or continues the caller's `traceparent`); the
  // orchestration input carries it on to the activities and the directives.
  return telemetryOf(services).span(
    `POST /${context.functionName === 'orchestrate' ? 'v1/orchestrate' : 'v1/commands'}`,
    {
      kind: 'server',
      ...optionalParent(fromHeaders(request.headers)),
      attributes: { 'http.request.method': 'POST', 'url.path': new URL(request.url).pathname },
    },
    () => admit(services, request, context, caller),
  );
}

async function admit(
  services: Pick<Services, 'admitCommand' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  try {
    const body = await withTenant(await readJsonBody(request, services.http.maxBodyBytes), caller);
    const header = request.headers.get('idempotency-key');
    const result = await admitCommand(services.admitCommand(context), {
      body,
      ...(header === null ? {} : { idempotencyKeyHeader: header }),
    });
    context.log(
      JSON.stringify({
        event: result.created ? 'job.admitted' : 'job.duplicate',
        job_id: result.job.jobId,
        tenant_id: result.job.tenantId,
        request_type: result.job.requestType,
      }),
    );
    if (result.created) {
      context.log(
        JSON.stringify({
          event: 'routing.resolved',
          job_id: result.job.jobId,
          lane: result.job.lane,
          routing_key_used: result.job.routingKeyUsed,
        }),
      );
    }
    const view = toAdmissionView(new URL(request.url).origin, result);
    return jsonResponse(result.created ? 202 : 200, view, { Location: view.links.self });
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}

/**
 * The command with the tenant it acts for: `tenant_id` authorized for the caller, or filled in when
 * omitted by a caller with exactly one tenant. A body that is not an object, or a `tenant_id` that is
 * not a string, is left for validation to describe. The anonymous principal of LUCIUS_AUTH_MODE=none
 * may use every tenant, so nothing is filled in for it and validation asks for tenant_id as always.
 */
async function withTenant(body: unknown, caller: Caller): Promise<unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const command = body as Record<string, unknown>;
  const requested = command.tenant_id;
  if (requested === undefined) {
    if (caller.principal?.tenants === 'all') return body;
    return { ...command, tenant_id: await caller.tenant(undefined, 'command') };
  }
  if (typeof requested === 'string') await caller.tenant(requested, 'command');
  return body;
}

export function toAdmissionView(origin: string, result: AdmitCommandResult) {
  const { job, steps } = result;
  return {
    jobId: job.jobId,
    status: job.status,
    duplicate: !result.created,
    tenantId: job.tenantId,
    requestType: job.requestType,
    lane: job.lane,
    routingKeyUsed: job.routingKeyUsed,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
    steps: steps.map((s) => ({
      stepId: s.stepId,
      index: s.index,
      type: s.type,
      status: s.status,
      lane: s.lane,
    })),
    links: jobLinks(origin, job),
  };
}
