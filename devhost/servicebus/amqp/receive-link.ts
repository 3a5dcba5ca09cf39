/**
 * A client RECEIVING from an entity (`queue`, `topic/Subscriptions/sub`, `…/$DeadLetterQueue`):
 * on our side a rhea Sender. @azure/service-bus attaches with
 *  - peek-lock: snd-settle-mode unsettled, rcv-settle-mode second; it settles each delivery with a
 *    disposition and waits for ours: accepted → complete; released / modified(undeliverable-here
 *    false) → abandon (modified's message-annotations = properties to modify); modified
 *    (undeliverable-here true) → defer; rejected with `com.microsoft:dead-letter` (info:
 *    DeadLetterReason, DeadLetterErrorDescription, other properties to modify) → dead-letter.
 *    A broker error (lock lost) settles with `rejected` carrying the Service Bus condition.
 *  - receive-and-delete: snd-settle-mode settled; deliveries go out pre-settled.
 * Deliveries honour link credit and are pushed whenever credit arrives or `broker.onAvailable`
 * fires. A drain request is answered once the available messages have been pushed.
 * The delivery tag is the lock token (see lock-tokens.ts).
 */
import { generate_uuid, message as amqp, type Delivery, type Message, type Sender } from 'rhea';
import type { Broker, ReceiveMode } from '../broker/broker-api';
import { deliveryCountForReceive } from './delivery-count';
import { toWireError } from './errors';
import { LockTokens, lockTokenToDeliveryTag } from './lock-tokens';
import { toWireMessage } from './message-codec';
import { asRecord, optionalRecord, optionalString } from '../../common/records';

const DEAD_LETTER_CONDITION = 'com.microsoft:dead-letter';

export interface ReceiveLinkContext {
  readonly broker: Broker;
  readonly locks: LockTokens;
}

/** The rhea internals this module relies on (not in rhea's typings). */
interface SenderInternals {
  credit: number;
  delivery_count: number;
  _draining: boolean;
  _drained: boolean;
  _get_drain(): boolean;
  readonly session: { readonly outgoing: { readonly next_pending_delivery: number; available(): number } };
}

/** Outcome constructors of rhea's message module (not in rhea's typings). */
interface Outcomes {
  accepted(): { described(): unknown };
  released(): { described(): unknown };
  rejected(fields: { error?: { condition: string; description: string } }): { described(): unknown };
  modified(fields: { delivery_failed?: boolean; undeliverable_here?: boolean }): { described(): unknown };
}
const outcomes = amqp as unknown as Outcomes;

type Disposition = 'accepted' | 'released' | 'modified' | 'rejected';

interface Lock {
  readonly wire: string;
  readonly broker: string;
}

/**
 * Starts serving `sender` from `entityPath`. Returns the function that stops it (link or connection
 * closed). Locks of unsettled deliveries are left to expire in the broker, as on Azure.
 */
export function serveReceiveLink(
  sender: Sender,
  entityPath: string,
  context: ReceiveLinkContext,
): () => void {
  const { broker, locks } = context;
  const internals = sender as unknown as SenderInternals;
  const mode: ReceiveMode = sender.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock';
  const untransferred: Delivery[] = [];
  const lockByDelivery = new Map<number, Lock>();
  let stopped = false;
  let pumpScheduled = false;

  // rhea answers a drain only while credit remains; a drain that finds the credit already spent
  // (messages in flight) must be answered too, or the client waits and then closes its link.
  internals._get_drain = function drain(this: SenderInternals): boolean {
    if (!this._draining || !this._drained) return false;
    this.delivery_count += this.credit;
    this.credit = 0;
    return true;
  };

  const pump = (): void => {
    pumpScheduled = false;
    if (stopped || !sender.is_open()) return;
    const transferred = internals.session.outgoing.next_pending_delivery;
    while (untransferred.length > 0 && (untransferred[0]?.id ?? Infinity) < transferred)
      untransferred.shift();
    // Never more than the client's credit, nor more than the session's delivery buffer holds
    // (rhea throws, uncaught, when that buffer overflows).
    const room = Math.min(internals.credit - untransferred.length, internals.session.outgoing.available());
    if (room <= 0) return;
    let messages;
    try {
      messages = broker.receive(entityPath, room, mode);
    } catch (error) {
      sender.close(toWireError(error));
      return;
    }
    for (const message of messages) {
      const lock =
        mode === 'peekLock' && message.lockToken !== undefined
          ? { wire: locks.toWire(message.lockToken), broker: message.lockToken }
          : undefined;
      const wire = toWireMessage(message, {
        wireLockToken: lock?.wire,
        headerDeliveryCount: deliveryCountForReceive(message),
      });
      const delivery = sender.send(
        wire as unknown as Message,
        lockTokenToDeliveryTag(lock?.wire ?? generate_uuid()),
      );
      untransferred.push(delivery);
      if (lock !== undefined) lockByDelivery.set(delivery.id, lock);
    }
  };

  /** Pumps outside the caller's stack: broker callbacks may fire in the middle of a broker operation. */
  const schedulePump = (): void => {
    if (pumpScheduled || stopped) return;
    pumpScheduled = true;
    setImmediate(pump);
  };

  const settle = (delivery: Delivery | undefined, disposition: Disposition): void => {
    if (delivery === undefined) return;
    const lock = lockByDelivery.get(delivery.id);
    lockByDelivery.delete(delivery.id);
    if (lock === undefined) {
      delivery.update(true, outcomes.accepted().described());
      return;
    }
    const state = delivery.remote_state ?? {};
    try {
      applyDisposition(broker, entityPath, lock.broker, disposition, state);
      locks.release(lock.wire);
      delivery.update(true, successOutcome(disposition, state));
    } catch (error) {
      delivery.update(true, outcomes.rejected({ error: toWireError(error) }).described());
    }
    // The SDK settles second and never sends a settled disposition after ours, so rhea would keep the
    // delivery in the session buffer for ever; once we have settled it, nothing more is coming.
    (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
    schedulePump();
  };

  sender.on('sender_flow', schedulePump);
  sender.on('sender_draining', () => {
    pump();
    sender.set_drained(true);
  });
  for (const disposition of ['accepted', 'released', 'modified', 'rejected'] as const) {
    sender.on(disposition, (event: { delivery?: Delivery }) => settle(event.delivery, disposition));
  }
  const unsubscribe = broker.onAvailable(entityPath, schedulePump);
  schedulePump();

  return () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    lockByDelivery.clear();
    untransferred.length = 0;
  };
}

function applyDisposition(
  broker: Broker,
  entityPath: string,
  lockToken: string,
  disposition: Disposition,
  state: Record<string, unknown>,
): void {
  switch (disposition) {
    case 'accepted':
      broker.complete(entityPath, lockToken);
      return;
    case 'released':
      broker.abandon(entityPath, lockToken);
      return;
    case 'modified': {
      const properties = optionalRecord(state['message_annotations']);
      if (state['undeliverable_here'] === true) broker.defer(entityPath, lockToken, properties);
      else broker.abandon(entityPath, lockToken, properties);
      return;
    }
    case 'rejected': {
      const error = asRecord(state['error']);
      const info = { ...asRecord(error['info']) };
      const reason = optionalString(info['DeadLetterReason']);
      const description = optionalString(info['DeadLetterErrorDescription']);
      delete info['DeadLetterReason'];
      delete info['DeadLetterErrorDescription'];
      if (error['condition'] !== undefined && error['condition'] !== DEAD_LETTER_CONDITION) {
        // A plain AMQP reject also dead-letters on Service Bus; its error explains why.
        broker.deadLetter(
          entityPath,
          lockToken,
          String(error['condition']),
          optionalString(error['description']),
        );
        return;
      }
      broker.deadLetter(entityPath, lockToken, reason, description, optionalRecord(withoutNulls(info)));
      return;
    }
  }
}

/** Our settlement echoes the client's outcome, without an error (an error means it failed). */
function successOutcome(disposition: Disposition, state: Record<string, unknown>): unknown {
  switch (disposition) {
    case 'accepted':
      return outcomes.accepted().described();
    case 'released':
      return outcomes.released().described();
    case 'modified':
      return outcomes
        .modified({
          delivery_failed: state['delivery_failed'] === true,
          undeliverable_here: state['undeliverable_here'] === true,
        })
        .described();
    case 'rejected':
      return outcomes.rejected({}).described();
  }
}

function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).filter(([, value]) => value !== null && value !== undefined),
  );
}
