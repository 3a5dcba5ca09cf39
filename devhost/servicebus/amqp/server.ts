/**
 * The AMQP 1.0 listener of devhost's Service Bus emulator: what @azure/service-bus connects to
 * with a connection string carrying `UseDevelopmentEmulator=true` (plain TCP, no TLS; the port is
 * taken from the Endpoint, 5672 when absent). SASL ANONYMOUS, then any CBS token is accepted.
 *
 * Links are routed by address when the client attaches:
 *  - `$cbs`                  → cbs-node.ts (request/response)
 *  - `<entity>/$management`  → management-node.ts (request/response)
 *  - client sender → entity  → send-link.ts
 *  - client receiver ← entity → receive-link.ts
 * An unknown entity is refused at attach with `amqp:not-found` ("The messaging entity '…' could
 * not be found."), which the SDK reports as code `MessagingEntityNotFound`. Session receivers (the
 * `com.microsoft:session-filter` source filter) are refused with `amqp:not-implemented`.
 *
 * Time: the broker applies lock expiry, TTL and scheduled enqueue in `tick()`; the server calls it
 * every `tickIntervalMs` (default 1000; 0 = never, for tests that drive time themselves).
 */
import type { Server, Socket } from 'node:net';
import { create_container, type Connection, type Receiver, type Sender } from 'rhea';
import type { Broker } from '../broker/broker-api';
import { handleCbsRequest } from './cbs-node';
import { CBS_ADDRESS, parseNodeAddress } from './entity-address';
import { entityNotFoundError, type WireError } from './errors';
import { LockTokens } from './lock-tokens';
import { handleManagementRequest } from './management-node';
import { serveReceiveLink } from './receive-link';
import { serveRequests } from './request-response';
import { MAX_MESSAGE_SIZE, serveSendLink } from './send-link';

export interface ServiceBusServerOptions {
  readonly broker: Broker;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** How often `broker.tick()` runs; 0 disables it. Default 1000 ms. */
  readonly tickIntervalMs?: number;
}

export interface ServiceBusServer {
  readonly host: string;
  readonly port: number;
  /** For `new ServiceBusClient(connectionString)`. */
  readonly connectionString: string;
  stop(): Promise<void>;
}

const SESSION_FILTER = 'com.microsoft:session-filter';

/** rhea link fields this module sets before the attach reply goes out (not in rhea's typings). */
interface LinkInternals {
  readonly local: {
    readonly attach: { snd_settle_mode?: number; rcv_settle_mode?: number; max_message_size?: number };
  };
}

export async function startServiceBusServer(options: ServiceBusServerOptions): Promise<ServiceBusServer> {
  const { broker } = options;
  const host = options.host ?? '127.0.0.1';
  const locks = new LockTokens();
  const container = create_container({
    id: 'devhost-servicebus',
    // Every delivery is settled explicitly, from the broker's answer.
    autoaccept: false,
    // Abandon (modified) and defer (modified, undeliverable-here) must not also arrive as "released".
    treat_modified_as_released: false,
  });
  const connections = new Set<Connection>();
  const stopLink = new Map<Sender, () => void>();

  const refuse = (link: Sender | Receiver, error: WireError): void => {
    link.close(error);
  };

  container.on('connection_open', (context: { connection: Connection }) => {
    connections.add(context.connection);
  });
  const forgetConnection = (context: { connection: Connection }): void => {
    connections.delete(context.connection);
    for (const [sender, stop] of stopLink) {
      if (sender.connection === context.connection) {
        stop();
        stopLink.delete(sender);
      }
    }
  };
  container.on('connection_close', forgetConnection);
  container.on('disconnected', forgetConnection);
  // Client-side link/session errors (a client detaching with an error) are the client's business.
  container.on('error', () => undefined);
  container.on('connection_error', () => undefined);
  container.on('protocol_error', () => undefined);

  // The client attached a SENDER: we receive (requests to a node, or messages for an entity).
  container.on('receiver_open', (context: { receiver: Receiver }) => {
    const receiver = context.receiver;
    const address = receiver.target?.address ?? '';
    receiver.set_target({ address });
    const node = parseNodeAddress(address);
    switch (node.kind) {
      case 'cbs':
        serveRequests(receiver, CBS_ADDRESS, handleCbsRequest);
        return;
      case 'management':
        if (!broker.exists(node.entityPath)) return refuse(receiver, entityNotFoundError(node.entityPath));
        serveRequests(receiver, address, (request) =>
          handleManagementRequest({ broker, locks, entityPath: node.entityPath }, request),
        );
        return;
      case 'entity':
        if (!broker.exists(node.entityPath)) return refuse(receiver, entityNotFoundError(node.entityPath));
        (receiver as unknown as LinkInternals).local.attach.max_message_size = MAX_MESSAGE_SIZE;
        serveSendLink(receiver, node.entityPath, broker);
        return;
    }
  });

  // The client attached a RECEIVER: we send (responses from a node, or an entity's messages).
  container.on('sender_open', (context: { sender: Sender }) => {
    const sender = context.sender;
    const address = sender.source?.address ?? '';
    const attach = (sender as unknown as LinkInternals).local.attach;
    attach.snd_settle_mode = sender.snd_settle_mode;
    attach.rcv_settle_mode = sender.rcv_settle_mode;
    const node = parseNodeAddress(address);
    if (node.kind !== 'cbs' && !broker.exists(node.entityPath)) {
      return refuse(sender, entityNotFoundError(node.entityPath));
    }
    sender.set_source({ address });
    if (sender.target !== undefined) sender.set_target(sender.target);
    if (node.kind !== 'entity') return;
    const filter = sender.source?.filter as Record<string, unknown> | undefined;
    if (filter !== undefined && filter !== null && SESSION_FILTER in filter) {
      return refuse(sender, {
        condition: 'amqp:not-implemented',
        description: `devhost does not support session receivers ('${node.entityPath}').`,
      });
    }
    stopLink.set(sender, serveReceiveLink(sender, node.entityPath, { broker, locks }));
  });
  container.on('sender_close', (context: { sender: Sender }) => {
    stopLink.get(context.sender)?.();
    stopLink.delete(context.sender);
  });

  const server: Server = container.listen({ port: options.port ?? 0, host });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The AMQP listener has no TCP port.');
  const port = address.port;

  const tickIntervalMs = options.tickIntervalMs ?? 1000;
  const ticker = tickIntervalMs > 0 ? setInterval(() => broker.tick(), tickIntervalMs) : undefined;
  ticker?.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (ticker !== undefined) clearInterval(ticker);
      for (const stopServing of stopLink.values()) stopServing();
      stopLink.clear();
      for (const connection of connections) connection.close();
      connections.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Let the close frames go out, then drop whatever clients keep open.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    })();
    return stopping;
  };

  return {
    host,
    port,
    connectionString:
      `Endpoint=sb://${host}:${port};SharedAccessKeyName=RootManageSharedAccessKey;` +
      'SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    stop,
  };
}
