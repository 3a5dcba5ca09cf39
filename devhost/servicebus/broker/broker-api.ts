/**
 * The seam between devhost's Service Bus emulator layers:
 *
 *  - the broker core (devhost/servicebus/broker/): pure entity semantics — queues, topics,
 *    subscriptions with filters, peek-lock, lock expiry, delivery counts, dead-lettering, deferral,
 *    TTL, scheduling, duplicate detection — over a store port, driven by a clock. No AMQP here.
 *  - the AMQP layer (devhost/servicebus/amqp/): a rhea listener speaking what @azure/service-bus
 *    speaks (CBS, sender/receiver links, dispositions, the `$management` node), mapping it onto Broker.
 *
 * Entity paths are as the SDK addresses them: `queue`, `topic`, `topic/Subscriptions/sub`, and a
 * dead-letter sub-queue `<queue or subscription>/$DeadLetterQueue`. Names are case-insensitive.
 */

/** A message as a sender gave it. */
export interface IncomingMessage {
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly subject?: string;
  readonly to?: string;
  readonly replyTo?: string;
  readonly contentType?: string;
  readonly sessionId?: string;
  readonly applicationProperties: Readonly<Record<string, unknown>>;
  /** From the AMQP header's ttl; capped by the entity's default TTL. */
  readonly timeToLiveMs?: number;
  /** `x-opt-scheduled-enqueue-time`: held until then. */
  readonly scheduledEnqueueTime?: Date;
  /**
   * The AMQP message as the sender encoded it (a Buffer, so it survives the file store byte for byte);
   * the AMQP layer decodes it to deliver it back with the broker's annotations added.
   */
  readonly payload: unknown;
}

export type MessageState = 'active' | 'deferred' | 'scheduled';

/** A message held by an entity, with what the broker manages. */
export interface BrokeredMessage extends IncomingMessage {
  readonly sequenceNumber: number;
  readonly enqueuedTime: Date;
  readonly expiresAt?: Date;
  readonly deliveryCount: number;
  readonly state: MessageState;
  /** Present while locked (peek-lock). */
  readonly lockToken?: string;
  readonly lockedUntil?: Date;
  readonly deadLetterReason?: string;
  readonly deadLetterErrorDescription?: string;
  /** The entity a dead-lettered message came from. */
  readonly deadLetterSource?: string;
  /** Set by abandon/defer/dead-letter "propertiesToModify". */
  readonly modifiedProperties?: Readonly<Record<string, unknown>>;
}

export type ReceiveMode = 'peekLock' | 'receiveAndDelete';

/**
 * Broker errors carry the Service Bus condition the AMQP layer sends back, so SDK callers see the
 * same `code` as on Azure (e.g. `com.microsoft:entity-not-found` → MessagingEntityNotFound,
 * `com.microsoft:message-lock-lost` → MessageLockLost, `com.microsoft:message-not-found`).
 */
export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

export interface Broker {
  /** Enqueues on a queue, or on every subscription of a topic whose filter matches. Duplicate messageIds within the entity's window are dropped. */
  send(entityPath: string, messages: readonly IncomingMessage[]): void;
  /** Schedules messages; returns their sequence numbers. */
  schedule(entityPath: string, messages: readonly IncomingMessage[], enqueueTime: Date): number[];
  cancelScheduled(entityPath: string, sequenceNumbers: readonly number[]): void;

  /** Takes up to `max` available messages: locked (peek-lock) or removed (receive-and-delete). */
  receive(entityPath: string, max: number, mode: ReceiveMode): BrokeredMessage[];
  /** Deferred messages by sequence number (locked in peek-lock). */
  receiveDeferred(
    entityPath: string,
    sequenceNumbers: readonly number[],
    mode: ReceiveMode,
  ): BrokeredMessage[];
  /** Browses without locking, from a sequence number. */
  peek(entityPath: string, fromSequenceNumber: number, max: number): BrokeredMessage[];

  complete(entityPath: string, lockToken: string): void;
  /** Unlocks; delivery count +1; past the entity's max delivery count → dead-letter (MaxDeliveryCountExceeded). */
  abandon(
    entityPath: string,
    lockToken: string,
    propertiesToModify?: Readonly<Record<string, unknown>>,
  ): void;
  deadLetter(
    entityPath: string,
    lockToken: string,
    reason?: string,
    description?: string,
    propertiesToModify?: Readonly<Record<string, unknown>>,
  ): void;
  defer(entityPath: string, lockToken: string, propertiesToModify?: Readonly<Record<string, unknown>>): void;
  /** Returns the new locked-until times. Throws MessageLockLost for an unknown or expired lock. */
  renewLock(entityPath: string, lockTokens: readonly string[]): Date[];

  /** Calls `listener` whenever messages may have become available on the entity; returns an unsubscribe. */
  onAvailable(entityPath: string, listener: () => void): () => void;
  /** Applies time: lock expiry (redelivery), TTL expiry (dead-letter if enabled, else drop), scheduled enqueue. */
  tick(): void;
  /** Whether the path names an existing entity (a queue, topic, subscription, or a dead-letter sub-queue). */
  exists(entityPath: string): boolean;
}
