/**
 * The DirectivePublisher port: hands a step attempt's directive (or its cancel) to the workers of
 * the step's platform, on the step's lane.
 */
import type { Directive } from '../contracts/directive';

/**
 * Publishes directives (directive.v1 documents) to the workers.
 *
 * - At-least-once and idempotent per attempt: publishing the same attempt's directive again (an
 *   activity retried after a crash) must not hand the workers a second copy; a cancel for the
 *   attempt is a separate message.
 * - Throws InvalidDirectiveError (not retryable, nothing sent) when the document breaks directive.v1,
 *   and DirectivePublishError (`directive_publish_failed`, retryable) when the transport did not take it.
 */
export interface DirectivePublisher {
  publish(directive: Directive): Promise<void>;
  /** Releases what the publisher holds (links, connections it owns). Idempotent. */
  close(): Promise<void>;
}
