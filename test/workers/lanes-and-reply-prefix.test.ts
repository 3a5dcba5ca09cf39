/**
 * The demo workers' `lanes` and `replyPrefix` options, against the Service Bus emulator (a free
 * loopback port), nothing mocked. The emulator holds Lucius's topology twice over for the replies:
 * the default reply topics (`global-bus-replies-p{lane}`) and a partner's (`partner-replies-p{lane}`),
 * each with Lucius's `lucius-invoker` subscription, so a test can see which one a reply went to.
 *
 * Waits are on the workers' settlement events and on replies arriving, never on elapsed time:
 * replies are sent before the directive is settled, so once it is, any reply sent is on its topic.
 */
import { randomUUID } from 'node:crypto';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { validateDirective, type StepDirective } from '../../src/contracts/directive';
import { toDirectiveMessage } from '../../src/messaging/directive-message';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../devhost/servicebus/emulator';
import { luciusEmulatorConfig } from '../../launcher/lucius-topology';
import { startDemoWorkers, type DemoWorkers, type SettledEvent } from '../../workers/demo-workers';
import { WorkerConfigError } from '../../workers/errors';
import { uniqueToken } from '../support/unique';

const PARTNER_REPLY_PREFIX = 'partner-replies-p';
const LUCIUS_REPLY_PREFIX = 'global-bus-replies-p';
const SUBSCRIPTION = 'lucius-invoker';

let emulator: ServiceBusEmulator;
let client: ServiceBusClient;
let workers: DemoWorkers | undefined;

/** Lucius's topology with the partner's reply topics added. */
function emulatorConfig() {
  const lucius = luciusEmulatorConfig({});
  const partner = luciusEmulatorConfig({ LUCIUS_SERVICEBUS_REPLY_PREFIX: PARTNER_REPLY_PREFIX });
  const [namespace] = lucius.UserConfig.Namespaces;
  const [partnerNamespace] = partner.UserConfig.Namespaces;
  if (namespace === undefined || partnerNamespace === undefined)
    throw new Error('no namespace in the config');
  const partnerReplyTopics = (partnerNamespace.Topics ?? []).filter((topic) =>
    topic.Name.startsWith(PARTNER_REPLY_PREFIX),
  );
  return {
    ...lucius,
    UserConfig: {
      ...lucius.UserConfig,
      Namespaces: [{ ...namespace, Topics: [...(namespace.Topics ?? []), ...partnerReplyTopics] }],
    },
  };
}

beforeAll(async () => {
  emulator = await startServiceBusEmulator({ port: 0, config: emulatorConfig() });
  client = new ServiceBusClient(emulator.connectionString, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
});

afterEach(async () => {
  await workers?.stop();
  workers = undefined;
});

afterAll(async () => {
  await client?.close();
  await emulator?.stop();
});

/** Settlement events, awaitable by lease (past ones count). */
class Settlements {
  readonly events: SettledEvent[] = [];
  private readonly waiters = new Map<string, (event: SettledEvent) => void>();

  add(event: SettledEvent): void {
    this.events.push(event);
    if (event.leaseId !== undefined) this.waiters.get(event.leaseId)?.(event);
  }

  waitFor(leaseId: string): Promise<SettledEvent> {
    const seen = this.events.find((event) => event.leaseId === leaseId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(
        () => reject(new Error(`no settlement of ${leaseId}; seen ${JSON.stringify(this.events)}`)),
        15_000,
      );
      this.waiters.set(leaseId, (event) => {
        clearTimeout(guard);
        resolve(event);
      });
    });
  }
}

function directive(lane: number, replyTo = `${LUCIUS_REPLY_PREFIX}${lane}`): StepDirective {
  const issuedAt = new Date();
  const document: StepDirective = {
    schema_version: 'v1',
    kind: 'directive',
    job_id: `job-${uniqueToken()}`,
    tenant_id: 'tenant-demo',
    step_id: 'ocr',
    step_index: 0,
    step_type: 'OCR',
    attempt_no: 1,
    lease_id: randomUUID(),
    lane,
    reply_to: replyTo,
    issued_at: issuedAt.toISOString(),
    input_ref: 'https://blob.example/in/doc.pdf',
    output_ref: 'https://blob.example/out/job',
    payload: { output_format: 'TEXT' },
    ack_deadline: new Date(issuedAt.getTime() + 30_000).toISOString(),
  };
  expect(validateDirective(document)).toMatchObject({ ok: true });
  return document;
}

async function publish(d: StepDirective, topic = `global-bus-p${d.lane}`): Promise<void> {
  const sender = client.createSender(topic);
  try {
    await sender.sendMessages(toDirectiveMessage(d));
  } finally {
    await sender.close();
  }
}

/** Takes every message on a reply topic's subscription (receive and delete). */
async function drain(topic: string): Promise<ServiceBusReceivedMessage[]> {
  const receiver = client.createReceiver(topic, SUBSCRIPTION, { receiveMode: 'receiveAndDelete' });
  try {
    const taken: ServiceBusReceivedMessage[] = [];
    for (;;) {
      const batch = await receiver.receiveMessages(10, { maxWaitTimeInMs: 200 });
      if (batch.length === 0) return taken;
      taken.push(...batch);
    }
  } finally {
    await receiver.close();
  }
}

/** Peeks (without taking) what waits on a lane topic's OCR subscription. */
async function waiting(topic: string): Promise<string[]> {
  const receiver = client.createReceiver(topic, 'distributed-ocr');
  try {
    return (await receiver.peekMessages(10)).map((message) => String(message.messageId));
  } finally {
    await receiver.close();
  }
}

async function start(options: { lanes?: number | readonly number[]; replyPrefix?: string }) {
  const settled = new Settlements();
  workers = await startDemoWorkers({
    connectionString: emulator.connectionString,
    modes: 'off,OCR=instant',
    onSettled: (event) => settled.add(event),
    ...options,
  });
  return { workers, settled };
}

describe('demo workers: lanes', () => {
  it('listens on the one lane listed, leaving the other lanes to other workers', async () => {
    const { workers: running, settled } = await start({ lanes: [3] });
    expect(running.lanes).toEqual([3]);
    const elsewhere = directive(2);
    const mine = directive(3);
    await publish(elsewhere);
    await publish(mine);
    expect(await settled.waitFor(mine.lease_id)).toMatchObject({ outcome: 'succeeded' });
    expect((await drain(`${LUCIUS_REPLY_PREFIX}3`)).map((m) => m.subject)).toEqual(['ack', 'result']);
    expect(running.stats.received).toBe(1);
    // The lane 2 directive is still there for the worker that serves lane 2.
    expect(await waiting('global-bus-p2')).toEqual([`${elsewhere.job_id}:ocr:1`]);

    await running.stop();
    const { settled: lane2 } = await start({ lanes: [2] });
    expect(await lane2.waitFor(elsewhere.lease_id)).toMatchObject({ outcome: 'succeeded' });
    expect((await drain(`${LUCIUS_REPLY_PREFIX}2`)).map((m) => m.subject)).toEqual(['ack', 'result']);
  });

  it('listens on lanes 0..N-1 for a count', async () => {
    const { workers: running } = await start({ lanes: 4 });
    expect(running.lanes).toEqual([0, 1, 2, 3]);
  });

  it('refuses lanes out of range, repeated or none, before connecting', async () => {
    const refused = (lanes: number | readonly number[]) =>
      startDemoWorkers({ connectionString: 'Endpoint=sb://nowhere.invalid;', lanes }).then(
        () => 'started',
        (error: unknown) => (error instanceof WorkerConfigError ? error.problems : error),
      );
    expect(await refused([3, 64, -1, 3])).toEqual([
      'lanes must be 0..63 (got 64, -1)',
      'lanes lists 3 more than once',
    ]);
    expect(await refused([])).toEqual(['lanes lists no lane']);
    expect(await refused(0)).toEqual(['lanes must be a count 1..64 or a list of lanes (got 0)']);
  });
});

describe('demo workers: replyPrefix', () => {
  it("replies to {replyPrefix}{lane} instead of the directive's reply_to", async () => {
    const { settled } = await start({ lanes: [5], replyPrefix: PARTNER_REPLY_PREFIX });
    const d = directive(5);
    await publish(d);
    expect(await settled.waitFor(d.lease_id)).toMatchObject({ outcome: 'succeeded' });
    const replies = await drain(`${PARTNER_REPLY_PREFIX}5`);
    expect(replies.map((m) => [m.subject, m.correlationId])).toEqual([
      ['ack', d.job_id],
      ['result', d.job_id],
    ]);
    expect(replies[1]?.body).toMatchObject({ status: 'SUCCEEDED', lease_id: d.lease_id });
    expect(await drain(d.reply_to)).toEqual([]);
  });

  it("replies to each directive's reply_to without one", async () => {
    const { settled } = await start({ lanes: [5] });
    const d = directive(5, `${PARTNER_REPLY_PREFIX}5`);
    await publish(d);
    expect(await settled.waitFor(d.lease_id)).toMatchObject({ outcome: 'succeeded' });
    expect((await drain(`${PARTNER_REPLY_PREFIX}5`)).map((m) => m.subject)).toEqual(['ack', 'result']);
    expect(await drain(`${LUCIUS_REPLY_PREFIX}5`)).toEqual([]);
  });

  it('refuses a reply prefix that cannot name a topic', async () => {
    await expect(
      startDemoWorkers({ connectionString: 'Endpoint=sb://nowhere.invalid;', replyPrefix: 'a/b' }),
    ).rejects.toMatchObject({
      problems: ['replyPrefix must be letters, digits, ".", "_" or "-", at most 41 characters (got "a/b")'],
    });
  });
});
