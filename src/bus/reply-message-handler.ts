/**
 * The Service Bus edge: a worker reply that arrived on a reply topic (`{replyPrefix}{lane}`, subscription
 * `lucius-invoker`): decode, ingest, log. The message is settled by the trigger: returning completes
 * it, throwing abandons it for redelivery (up to the subscription's max delivery count, then the
 * dead-letter queue), which is right only for failures that may pass (storage or the durable
 * backend briefly unreachable). A reply that can never be processed (invalid, unknown job or step)
 * is quarantined with its reason and completed, so it is neither lost nor retried forever.
 */
import type { InvocationContext } from '@azure/functions';
import { InvalidReplyError } from '../contracts/errors';
import { deadLetterReasonFor, decodeReply } from '../contracts/reply-decoder';
import type { WorkerReply } from '../domain/worker-reply';
import { JobNotFoundError, StepNotFoundError } from '../ledger/errors';
import type { ReplyQuarantine } from '../ports/reply-quarantine';
import { fromMessageProperties } from '../telemetry/trace-context';
import { ingestReply, type IngestReplyDeps } from '../usecases/ingest-reply';
import { telemetryOf } from '../usecases/lifecycle-telemetry';

export interface ReplyMessageDeps extends IngestReplyDeps {
  readonly quarantine: ReplyQuarantine;
}

/**
 * Runs in a consumer span continuing the trace the message carries (`traceparent` or
 * `Diagnostic-Id`: the worker copied the directive's), so the reply's ingestion joins its job's trace.
 */
export function handleReplyMessage(
  deps: ReplyMessageDeps,
  source: string,
  message: unknown,
  context: InvocationContext,
): Promise<void> {
  const metadata = context.triggerMetadata ?? {};
  const carried = fromMessageProperties(
    metadata.applicationProperties as Readonly<Record<string, unknown>> | undefined,
  );
  return telemetryOf(deps).span(
    `${source} process`,
    {
      kind: 'consumer',
      ...(carried === undefined ? {} : { parent: carried }),
      attributes: {
        'messaging.system': 'servicebus',
        'messaging.operation.type': 'process',
        'messaging.destination.name': source,
        'messaging.message.id': typeof metadata.messageId === 'string' ? metadata.messageId : undefined,
      },
    },
    () => ingestMessage(deps, source, message, context),
  );
}

async function ingestMessage(
  deps: ReplyMessageDeps,
  source: string,
  message: unknown,
  context: InvocationContext,
): Promise<void> {
  const metadata = context.triggerMetadata ?? {};
  const messageId = typeof metadata.messageId === 'string' ? metadata.messageId : undefined;
  const subject = typeof metadata.subject === 'string' ? metadata.subject : undefined;
  const park = async (reason: string, description: string) => {
    await deps.quarantine.quarantine({
      body: message,
      reason,
      description,
      source,
      ...(messageId === undefined ? {} : { sourceMessageId: messageId }),
      ...(typeof metadata.correlationId === 'string' ? { correlationId: metadata.correlationId } : {}),
    });
    telemetryOf(deps).count('lucius.replies.quarantined', { reason });
    context.warn(
      JSON.stringify({ event: 'reply.quarantined', source, message_id: messageId, reason, description }),
    );
  };

  let reply: WorkerReply;
  try {
    reply = decodeReply(message, subject === undefined ? {} : { subject });
  } catch (error) {
    if (!(error instanceof InvalidReplyError)) throw error;
    const { deadLetterReason, deadLetterErrorDescription } = deadLetterReasonFor(error);
    await park(deadLetterReason, deadLetterErrorDescription);
    return;
  }
  try {
    const outcome = await ingestReply(deps, reply);
    const fields = {
      job_id: reply.jobId,
      step_id: reply.stepId,
      attempt_no: reply.attemptNo,
      kind: reply.kind,
      outcome: outcome.kind,
      message_id: messageId,
    };
    if (outcome.kind === 'stale')
      context.warn(JSON.stringify({ event: 'reply.ignored', ...fields, reason: outcome.error.message }));
    else context.info(JSON.stringify({ event: 'reply.ingested', ...fields }));
  } catch (error) {
    if (error instanceof JobNotFoundError || error instanceof StepNotFoundError) {
      await park(error.code, error.message);
      return;
    }
    throw error;
  }
}
