/**
 * The ReplyQuarantine port: where a worker reply that can never be processed goes, with its reason,
 * instead of being retried forever: one that is not JSON or breaks its contract (`invalid_reply`),
 * or one for a job or step Lucius does not know (`job_not_found`, `step_not_found`).
 *
 * The Functions Node worker cannot dead-letter a triggering message with a reason of its own (only
 * by failing it `maxDeliveryCount` times, which records `MaxDeliveryCountExceeded`), so Lucius parks
 * the reply on a quarantine queue and completes the original. An operator reads the queue with any
 * Service Bus tool; redriving is sending the body back to the `source` topic. Adapters:
 * messaging/service-bus-reply-quarantine.ts, messaging/memory-reply-quarantine.ts.
 */

export interface QuarantinedReply {
  /** The reply as it was received (any JSON value, string or bytes). */
  readonly body: unknown;
  /** A stable code: invalid_reply, job_not_found, step_not_found. */
  readonly reason: string;
  /** What was wrong, for a human: the contract violations with their JSON pointers. */
  readonly description: string;
  /** Where it came from: the reply topic and subscription. */
  readonly source: string;
  readonly sourceMessageId?: string;
  readonly correlationId?: string;
}

export interface ReplyQuarantine {
  /** Throws when the reply could not be parked; the caller then leaves the original to be redelivered. */
  quarantine(reply: QuarantinedReply): Promise<void>;
}
