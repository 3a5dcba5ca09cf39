/**
 * A client SENDING to an entity (`queue` or `topic`): on our side a rhea Receiver. Each transfer —
 * one message, or a batch (message-format 0x80013700) — becomes one `broker.send` call, so a batch
 * is enqueued all or nothing. The delivery is settled `accepted`, or `rejected` with the Service Bus
 * condition of the broker error (the SDK's send then fails with the matching `code`).
 */
import type { Delivery, Message, Receiver } from 'rhea';
import type { Broker } from '../broker/broker-api';
import { toWireError } from './errors';
import { splitTransfer, toIncomingMessage } from './message-codec';

/** Largest message accepted, as on the Standard tier; the SDK sizes its batches from it. */
export const MAX_MESSAGE_SIZE = 256 * 1024;

export function serveSendLink(receiver: Receiver, entityPath: string, broker: Broker): void {
  receiver.on('message', (context: { message?: Message | Buffer; delivery?: Delivery }) => {
    const { message, delivery } = context;
    if (message === undefined || delivery === undefined) return;
    try {
      const messages = splitTransfer(message as Buffer, delivery.format).map(toIncomingMessage);
      broker.send(entityPath, messages);
      delivery.accept();
    } catch (error) {
      delivery.reject(toWireError(error));
    }
  });
}
