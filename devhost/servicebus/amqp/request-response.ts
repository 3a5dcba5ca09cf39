/**
 * Request/response nodes (`$cbs`, `<entity>/$management`) over a link pair, as core-amqp's
 * RequestResponseLink uses them: the client attaches a sender whose target is the node and a
 * receiver whose source is the node; each request names in `reply_to` where the response goes —
 * the client receiver's target address ($management) or its link name ($cbs). The response is
 * sent on the matching server-side sender of the same connection.
 */
import type { Connection, Delivery, Message, Receiver, Sender } from 'rhea';
import type { AmqpMessage } from './message-codec';

export type RequestHandler = (request: AmqpMessage) => AmqpMessage;

/** Serves requests arriving on `requestLink` (a server-side receiver whose target is the node). */
export function serveRequests(requestLink: Receiver, nodeAddress: string, handle: RequestHandler): void {
  requestLink.on('message', (context: { message?: Message; delivery?: Delivery }) => {
    const { message, delivery } = context;
    if (message === undefined) return;
    delivery?.accept();
    const response = handle(message as unknown as AmqpMessage);
    const replyLink = findReplyLink(requestLink.connection, nodeAddress, message['reply_to']);
    // No reply link: the client went away; its request times out on its side.
    replyLink?.send(response as unknown as Message);
  });
}

function findReplyLink(connection: Connection, nodeAddress: string, replyTo: unknown): Sender | undefined {
  const fromNode = (link: Sender): boolean => link.source?.address === nodeAddress && link.is_open();
  return (
    connection.find_sender(
      (link: Sender) => fromNode(link) && (link.target?.address === replyTo || link.name === replyTo),
    ) ?? (replyTo === undefined ? connection.find_sender(fromNode) : undefined)
  );
}
