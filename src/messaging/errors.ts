/**
 * Errors of the messaging layer (directive publishing, reply decoding). Codes are mapped to HTTP
 * statuses at the edge; a reply that fails to decode is dead-lettered with `deadLetterReasonFor`.
 */
import { LuciusError, type Violation } from '../domain/errors';

/**
 * Service Bus did not take a directive (unreachable namespace, missing topic, throttling, timeout).
 * Retryable: the orchestrator retries the publish on the dispatch backoff and, when attempts run out,
 * fails the attempt with DISPATCH_FAILED.
 */
export class DirectivePublishError extends LuciusError {
  constructor(
    readonly topic: string,
    readonly messageId: string,
    cause?: unknown,
  ) {
    const serviceBusCode = codeOf(cause);
    super(
      'directive_publish_failed',
      `directive ${messageId} could not be published to ${topic}${serviceBusCode === undefined ? '' : ` (${serviceBusCode})`}`,
      {
        fault: 'system',
        retryable: true,
        details: {
          topic,
          message_id: messageId,
          ...(serviceBusCode === undefined ? {} : { service_bus_code: serviceBusCode }),
        },
        cause,
      },
    );
  }
}

/**
 * Lucius built a directive that breaks directive.v1. Nothing was sent; this is a bug in Lucius (or
 * in the step data it was built from), so publishing it again cannot succeed.
 */
export class InvalidDirectiveError extends LuciusError {
  constructor(messageId: string, violations: readonly Violation[]) {
    super('invalid_directive', `directive ${messageId} does not match directive.v1; it was not sent`, {
      fault: 'system',
      retryable: false,
      violations,
      details: { message_id: messageId },
    });
  }
}

/**
 * A worker reply (ACK, RESULT, heartbeat) is not JSON, names no known kind, or breaks its contract.
 * `violations` point into the reply body. Redelivering it cannot help: dead-letter it (Service Bus)
 * or answer 422 (HTTP).
 */
export class InvalidReplyError extends LuciusError {
  constructor(
    readonly contract: string | undefined,
    violations: readonly Violation[],
  ) {
    const count = `${violations.length} problem${violations.length === 1 ? '' : 's'}`;
    super('invalid_reply', `the worker reply does not match ${contract ?? 'any reply contract'} (${count})`, {
      fault: 'caller',
      retryable: false,
      violations,
      details: contract === undefined ? {} : { contract },
    });
  }
}

function codeOf(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
