/**
 * Worker callbacks over HTTP: POST /v1/jobs/{jobId}/steps/{stepId}/ack | result | heartbeat, behind
 * the security pipeline (secure-route.ts). The same path as replies over Service Bus (ingestReply).
 *
 * Who may call back (README "Worker callbacks"):
 * - with header `Lucius-Callback-Token` (the directive's `callback_token`; the pipeline then skips
 *   bearer authentication): the token must verify (its MAC, under the current or previous key) and be
 *   bound to the URL's job and step and to the body's attempt_no and lease_id, else 403
 *   `callback_token_invalid` and nothing is written. The ledger then decides: the token of the
 *   attempt in flight is accepted; one whose attempt ended or was superseded answers 409 stale_lease
 *   and nothing is written;
 * - with a bearer token holding Lucius.Worker (checked by the pipeline): the job's tenant must be one
 *   the principal may act for, else 404 as for an unknown job.
 *
 * Answers: 202 applied, or a duplicate / reply to a finished step (no-op; `outcome` says which);
 * 403 callback_token_invalid; 404 unknown job or step; 409 stale lease (the attempt is not the current
 * one: stop working); 422 a body that breaks its contract or names another job/step than the URL;
 * 400 malformed JSON.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { decodeReply } from '../contracts/reply-decoder';
import type { WorkerReplyKind } from '../domain/worker-reply';
import { verifyCallbackToken } from '../guards/callback-token';
import type { Services } from '../services';
import { ingestReply, type CallbackAuthority } from '../usecases/ingest-reply';
import type { Caller, SecuredHandler } from './caller';
import { CallbackTokenInvalidError } from './errors';
import { toStepView } from './job-view';
import { readJsonBody } from './read-json-body';
import { errorResponse, jsonResponse } from './respond';
import { fromHeaders } from '../telemetry/trace-context';
import { telemetryOf } from '../usecases/lifecycle-telemetry';

/** The largest reply body accepted over HTTP. */
const MAX_REPLY_BYTES = 256 * 1024;

export type ReplyCallbackServices = Pick<Services, 'ingestReply' | 'http' | 'callbackKeys'> &
  Partial<Pick<Services, 'telemetry'>>;

/** The handler of one reply kind's route, for the pipeline. */
export function replyCallbackHandler(kind: WorkerReplyKind): SecuredHandler<ReplyCallbackServices> {
  return (services, request, context, caller) =>
    handleReplyCallback(kind, services, request, context, caller);
}

/** Runs in a server span continuing the worker's `traceparent` header (the directive's trace). */
export function handleReplyCallback(
  kind: WorkerReplyKind,
  services: ReplyCallbackServices,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  const carried = fromHeaders(request.headers);
  return telemetryOf(services).span(
    `POST /v1/jobs/{jobId}/steps/{stepId}/${kind}`,
    {
      kind: 'server',
      ...(carried === undefined ? {} : { parent: carried }),
      attributes: {
        'http.request.method': 'POST',
        job_id: request.params.jobId,
        step_id: request.params.stepId,
      },
    },
    () => ingestCallback(kind, services, request, context, caller),
  );
}

async function ingestCallback(
  kind: WorkerReplyKind,
  services: ReplyCallbackServices,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  const jobId = request.params.jobId ?? '';
  const stepId = request.params.stepId ?? '';
  try {
    // A token is checked before the body is read: a caller without a valid one learns nothing more.
    const verified =
      caller.callbackToken === undefined
        ? undefined
        : verifyCallbackToken(services.callbackKeys, caller.callbackToken, { jobId, stepId });
    if (verified !== undefined && !verified.ok) throw refuse(context, verified.reason, jobId, stepId);
    const body = await readJsonBody(request, MAX_REPLY_BYTES);
    const reply = decodeReply(body, { kind, jobId, stepId });
    let authority: CallbackAuthority;
    if (verified !== undefined) {
      if (reply.attemptNo !== verified.attemptNo || reply.leaseId !== verified.leaseId)
        throw refuse(context, 'wrong_attempt', jobId, stepId);
      authority = { kind: 'callback-token', bound: verified };
    } else {
      authority = { kind: 'principal', mayUse: (tenantId) => caller.mayUse(tenantId) };
    }
    const outcome = await ingestReply(services.ingestReply(context), reply, authority);
    if (outcome.kind === 'stale') throw outcome.error;
    return jsonResponse(202, { outcome: outcome.kind, step: toStepView(outcome.step) });
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}

/** Logs why a token was refused (never the token) and answers the same 403 whatever the reason. */
function refuse(
  context: InvocationContext,
  reason: string,
  jobId: string,
  stepId: string,
): CallbackTokenInvalidError {
  context.warn(JSON.stringify({ event: 'callback_token.refused', reason, job_id: jobId, step_id: stepId }));
  return new CallbackTokenInvalidError(reason);
}
