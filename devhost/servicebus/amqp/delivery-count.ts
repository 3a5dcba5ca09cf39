/**
 * The AMQP header's delivery-count is the number of PRIOR delivery attempts (0 the first time a
 * message is delivered); @azure/service-bus exposes it unchanged as `deliveryCount`. The broker's
 * `BrokeredMessage.deliveryCount` counts every time the message was handed out, the current
 * delivery included, so a message being delivered now reports one less.
 */
import type { BrokeredMessage } from '../broker/broker-api';

/** For a message handed out by this very receive. */
export function deliveryCountForReceive(message: BrokeredMessage): number {
  return Math.max(0, message.deliveryCount - 1);
}

/** For a message only browsed (peek): nothing is being delivered. */
export function deliveryCountForPeek(message: BrokeredMessage): number {
  return message.deliveryCount;
}
