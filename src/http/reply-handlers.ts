/**
 * Worker callbacks over HTTP: POST /v1/jobs/{jobId}/steps/{stepId}/ack | result | heartbeat.
 * The same path as replies over Service Bus (ingestReply). Answers:
 * 202 applied, or a duplicate / reply to a finished step (no-op; `outcome` says which);
 * 404 unknown job or step; 409 stale lease (the attempt is not the current one: stop working);
 * 422 a body that breaks its contract or names another job/step than the URL; 400 malformed JSON.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { decodeReply } from '../contracts/reply-decoder';
import type { WorkerReplyKind } from '../domain/worker-reply';
import type { Services } from '../services';
import { ingestReply } from '../usecases/ingest-reply';
import { toStepView } from './job-view';
import { readJsonBody } from './read-json-body';
import { errorResponse, jsonResponse } from './respond';
import { fromHeaders } from '../telemetry/trace-context';
import { telemetryOf } from '../usecases/lifecycle-telemetry';

/** The largest reply body accepted over HTTP. */
const MAX_REPLY_BYTES = 256 * 1024;

/** Runs in a server span continuing the worker's `traceparent` header (the directive's trace). */
export function handleReplyCallback(
  kind: WorkerReplyKind,
  services: Pick<Services, 'ingestReply' | 'http'> & Partial<Pick<Services, 'telemetry'>>,
  request: HttpRequest,
  context: InvocationContext,
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
    () => ingestCallback(kind, services, request, context),
  );
}

async function ingestCallback(
  kind: WorkerReplyKind,
  services: Pick<Services, 'ingestReply' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const body = await readJsonBody(request, MAX_REPLY_BYTES);
    const jobId = request.params.jobId ?? '';
    const stepId = request.params.stepId ?? '';
    const reply = decodeReply(body, { kind, jobId, stepId });
    const outcome = await ingestReply(services.ingestReply(context), reply);
    if (outcome.kind === 'stale') throw outcome.error;
    return jsonResponse(202, { outcome: outcome.kind, step: toStepView(outcome.step) });
  } catch (error) {
    return errorResponse(error, request, context, services.http.backpressureRetryAfterSeconds);
  }
}
