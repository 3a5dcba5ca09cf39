/**
 * devhost's Service Bus triggers when the namespace goes away, as on Azure: the host stops promptly
 * even though the emulator stopped first (the receivers' close does not wait on a dead connection),
 * and while the host runs, a trigger whose emulator stops and comes back on the same endpoint
 * reconnects and keeps receiving.
 */
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { DEFAULT_CLIENT_RETRY_OPTIONS } from '../../../devhost/common/host-config';
import { retryDelayMs } from '../../../devhost/servicebus/triggers/service-bus-listeners';
import { createServiceBusSupport } from '../../../devhost/servicebus/triggers/service-bus-support';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../devhost/servicebus/emulator';

const APP_DIR = join(__dirname, '..', 'fixtures', 'servicebus-app');
const env = appProcessEnv();
const saved = { connection: env.ServiceBusConnection, queue: env.WORK_QUEUE };

/** Far more than a prompt stop needs; a hang fails the test instead of timing it out. */
const STOP_BOUND_MS = 20_000;

const CONFIG = {
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
};

interface Received {
  readonly received: Array<{ fn: string; messages?: unknown[]; metadata: Record<string, unknown> }>;
}

let emulator: ServiceBusEmulator | undefined;
let host: DevHost | undefined;
let logs: string[];

async function startEmulator(port = 0): Promise<ServiceBusEmulator> {
  emulator = await startServiceBusEmulator({ port, config: CONFIG });
  return emulator;
}

async function startTriggerHost(connectionString: string): Promise<DevHost> {
  env.ServiceBusConnection = connectionString;
  env.WORK_QUEUE = 'work';
  logs = [];
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: (line) => logs.push(line),
    parts: [createServiceBusSupport()],
  });
  return host;
}

async function send(connectionString: string, entity: string, messageId: string): Promise<void> {
  const client = new ServiceBusClient(connectionString, { retryOptions: { maxRetries: 1 } });
  try {
    const sender = client.createSender(entity);
    await sender.sendMessages({ body: { id: messageId }, messageId });
  } finally {
    await client.close();
  }
}

/** Resolves when `promise` settles, or rejects naming `what` once `ms` has passed. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `done` holds (bounded by count, never asserted on time). */
async function until<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, polls = 600): Promise<T> {
  for (let poll = 0; poll < polls; poll += 1) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not reached: ${JSON.stringify(await probe())}`);
}

async function receivedIds(running: DevHost): Promise<string[]> {
  const report = (await (await fetch(`${running.apiUrl}/received`)).json()) as Received;
  return report.received.flatMap((entry) =>
    entry.fn === 'onWork'
      ? [entry.metadata.messageId as string]
      : ((entry.metadata.messageIdArray as string[] | undefined) ?? []),
  );
}

afterEach(async () => {
  await host?.stop();
  await emulator?.stop();
  host = undefined;
  emulator = undefined;
});

afterAll(() => {
  for (const [name, value] of [
    ['ServiceBusConnection', saved.connection],
    ['WORK_QUEUE', saved.queue],
  ] as const) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
});

describe('devhost Service Bus triggers across an emulator outage', () => {
  it('stops the host promptly after the emulator has stopped', async () => {
    const running = await startEmulator();
    const devhost = await startTriggerHost(running.connectionString);
    await send(running.connectionString, 'work', 'before-stop');
    await until(
      () => receivedIds(devhost),
      (ids) => ids.includes('before-stop'),
    );
    await running.stop();
    emulator = undefined;
    // Both kinds of trigger notice the lost connection before the host is asked to stop.
    await until(
      () => logs,
      (lines) =>
        ['onWork', 'onReplies'].every((fn) =>
          lines.some((line) => line.includes(`${fn}: Service Bus receive error`)),
        ),
    );
    await within(STOP_BOUND_MS, 'host.stop()', devhost.stop());
    host = undefined;
  }, 60_000);

  it('stops the host promptly when the emulator stopped a moment before', async () => {
    const running = await startEmulator();
    const devhost = await startTriggerHost(running.connectionString);
    await running.stop();
    emulator = undefined;
    await within(STOP_BOUND_MS, 'host.stop()', devhost.stop());
    host = undefined;
  }, 60_000);

  it('keeps receiving on queue and topic triggers once the emulator is back', async () => {
    const first = await startEmulator();
    const devhost = await startTriggerHost(first.connectionString);
    await send(first.connectionString, 'work', 'before-outage');
    await until(
      () => receivedIds(devhost),
      (ids) => ids.includes('before-outage'),
    );
    await first.stop();
    emulator = undefined;
    await until(
      () => logs,
      (lines) =>
        ['onWork', 'onReplies'].every((fn) =>
          lines.some((line) => line.includes(`${fn}: Service Bus receive error`)),
        ),
    );
    const second = await startEmulator(first.port);
    await send(second.connectionString, 'work', 'after-outage-queue');
    await send(second.connectionString, 'replies', 'after-outage-topic');
    await until(
      () => receivedIds(devhost),
      (ids) => ids.includes('after-outage-queue') && ids.includes('after-outage-topic'),
      1200,
    );
  }, 120_000);

  it('spaces receive retries as the exponential client retry policy of the extension does', () => {
    const delay = (failures: number): number => retryDelayMs(DEFAULT_CLIENT_RETRY_OPTIONS, failures);
    expect([1, 2, 3, 4].map(delay)).toEqual([800, 1600, 3200, 6400]);
    expect(delay(20)).toBe(60_000);
    const fixed = { ...DEFAULT_CLIENT_RETRY_OPTIONS, mode: 'fixed' as const, delayMs: 2_000 };
    expect([1, 2, 5].map((failures) => retryDelayMs(fixed, failures))).toEqual([2_000, 2_000, 2_000]);
  });
});
