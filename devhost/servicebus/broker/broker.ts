/**
 * The pure broker core: Service Bus entity semantics over a `BrokerStore`, driven by a `Clock`.
 * No AMQP and no I/O here; the AMQP layer maps links and dispositions onto the `Broker` seam.
 *
 * Semantics (as Azure Service Bus):
 *  - Sequence numbers are per queue or topic; a topic's copies share the number it assigned, and a
 *    dead-lettered message keeps its number.
 *  - `deliveryCount` is the broker's count of deliveries (Azure's DeliveryCount, as .NET shows it):
 *    every receive increments it, so a first delivery carries 1; abandon and lock expiry do not
 *    increment it themselves, the next delivery does. On `peek` it is the deliveries so far (0 if
 *    never received). The AMQP header's delivery-count, which @azure/service-bus reports as
 *    `deliveryCount`, counts PRIOR deliveries: the AMQP layer sends `deliveryCount - 1` for a received
 *    message (0 on the first delivery, as Azure does). After a message's MaxDeliveryCount-th delivery
 *    is abandoned or its lock expires, it is dead-lettered (`MaxDeliveryCountExceeded`); dead-letter
 *    sub-queues have no such limit and no expiry.
 *  - Time to live = min(message, entity default[s]) from the enqueued time; expiry dead-letters
 *    (`TTLExpiredException`) when DeadLetteringOnMessageExpiration is on, else drops. Locked
 *    messages do not expire until their lock ends. Scheduled messages are enqueued (and their TTL
 *    starts) at their scheduled time.
 *  - Time is applied to an entity whenever it is used, and to all entities by `tick()`, so results
 *    never depend on how often `tick()` runs; `tick()` is what turns time into `onAvailable` calls.
 *
 * Errors are `BrokerError`s with Service Bus conditions: entity-not-found for unknown paths,
 * message-lock-lost for unknown or expired lock tokens, message-not-found for unknown sequence
 * numbers, amqp:not-allowed for sending to a subscription or receiving from a topic.
 */
import { randomUUID } from 'node:crypto';
import type { Broker, BrokeredMessage, IncomingMessage, ReceiveMode } from './broker-api';
import type { BrokerStore, MessageRecord } from './broker-store';
import type { Clock } from '../../common/clock';
import type { BrokerTopology, DuplicateDetection, QueueLikeProperties, RuleDefinition } from './config';
import { entityNotFound, invalidArgument, messageLockLost, messageNotFound, notAllowed } from './errors';
import { matchesAnyRule } from './filter';
import { MemoryBrokerStore } from './memory-broker-store';

export const DEAD_LETTER_REASONS = {
  ttlExpired: 'TTLExpiredException',
  maxDeliveryCountExceeded: 'MaxDeliveryCountExceeded',
} as const;

export interface BrokerOptions {
  readonly topology: BrokerTopology;
  readonly clock: Clock;
  /** Defaults to a fresh `MemoryBrokerStore`. */
  readonly store?: BrokerStore;
  /** Defaults to random UUIDs. */
  readonly newLockToken?: () => string;
  /**
   * The id given to a message sent without one; defaults to a random GUID without dashes (32 hex
   * digits), the form Service Bus assigns. Receivers need one (the SDK renews locks by message id).
   */
  readonly newMessageId?: () => string;
  /** Where an `onAvailable` listener's exception goes; by default it is rethrown on a microtask. */
  readonly onListenerError?: (error: unknown) => void;
}

/** A queue, a subscription or a dead-letter sub-queue: something that holds and hands out messages. */
interface Receivable {
  readonly kind: 'queue' | 'subscription' | 'deadLetter';
  readonly key: string;
  readonly path: string;
  readonly properties: QueueLikeProperties;
  /** The dead-letter sub-queue (absent on a dead-letter sub-queue itself). */
  readonly deadLetter?: Receivable;
}

/** A queue or a topic: something that is sent to and numbers messages. */
interface Sendable {
  readonly kind: 'queue' | 'topic';
  readonly key: string;
  readonly path: string;
  readonly duplicates: DuplicateDetection;
  readonly destinations: readonly {
    readonly entity: Receivable;
    readonly rules?: readonly RuleDefinition[];
    readonly defaultTimeToLiveMs: readonly (number | undefined)[];
  }[];
}

type Entity = { readonly sendable?: Sendable; readonly receivable?: Receivable };

interface LockRef {
  readonly entity: string;
  readonly sequenceNumber: number;
}

export function canonicalPath(entityPath: string): string {
  return entityPath.replace(/^\/+|\/+$/g, '').toLowerCase();
}

export function createBroker(options: BrokerOptions): Broker & { close(): void } {
  return new BrokerCore(options);
}

export class BrokerCore implements Broker {
  private readonly entities = new Map<string, Entity>();
  private readonly receivables: Receivable[] = [];
  private readonly sendables: Sendable[] = [];
  private readonly locks = new Map<string, LockRef>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly store: BrokerStore;
  private readonly clock: Clock;
  private readonly newLockToken: () => string;
  private readonly newMessageId: () => string;
  private readonly onListenerError: (error: unknown) => void;

  constructor(options: BrokerOptions) {
    this.clock = options.clock;
    this.store = options.store ?? new MemoryBrokerStore();
    this.newLockToken = options.newLockToken ?? randomUUID;
    this.newMessageId = options.newMessageId ?? (() => randomUUID().replace(/-/g, ''));
    this.onListenerError =
      options.onListenerError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
    this.build(options.topology);
    for (const entity of this.receivables) {
      for (const record of this.store.list(entity.key)) {
        if (record.lockToken !== undefined) {
          this.locks.set(record.lockToken, { entity: entity.key, sequenceNumber: record.sequenceNumber });
        }
      }
    }
  }

  send(entityPath: string, messages: readonly IncomingMessage[]): void {
    const target = this.sendable(entityPath);
    const now = this.clock.now();
    const available = new Set<Receivable>();
    for (const message of messages) this.enqueue(target, message, now, available);
    this.notify(available);
  }

  schedule(entityPath: string, messages: readonly IncomingMessage[], enqueueTime: Date): number[] {
    const target = this.sendable(entityPath);
    const now = this.clock.now();
    const available = new Set<Receivable>();
    const sequenceNumbers = messages.map((message) =>
      this.enqueue(target, { ...message, scheduledEnqueueTime: enqueueTime }, now, available),
    );
    this.notify(available);
    return sequenceNumbers;
  }

  cancelScheduled(entityPath: string, sequenceNumbers: readonly number[]): void {
    const target = this.sendable(entityPath);
    const found = sequenceNumbers.map((sequenceNumber) => {
      const holders = target.destinations
        .map((destination) => destination.entity)
        .filter((entity) => this.store.get(entity.key, sequenceNumber)?.state === 'scheduled');
      if (holders.length === 0) throw messageNotFound(target.path, sequenceNumber);
      return { sequenceNumber, holders };
    });
    for (const { sequenceNumber, holders } of found) {
      for (const entity of holders) this.store.remove(entity.key, sequenceNumber);
    }
  }

  receive(entityPath: string, max: number, mode: ReceiveMode): BrokeredMessage[] {
    const entity = this.receivable(entityPath);
    if (!Number.isInteger(max) || max < 1)
      throw invalidArgument(`max must be a positive integer, got ${max}`);
    const now = this.clock.now();
    const available = new Set<Receivable>();
    this.applyTime(entity, now, available);
    const taken: BrokeredMessage[] = [];
    for (const record of this.store.list(entity.key)) {
      if (taken.length >= max) break;
      if (record.state !== 'active' || record.lockToken !== undefined) continue;
      taken.push(this.deliver(entity, record, mode, now));
    }
    this.notify(available);
    return taken;
  }

  receiveDeferred(
    entityPath: string,
    sequenceNumbers: readonly number[],
    mode: ReceiveMode,
  ): BrokeredMessage[] {
    const entity = this.receivable(entityPath);
    const now = this.clock.now();
    const available = new Set<Receivable>();
    this.applyTime(entity, now, available);
    const records = sequenceNumbers.map((sequenceNumber) => {
      const record = this.store.get(entity.key, sequenceNumber);
      if (record === undefined || record.state !== 'deferred')
        throw messageNotFound(entity.path, sequenceNumber);
      return record;
    });
    const delivered = records.map((record) => this.deliver(entity, record, mode, now));
    this.notify(available);
    return delivered;
  }

  peek(entityPath: string, fromSequenceNumber: number, max: number): BrokeredMessage[] {
    const entity = this.receivable(entityPath);
    const available = new Set<Receivable>();
    this.applyTime(entity, this.clock.now(), available);
    const peeked = this.store
      .list(entity.key)
      .filter((record) => record.sequenceNumber >= fromSequenceNumber)
      .slice(0, Math.max(0, max))
      .map((record) => toBrokered(record));
    this.notify(available);
    return peeked;
  }

  complete(entityPath: string, lockToken: string): void {
    const { entity, record } = this.locked(entityPath, lockToken);
    this.locks.delete(lockToken);
    this.store.remove(entity.key, record.sequenceNumber);
  }

  abandon(
    entityPath: string,
    lockToken: string,
    propertiesToModify?: Readonly<Record<string, unknown>>,
  ): void {
    const { entity, record } = this.locked(entityPath, lockToken);
    const available = new Set<Receivable>();
    this.release(entity, modify(record, propertiesToModify), available);
    this.notify(available);
  }

  deadLetter(
    entityPath: string,
    lockToken: string,
    reason?: string,
    description?: string,
    propertiesToModify?: Readonly<Record<string, unknown>>,
  ): void {
    const { entity, record } = this.locked(entityPath, lockToken);
    if (entity.deadLetter === undefined)
      throw notAllowed(entity.path, 'Dead-lettering a dead-lettered message');
    const available = new Set<Receivable>();
    this.moveToDeadLetter(entity, modify(record, propertiesToModify), reason, description, available);
    this.notify(available);
  }

  defer(entityPath: string, lockToken: string, propertiesToModify?: Readonly<Record<string, unknown>>): void {
    const { entity, record } = this.locked(entityPath, lockToken);
    this.locks.delete(lockToken);
    this.store.put(entity.key, { ...unlocked(modify(record, propertiesToModify)), state: 'deferred' });
  }

  renewLock(entityPath: string, lockTokens: readonly string[]): Date[] {
    const found = lockTokens.map((lockToken) => this.locked(entityPath, lockToken));
    const now = this.clock.now();
    return found.map(({ entity, record }) => {
      const lockedUntil = new Date(now.getTime() + entity.properties.lockDurationMs);
      this.store.put(entity.key, { ...record, lockedUntil });
      return lockedUntil;
    });
  }

  onAvailable(entityPath: string, listener: () => void): () => void {
    const entity = this.receivable(entityPath);
    let listeners = this.listeners.get(entity.key);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(entity.key, listeners);
    }
    const wrapped = (): void => listener();
    listeners.add(wrapped);
    return () => {
      listeners.delete(wrapped);
    };
  }

  tick(): void {
    const now = this.clock.now();
    const available = new Set<Receivable>();
    for (const entity of this.receivables) this.applyTime(entity, now, available);
    for (const target of this.sendables) {
      if (target.duplicates.requiresDuplicateDetection) {
        this.store.forgetSeenBefore(
          target.key,
          new Date(now.getTime() - target.duplicates.duplicateDetectionWindowMs),
        );
      }
    }
    this.notify(available);
  }

  exists(entityPath: string): boolean {
    return this.entities.has(canonicalPath(entityPath));
  }

  /** Closes the store (a file store writes its snapshot). */
  close(): void {
    this.store.close();
  }

  private build(topology: BrokerTopology): void {
    const receivable = (
      kind: 'queue' | 'subscription',
      path: string,
      properties: QueueLikeProperties,
    ): Receivable => {
      const deadLetterPath = `${path}/$DeadLetterQueue`;
      const deadLetter: Receivable = {
        kind: 'deadLetter',
        key: canonicalPath(deadLetterPath),
        path: deadLetterPath,
        properties,
      };
      const entity: Receivable = { kind, key: canonicalPath(path), path, properties, deadLetter };
      this.receivables.push(entity, deadLetter);
      this.entities.set(deadLetter.key, { receivable: deadLetter });
      return entity;
    };
    for (const queue of topology.queues) {
      const entity = receivable('queue', queue.name, queue.properties);
      const sendable: Sendable = {
        kind: 'queue',
        key: entity.key,
        path: queue.name,
        duplicates: queue.properties,
        destinations: [{ entity, defaultTimeToLiveMs: [queue.properties.defaultTimeToLiveMs] }],
      };
      this.sendables.push(sendable);
      this.entities.set(entity.key, { sendable, receivable: entity });
    }
    for (const topic of topology.topics) {
      const destinations = topic.subscriptions.map((subscription) => ({
        entity: receivable(
          'subscription',
          `${topic.name}/Subscriptions/${subscription.name}`,
          subscription.properties,
        ),
        rules: subscription.rules,
        defaultTimeToLiveMs: [
          topic.properties.defaultTimeToLiveMs,
          subscription.properties.defaultTimeToLiveMs,
        ],
      }));
      const sendable: Sendable = {
        kind: 'topic',
        key: canonicalPath(topic.name),
        path: topic.name,
        duplicates: topic.properties,
        destinations,
      };
      this.sendables.push(sendable);
      this.entities.set(sendable.key, { sendable });
      for (const destination of destinations) {
        this.entities.set(destination.entity.key, { receivable: destination.entity });
      }
    }
  }

  private sendable(entityPath: string): Sendable {
    const entity = this.entities.get(canonicalPath(entityPath));
    if (entity === undefined) throw entityNotFound(entityPath);
    if (entity.sendable === undefined) throw notAllowed(entityPath, 'Sending');
    return entity.sendable;
  }

  private receivable(entityPath: string): Receivable {
    const entity = this.entities.get(canonicalPath(entityPath));
    if (entity === undefined) throw entityNotFound(entityPath);
    if (entity.receivable === undefined) throw notAllowed(entityPath, 'Receiving');
    return entity.receivable;
  }

  /** The message a live lock token of this entity holds, after applying time; else MessageLockLost. */
  private locked(entityPath: string, lockToken: string): { entity: Receivable; record: MessageRecord } {
    const entity = this.receivable(entityPath);
    const now = this.clock.now();
    const ref = this.locks.get(lockToken);
    const record =
      ref === undefined || ref.entity !== entity.key
        ? undefined
        : this.store.get(ref.entity, ref.sequenceNumber);
    const live =
      record !== undefined &&
      record.lockToken === lockToken &&
      record.lockedUntil !== undefined &&
      record.lockedUntil.getTime() > now.getTime();
    if (!live) {
      // Only a lost lock costs a pass over the entity (releasing what expired); settling stays O(1).
      const available = new Set<Receivable>();
      this.applyTime(entity, now, available);
      this.notify(available);
      throw messageLockLost(entity.path, lockToken);
    }
    return { entity, record };
  }

  /** Accepts one message on a queue or topic; returns its sequence number. */
  private enqueue(target: Sendable, sent: IncomingMessage, now: Date, available: Set<Receivable>): number {
    const message = sent.messageId === undefined ? { ...sent, messageId: this.newMessageId() } : sent;
    const sequenceNumber = this.store.allocateSequenceNumber(target.key);
    const { requiresDuplicateDetection, duplicateDetectionWindowMs } = target.duplicates;
    if (requiresDuplicateDetection && message.messageId !== undefined) {
      const seen = this.store.lastSeen(target.key, message.messageId);
      if (seen !== undefined && now.getTime() - seen.getTime() < duplicateDetectionWindowMs)
        return sequenceNumber;
      this.store.remember(target.key, message.messageId, now);
    }
    const scheduled =
      message.scheduledEnqueueTime !== undefined && message.scheduledEnqueueTime.getTime() > now.getTime();
    const enqueuedTime = scheduled ? (message.scheduledEnqueueTime as Date) : now;
    for (const destination of target.destinations) {
      if (destination.rules !== undefined && !matchesAnyRule(destination.rules, message)) continue;
      const ttls = [message.timeToLiveMs, ...destination.defaultTimeToLiveMs].filter(
        (ttl): ttl is number => ttl !== undefined,
      );
      const ttl = ttls.length === 0 ? undefined : Math.min(...ttls);
      this.store.put(destination.entity.key, {
        ...message,
        sequenceNumber,
        enqueuedTime,
        expiresAt: ttl === undefined ? undefined : new Date(enqueuedTime.getTime() + ttl),
        deliveries: 0,
        state: scheduled ? 'scheduled' : 'active',
      });
      if (!scheduled) available.add(destination.entity);
    }
    return sequenceNumber;
  }

  private deliver(entity: Receivable, record: MessageRecord, mode: ReceiveMode, now: Date): BrokeredMessage {
    const delivered = { ...record, deliveries: record.deliveries + 1 };
    if (record.lockToken !== undefined) this.locks.delete(record.lockToken);
    if (mode === 'receiveAndDelete') {
      this.store.remove(entity.key, record.sequenceNumber);
      return toBrokered(unlocked(delivered));
    }
    const lockToken = this.newLockToken();
    const lockedRecord: MessageRecord = {
      ...delivered,
      lockToken,
      lockedUntil: new Date(now.getTime() + entity.properties.lockDurationMs),
    };
    this.store.put(entity.key, lockedRecord);
    this.locks.set(lockToken, { entity: entity.key, sequenceNumber: record.sequenceNumber });
    return toBrokered(lockedRecord);
  }

  /** Ends a delivery without settling it (abandon, lock expiry): back in line, or dead-lettered past MaxDeliveryCount. */
  private release(entity: Receivable, record: MessageRecord, available: Set<Receivable>): void {
    if (record.lockToken !== undefined) this.locks.delete(record.lockToken);
    if (entity.deadLetter !== undefined && record.deliveries >= entity.properties.maxDeliveryCount) {
      this.moveToDeadLetter(
        entity,
        record,
        DEAD_LETTER_REASONS.maxDeliveryCountExceeded,
        `Message could not be consumed after ${entity.properties.maxDeliveryCount} delivery attempts.`,
        available,
      );
      return;
    }
    this.store.put(entity.key, unlocked(record));
    if (record.state === 'active') available.add(entity);
  }

  private moveToDeadLetter(
    entity: Receivable,
    record: MessageRecord,
    reason: string | undefined,
    description: string | undefined,
    available: Set<Receivable>,
  ): void {
    const deadLetter = entity.deadLetter as Receivable;
    if (record.lockToken !== undefined) this.locks.delete(record.lockToken);
    this.store.remove(entity.key, record.sequenceNumber);
    this.store.put(deadLetter.key, {
      ...unlocked(record),
      state: 'active',
      deadLetterReason: reason,
      deadLetterErrorDescription: description,
      deadLetterSource: entity.path,
    });
    available.add(deadLetter);
  }

  /** Applies `now` to one entity: scheduled enqueue, lock expiry, then TTL expiry. */
  private applyTime(entity: Receivable, now: Date, available: Set<Receivable>): void {
    const at = now.getTime();
    for (const original of this.store.list(entity.key)) {
      let record = original;
      if (record.state === 'scheduled') {
        if (record.enqueuedTime.getTime() > at) continue;
        record = { ...record, state: 'active' };
        this.store.put(entity.key, record);
        available.add(entity);
      }
      if (record.lockedUntil !== undefined) {
        if (record.lockedUntil.getTime() > at) continue;
        const before = record.deliveries;
        this.release(entity, record, available);
        if (entity.deadLetter !== undefined && before >= entity.properties.maxDeliveryCount) continue;
        record = unlocked(record);
      }
      if (
        entity.deadLetter === undefined ||
        record.expiresAt === undefined ||
        record.expiresAt.getTime() > at
      )
        continue;
      if (entity.properties.deadLetteringOnMessageExpiration) {
        this.moveToDeadLetter(
          entity,
          record,
          DEAD_LETTER_REASONS.ttlExpired,
          'The message expired and was dead lettered.',
          available,
        );
      } else {
        this.store.remove(entity.key, record.sequenceNumber);
      }
    }
  }

  private notify(available: ReadonlySet<Receivable>): void {
    for (const entity of available) {
      for (const listener of [...(this.listeners.get(entity.key) ?? [])]) {
        try {
          listener();
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
  }
}

function unlocked(record: MessageRecord): MessageRecord {
  const { lockToken: _lockToken, lockedUntil: _lockedUntil, ...rest } = record;
  return rest;
}

function modify(
  record: MessageRecord,
  properties: Readonly<Record<string, unknown>> | undefined,
): MessageRecord {
  if (properties === undefined || Object.keys(properties).length === 0) return record;
  return { ...record, modifiedProperties: { ...record.modifiedProperties, ...properties } };
}

function toBrokered(record: MessageRecord): BrokeredMessage {
  const { deliveries, ...rest } = record;
  const message: Record<string, unknown> = { ...rest, deliveryCount: deliveries };
  for (const key of Object.keys(message)) if (message[key] === undefined) delete message[key];
  return message as unknown as BrokeredMessage;
}
