/**
 * ServiceBusDirectivePublisher with the real `@azure/service-bus` SDK against devhost's Service Bus
 * emulator, started here on a free loopback port with the Lucius topology (two lanes, the default
 * entity names, each emulator private to its tests): the shared contract, then what only Service Bus
 * has (message properties seen by a platform's receiver, duplicate detection, a missing topic, the
 * client from settings).
 */
import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { parseSettings, type Settings } from '../../../src/config/settings';
import type { Directive } from '../../../src/contracts/directive';
import { buildCancelDirective } from '../../../src/contracts/build-directive';
import { DirectivePublishError } from '../../../src/messaging/errors';
import { createServiceBusClient } from '../../../src/messaging/service-bus-client';
import { ServiceBusDirectivePublisher } from '../../../src/messaging/service-bus-directive-publisher';
import { PLATFORM_SUBSCRIPTIONS } from '../../../src/messaging/topology';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../devhost/servicebus/emulator';
import { luciusTopology } from '../../../launcher/lucius-topology';
import { uniqueToken } from '../../support/unique';
import { directive, job, REPLY_PREFIX, step, T0 } from '../../unit/messaging/fixtures';
import { describeDirectivePublisherContract } from './directive-publisher.contract';

const LANE_COUNT = 2;
/** The SDK fails fast instead of retrying, so a broken case fails the test instead of hanging it. */
const CLIENT_OPTIONS = { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } };

/** Settings as the app would parse them, pointed at `emulator`. */
function settingsFor(emulator: ServiceBusEmulator): Settings {
  return parseSettings({
    LUCIUS_STORAGE_BACKEND: 'memory',
    LUCIUS_LANE_COUNT: String(LANE_COUNT),
    ServiceBusConnection: emulator.connectionString,
  });
}

async function startEmulator(
  settings: Settings['serviceBus'] = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' }).serviceBus,
) {
  return startServiceBusEmulator({ port: 0, config: luciusTopology({ ...settings, laneCount: LANE_COUNT }) });
}

/** Everything waiting on a subscription, without taking it (peek does not wait for messages). */
async function waiting(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage[]> {
  return receiver.peekMessages(100);
}

describeDirectivePublisherContract('ServiceBusDirectivePublisher', async () => {
  const emulator = await startEmulator();
  const client = new ServiceBusClient(emulator.connectionString, CLIENT_OPTIONS);
  const { topicPrefix } = settingsFor(emulator).serviceBus;
  const publisher = new ServiceBusDirectivePublisher({ client, topicPrefix });
  return {
    publisher,
    delivered: async (lane, stepType, jobId) => {
      const receiver = client.createReceiver(`${topicPrefix}${lane}`, PLATFORM_SUBSCRIPTIONS[stepType]);
      try {
        return (await waiting(receiver))
          .map((message) => message.body as Directive)
          .filter((body) => body.job_id === jobId);
      } finally {
        await receiver.close();
      }
    },
    close: async () => {
      await publisher.close();
      await client.close();
      await emulator.stop();
    },
  };
});

describe('ServiceBusDirectivePublisher on Service Bus', () => {
  let emulator: ServiceBusEmulator;
  let settings: Settings;
  let client: ServiceBusClient;
  let publisher: ServiceBusDirectivePublisher;

  beforeAll(async () => {
    emulator = await startEmulator();
    settings = settingsFor(emulator);
    client = new ServiceBusClient(emulator.connectionString, CLIENT_OPTIONS);
    publisher = new ServiceBusDirectivePublisher({ client, topicPrefix: settings.serviceBus.topicPrefix });
  });

  afterAll(async () => {
    await publisher?.close();
    await client?.close();
    await emulator?.stop();
  });

  /** Takes every message waiting on a subscription (peek-lock, completed), and checks none is left. */
  async function takeAll(topic: string, subscription: string): Promise<ServiceBusReceivedMessage[]> {
    const receiver = client.createReceiver(topic, subscription);
    try {
      const expected = (await waiting(receiver)).length;
      const taken: ServiceBusReceivedMessage[] = [];
      while (taken.length < expected) {
        const batch = await receiver.receiveMessages(expected - taken.length, { maxWaitTimeInMs: 5000 });
        if (batch.length === 0) break;
        for (const message of batch) await receiver.completeMessage(message);
        taken.push(...batch);
      }
      expect(taken).toHaveLength(expected);
      return taken;
    } finally {
      await receiver.close();
    }
  }

  it('delivers an OCR directive for lane 1 to global-bus-p1 / distributed-ocr only, with its message properties', async () => {
    const jobId = `job-${uniqueToken()}`;
    const document = directive({ jobId, type: 'OCR', lane: 1, attemptNo: 1 });

    await publisher.publish(document);

    const [message, ...others] = await takeAll('global-bus-p1', 'distributed-ocr');
    expect(others).toEqual([]);
    expect(message?.body).toEqual(document);
    expect(message).toMatchObject({
      messageId: `${jobId}:ocr:1`,
      correlationId: jobId,
      subject: 'directive',
      replyTo: 'global-bus-replies-p1',
      contentType: 'application/json',
      applicationProperties: {
        step_type: 'OCR',
        tenant_id: 't1',
        job_id: jobId,
        step_id: 'ocr',
        attempt_no: 1,
        lease_id: document.lease_id,
        lane: 1,
        schema_version: 'v1',
      },
    });
    for (const [topic, subscription] of [
      ['global-bus-p1', 'vector-ingestion'],
      ['global-bus-p1', 'semantic-intelligence'],
      ['global-bus-p0', 'distributed-ocr'],
      ['global-bus-p0', 'vector-ingestion'],
      ['global-bus-p0', 'semantic-intelligence'],
    ] as const) {
      expect(await takeAll(topic, subscription)).toEqual([]);
    }
  });

  it('lets duplicate detection drop a re-publish of the same attempt, but not its cancel', async () => {
    const jobId = `job-${uniqueToken()}`;
    const document = directive({ jobId, type: 'EMBEDDING', lane: 0, attemptNo: 2 });
    const cancel = buildCancelDirective({
      job: job(jobId),
      step: step(jobId, 'EMBEDDING', { lane: 0 }),
      attempt: { attemptNo: 2, leaseId: document.lease_id },
      replyPrefix: REPLY_PREFIX,
      issuedAt: T0,
    });

    await publisher.publish(document);
    await publisher.publish(document);
    await publisher.publish(cancel);
    await publisher.publish(cancel);

    const received = await takeAll('global-bus-p0', 'vector-ingestion');
    expect(received.map((m) => [m.messageId, m.subject])).toEqual([
      [`${jobId}:embedding:2`, 'directive'],
      [`${jobId}:embedding:2:cancel`, 'cancel'],
    ]);
  });

  it('fails with a retryable directive_publish_failed when the lane topic does not exist, and keeps working', async () => {
    const jobId = `job-${uniqueToken()}`;
    const lost = directive({ jobId, type: 'OCR', lane: 5 });

    for (let round = 0; round < 2; round += 1) {
      const error = await publisher.publish(lost).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DirectivePublishError);
      expect(error).toMatchObject({
        code: 'directive_publish_failed',
        fault: 'system',
        retryable: true,
        details: {
          topic: 'global-bus-p5',
          message_id: `${jobId}:ocr:1`,
          service_bus_code: 'MessagingEntityNotFound',
        },
      });
      expect(isServiceBusError((error as DirectivePublishError).cause)).toBe(true);
    }

    const delivered = directive({ jobId, type: 'OCR', lane: 1 });
    await publisher.publish(delivered);
    expect((await takeAll('global-bus-p1', 'distributed-ocr')).map((m) => m.body)).toEqual([delivered]);
  });

  it('connects from settings with a client of its own, and closes it', async () => {
    const own = ServiceBusDirectivePublisher.connect(settings.serviceBus, CLIENT_OPTIONS);
    const document = directive({ jobId: `job-${uniqueToken()}`, type: 'SIS', lane: 1 });

    await own.publish(document);
    await own.close();

    expect((await takeAll('global-bus-p1', 'semantic-intelligence')).map((m) => m.body)).toEqual([document]);
    await expect(own.publish(directive({ type: 'SIS', lane: 1 }))).rejects.toBeInstanceOf(
      DirectivePublishError,
    );
  });

  it('refuses to connect without a Service Bus connection', () => {
    const { connection: _none, ...unconfigured } = settings.serviceBus;
    expect(() => ServiceBusDirectivePublisher.connect(unconfigured)).toThrow(/ServiceBusConnection/);
  });
});

describe('createServiceBusClient', () => {
  it('reaches a namespace with a managed identity when settings name only the namespace', async () => {
    const { serviceBus } = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'memory',
      ServiceBusConnection__fullyQualifiedNamespace: 'lucius-test.servicebus.windows.net',
      ServiceBusConnection__clientId: '00000000-0000-0000-0000-000000000001',
    });
    expect(serviceBus.connection?.kind).toBe('identity');
    const client = createServiceBusClient(serviceBus.connection!, CLIENT_OPTIONS);
    try {
      expect(client.fullyQualifiedNamespace).toBe('lucius-test.servicebus.windows.net');
    } finally {
      await client.close();
    }
  });
});

describe('ServiceBusDirectivePublisher: the directive expires at its ACK deadline', () => {
  it('is gone from its subscription after the deadline, so no worker can take it late', async () => {
    const emulator = await startEmulator();
    const client = new ServiceBusClient(emulator.connectionString, CLIENT_OPTIONS);
    const publisher = new ServiceBusDirectivePublisher({
      client,
      topicPrefix: settingsFor(emulator).serviceBus.topicPrefix,
    });
    const receiver = client.createReceiver('global-bus-p0', PLATFORM_SUBSCRIPTIONS.EMBEDDING);
    try {
      const jobId = `job-${uniqueToken()}`;
      const issued = Date.now();
      const document = {
        ...directive({ jobId, type: 'EMBEDDING', lane: 0, attemptNo: 1 }),
        issued_at: new Date(issued).toISOString(),
        ack_deadline: new Date(issued + 5000).toISOString(),
      };
      await publisher.publish(document);
      const mine = (messages: ServiceBusReceivedMessage[]) =>
        messages.filter((m) => m.correlationId === jobId);
      const [published] = mine(await waiting(receiver));
      expect(published?.timeToLive).toBe(5000);

      // Past the deadline (and the broker's next pass over its entities), a worker receives nothing.
      while (Date.now() < Date.parse(document.ack_deadline) + 1500) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(mine(await receiver.receiveMessages(10, { maxWaitTimeInMs: 1000 }))).toEqual([]);
    } finally {
      await receiver.close();
      await publisher.close();
      await client.close();
      await emulator.stop();
    }
  });
});
