/**
 * Like `harness.ts`, but over a topology the test describes (a Config.json document), for tests that
 * need entity properties of their own: the real broker core on a ManualClock, a real AMQP listener
 * on a free loopback port with its ticker off, and a real @azure/service-bus client with retries off.
 * Every call gets a fresh `suffix` for unique entity names. Time moves only through `advance`, which
 * moves the clock and applies it with `broker.tick()`.
 */
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { createBroker } from '../../../../devhost/servicebus/broker/broker';
import { ManualClock } from '../../../../devhost/common/clock';
import { parseEmulatorConfig, type EmulatorConfig } from '../../../../devhost/servicebus/broker/config';
import { startServiceBusServer, type ServiceBusServer } from '../../../../devhost/servicebus/amqp/server';

export interface TopologyHarness {
  readonly broker: ReturnType<typeof createBroker>;
  readonly clock: ManualClock;
  readonly server: ServiceBusServer;
  readonly client: ServiceBusClient;
  /** Moves the clock by `ms` and lets the broker apply it (lock expiry, TTL, duplicate window). */
  advance(ms: number): void;
  close(): Promise<void>;
}

let counter = 0;

/** A suffix no other harness in this process uses. */
export function uniqueSuffix(): string {
  counter += 1;
  return `${process.pid}-${counter}`;
}

/** A Config.json document with one namespace holding these queues and topics. */
export function namespaceConfig(entities: {
  readonly Queues?: NonNullable<EmulatorConfig['UserConfig']['Namespaces'][number]['Queues']>;
  readonly Topics?: NonNullable<EmulatorConfig['UserConfig']['Namespaces'][number]['Topics']>;
}): EmulatorConfig {
  return {
    UserConfig: {
      Namespaces: [{ Name: 'sbemulatorns', Queues: entities.Queues ?? [], Topics: entities.Topics ?? [] }],
      Logging: { Type: 'File' },
    },
  };
}

export async function startTopologyHarness(config: EmulatorConfig): Promise<TopologyHarness> {
  // A clock that starts at the real time, so lockedUntil and expiry values look sane to the SDK.
  const clock = new ManualClock(new Date());
  const broker = createBroker({ clock, topology: parseEmulatorConfig(config) });
  const server = await startServiceBusServer({ broker, port: 0, tickIntervalMs: 0 });
  const client = new ServiceBusClient(server.connectionString, {
    retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
  });
  return {
    broker,
    clock,
    server,
    client,
    advance: (ms) => {
      clock.advance(ms);
      broker.tick();
    },
    close: async () => {
      await client.close();
      await server.stop();
      broker.close();
    },
  };
}

/** Receives exactly one message, or fails. */
export async function receiveOne(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
  if (message === undefined) throw new Error(`no message received from ${receiver.entityPath}`);
  return message;
}

/**
 * Receives until `count` messages arrived or a receive comes back empty, then browses what is left
 * (give it a receive-and-delete receiver): `received` plus `left === 0` means "exactly these".
 */
export async function drain(
  receiver: ServiceBusReceiver,
  count: number,
): Promise<{ received: ServiceBusReceivedMessage[]; left: number }> {
  const received: ServiceBusReceivedMessage[] = [];
  while (received.length < count) {
    const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1000 });
    if (batch.length === 0) break;
    received.push(...batch);
  }
  const left = (await receiver.peekMessages(100)).length;
  await receiver.close();
  return { received, left };
}
