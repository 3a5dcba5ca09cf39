/**
 * Test harness for the AMQP layer: the real broker core (ManualClock, in-memory store) behind a real
 * AMQP listener on a free loopback port, and a real @azure/service-bus client. Every harness has
 * its own entity names. Time moves only through `clock.advance` + `broker.tick()`: the server's
 * own ticker is off.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { createBroker } from '../../../../devhost/servicebus/broker/broker';
import { ManualClock } from '../../../../devhost/servicebus/broker/clock';
import { parseEmulatorConfig } from '../../../../devhost/servicebus/broker/config';
import { startServiceBusServer, type ServiceBusServer } from '../../../../devhost/servicebus/amqp/server';

export interface Harness {
  readonly broker: ReturnType<typeof createBroker>;
  readonly clock: ManualClock;
  readonly server: ServiceBusServer;
  readonly client: ServiceBusClient;
  readonly queue: string;
  readonly topic: string;
  readonly subscription: string;
  /** The subscription's path as a receiver addresses it. */
  readonly subscriptionPath: string;
  close(): Promise<void>;
}

let counter = 0;

export async function startHarness(): Promise<Harness> {
  counter += 1;
  const suffix = `${process.pid}-${counter}`;
  const queue = `orders-${suffix}`;
  const topic = `events-${suffix}`;
  const subscription = `audit-${suffix}`;
  // A clock that starts at the real time, so lockedUntil values look sane to the SDK.
  const clock = new ManualClock(new Date());
  const broker = createBroker({
    clock,
    topology: parseEmulatorConfig({
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Queues: [{ Name: queue, Properties: { LockDuration: 'PT1M', MaxDeliveryCount: 5 } }],
            Topics: [
              { Name: topic, Subscriptions: [{ Name: subscription, Properties: { LockDuration: 'PT1M' } }] },
            ],
          },
        ],
        Logging: { Type: 'File' },
      },
    }),
  });
  const server = await startServiceBusServer({ broker, port: 0, tickIntervalMs: 0 });
  const client = new ServiceBusClient(server.connectionString, {
    retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
  });
  return {
    broker,
    clock,
    server,
    client,
    queue,
    topic,
    subscription,
    subscriptionPath: `${topic}/Subscriptions/${subscription}`,
    close: async () => {
      await client.close();
      await server.stop();
      broker.close();
    },
  };
}
