/**
 * devhost's Service Bus triggers against the emulator, end to end: messages sent with the real
 * `@azure/service-bus` SDK reach `app.serviceBusQueue` / `app.serviceBusTopic` functions of a fixture
 * app hosted by devhost; a function that throws gets the message again until the queue's max
 * delivery count dead-letters it.
 */
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { createServiceBusSupport } from '../../../devhost/servicebus/triggers/service-bus-support';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../devhost/servicebus/emulator';

const APP_DIR = join(__dirname, '..', 'fixtures', 'servicebus-app');
const env = appProcessEnv();
const saved = { connection: env.ServiceBusConnection, queue: env.WORK_QUEUE };

let emulator: ServiceBusEmulator;
let host: DevHost;
let client: ServiceBusClient;

interface Received {
  readonly received: Array<{
    fn: string;
    message?: unknown;
    messages?: unknown[];
    metadata: Record<string, unknown>;
  }>;
  readonly attempts: Record<string, number>;
}

async function report(): Promise<Received> {
  return (await (await fetch(`${host.apiUrl}/received`)).json()) as Received;
}

/** Polls the fixture's report until `done` holds (bounded by count, never asserted on time). */
async function until(done: (r: Received) => boolean): Promise<Received> {
  for (let poll = 0; poll < 300; poll += 1) {
    const r = await report();
    if (done(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not reached: ${JSON.stringify(await report())}`);
}

beforeAll(async () => {
  emulator = await startServiceBusEmulator({
    port: 0,
    config: {
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Queues: [{ Name: 'work', Properties: { MaxDeliveryCount: 3, LockDuration: 'PT30S' } }],
            Topics: [{ Name: 'replies', Subscriptions: [{ Name: 'lucius-invoker' }] }],
          },
        ],
        Logging: { Type: 'Console' },
      },
    },
  });
  env.ServiceBusConnection = emulator.connectionString;
  env.WORK_QUEUE = 'work';
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: () => undefined,
    parts: [createServiceBusSupport()],
  });
  client = new ServiceBusClient(emulator.connectionString, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
});

afterAll(async () => {
  await client?.close();
  await host?.stop();
  await emulator?.stop();
  for (const [name, value] of [
    ['ServiceBusConnection', saved.connection],
    ['WORK_QUEUE', saved.queue],
  ] as const) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
});

describe('devhost Service Bus triggers', () => {
  it('hosts the queue and topic functions, resolving %SETTING% names', () => {
    expect(host.functions.filter((fn) => fn.kind === 'serviceBus').map((fn) => fn.name)).toEqual([
      'onWork',
      'onReplies',
    ]);
  });

  it('delivers a queue message with its body and trigger metadata, and completes it', async () => {
    const sender = client.createSender('work');
    await sender.sendMessages({
      body: { hello: 'world' },
      messageId: 'm-1',
      correlationId: 'job-1',
      subject: 'directive',
      applicationProperties: { step_type: 'OCR' },
    });
    await sender.close();
    const r = await until((x) =>
      x.received.some((e) => e.fn === 'onWork' && (e.metadata.messageId as string) === 'm-1'),
    );
    const entry = r.received.find((e) => e.metadata.messageId === 'm-1');
    expect(entry?.message).toEqual({ hello: 'world' });
    expect(entry?.metadata).toMatchObject({
      messageId: 'm-1',
      correlationId: 'job-1',
      subject: 'directive',
      deliveryCount: 1,
      applicationProperties: { step_type: 'OCR' },
    });
    expect(typeof entry?.metadata.enqueuedTimeUtc).toBe('string');
    const peek = client.createReceiver('work');
    expect(await peek.peekMessages(10)).toHaveLength(0);
    await peek.close();
  });

  it('retries a failing message and dead-letters it after the max delivery count', async () => {
    const sender = client.createSender('work');
    await sender.sendMessages({ body: { poison: true }, messageId: 'poison-1' });
    await sender.close();
    await until((x) => (x.attempts['poison-1'] ?? 0) >= 3);
    const dlq = client.createReceiver('work', {
      subQueueType: 'deadLetter',
      receiveMode: 'receiveAndDelete',
    });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await dlq.close();
    expect(dead?.messageId).toBe('poison-1');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    expect((await report()).attempts['poison-1']).toBe(3);
  });

  it('delivers topic messages to a cardinality-many function as a batch with array metadata', async () => {
    const sender = client.createSender('replies');
    await sender.sendMessages([
      { body: 'first', messageId: 'r-1' },
      { body: 'second', messageId: 'r-2' },
    ]);
    await sender.close();
    const r = await until(
      (x) => x.received.filter((e) => e.fn === 'onReplies').flatMap((e) => e.messages ?? []).length >= 2,
    );
    const batches = r.received.filter((e) => e.fn === 'onReplies');
    expect(batches.flatMap((e) => e.messages)).toEqual(['first', 'second']);
    expect(batches.flatMap((e) => e.metadata.messageIdArray as string[])).toEqual(['r-1', 'r-2']);
  });
});
