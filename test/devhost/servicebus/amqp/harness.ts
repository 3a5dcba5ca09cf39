/**
 * Test harness for the AMQP layer with a fixed set of entities (a queue, and a topic with one
 * subscription), each harness with its own names: the topology harness (real broker core on a
 * ManualClock, real AMQP listener on a free loopback port, real @azure/service-bus client) over
 * that configuration. Time moves only through `clock.advance` + `broker.tick()`.
 */
import { startTopologyHarness, uniqueSuffix, type TopologyHarness } from './topology-harness';

export interface Harness extends TopologyHarness {
  readonly queue: string;
  readonly topic: string;
  readonly subscription: string;
  /** The subscription's path as a receiver addresses it. */
  readonly subscriptionPath: string;
}

export async function startHarness(): Promise<Harness> {
  const suffix = uniqueSuffix();
  const queue = `orders-${suffix}`;
  const topic = `events-${suffix}`;
  const subscription = `audit-${suffix}`;
  const harness = await startTopologyHarness({
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
  });
  return {
    ...harness,
    queue,
    topic,
    subscription,
    subscriptionPath: `${topic}/Subscriptions/${subscription}`,
  };
}
