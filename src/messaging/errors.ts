/**
 * Errors of the messaging layer (directive publishing), named by the DirectivePublisher port. Codes
 * are mapped to HTTP statuses at the edge.
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

function codeOf(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
