/**
 * The store port behind the broker core: per entity, a sequence counter, the messages it holds and
 * the message ids seen for duplicate detection. Entities are keyed by their canonical (lower-case)
 * path, dead-letter sub-queues included. Records are values: the core never mutates a record it has
 * put, it puts a new one. Adapters: `MemoryBrokerStore`, `FileBrokerStore` (survives restarts).
 */
import type { IncomingMessage, MessageState } from './broker-api';

/** A message as the broker holds it. */
export interface MessageRecord extends IncomingMessage {
  readonly sequenceNumber: number;
  readonly enqueuedTime: Date;
  readonly expiresAt?: Date;
  /** How many times the message has been handed out (locked or received-and-deleted). */
  readonly deliveries: number;
  readonly state: MessageState;
  readonly lockToken?: string;
  readonly lockedUntil?: Date;
  readonly deadLetterReason?: string;
  readonly deadLetterErrorDescription?: string;
  readonly deadLetterSource?: string;
  readonly modifiedProperties?: Readonly<Record<string, unknown>>;
}

export interface BrokerStore {
  /** The entity's next sequence number (1, 2, ...), never handed out twice, across restarts too. */
  allocateSequenceNumber(entity: string): number;
  /** The entity's messages, in ascending sequence-number order. */
  list(entity: string): readonly MessageRecord[];
  get(entity: string, sequenceNumber: number): MessageRecord | undefined;
  /** Inserts or replaces the record with the same sequence number. */
  put(entity: string, record: MessageRecord): void;
  remove(entity: string, sequenceNumber: number): void;
  /** When `messageId` was last accepted by the entity, if it is still remembered. */
  lastSeen(entity: string, messageId: string): Date | undefined;
  remember(entity: string, messageId: string, at: Date): void;
  /** Drops message ids accepted before `before` (outside the duplicate-detection window). */
  forgetSeenBefore(entity: string, before: Date): void;
  /** Entities that hold anything. */
  entities(): readonly string[];
  /** Persists whatever is pending; the store is not used afterwards. */
  close(): void;
}
