import { isServiceBusError } from '@azure/service-bus';
import { startHarness, type Harness } from './harness';

describe('Service Bus AMQP server: sending and receiving', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('delivers a message sent to a queue with its body and properties', async () => {
    const sender = harness.client.createSender(harness.queue);
    await sender.sendMessages({
      body: { step: 'build', attempt: 1 },
      messageId: 'm-1',
      correlationId: 'c-1',
      subject: 'step',
      contentType: 'application/json',
      applicationProperties: { step_type: 'build', priority: 3 },
    });
    const receiver = harness.client.createReceiver(harness.queue, { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(message).toBeDefined();
    expect(message!.body).toEqual({ step: 'build', attempt: 1 });
    expect(message!.messageId).toBe('m-1');
    expect(message!.correlationId).toBe('c-1');
    expect(message!.subject).toBe('step');
    expect(message!.contentType).toBe('application/json');
    expect(message!.applicationProperties).toEqual({ step_type: 'build', priority: 3 });
    expect(message!.sequenceNumber?.toNumber()).toBe(1);
    expect(message!.enqueuedTimeUtc).toEqual(harness.clock.now());
    expect(message!.deliveryCount).toBe(0);
    expect(message!.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(message!.lockedUntilUtc!.getTime()).toBe(harness.clock.now().getTime() + 60_000);
    await receiver.completeMessage(message!);
  });

  it('assigns a message id, a GUID without dashes, to a message sent without one', async () => {
    const sender = harness.client.createSender(harness.queue);
    await sender.sendMessages([{ body: 'no id' }, { body: 'no id either' }]);
    // Auto lock renewal on (the SDK's default): it tracks messages by id, so close() fails without one.
    const receiver = harness.client.createReceiver(harness.queue);
    const received = await receiveAll(receiver, 2);
    const ids = received.map((message) => message.messageId);

    expect(ids).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{32}$/)]);
    expect(ids[0]).not.toBe(ids[1]);
    for (const message of received) await receiver.completeMessage(message);
    await expect(receiver.close()).resolves.toBeUndefined();
  });

  it('keeps the assigned message id across redeliveries and peeks', async () => {
    const sender = harness.client.createSender(harness.queue);
    await sender.sendMessages({ body: 'no id' });
    const [peeked] = await harness.client.createReceiver(harness.queue).peekMessages(1);
    const receiver = harness.client.createReceiver(harness.queue);
    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.abandonMessage(first!);
    const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });

    expect(peeked!.messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(first!.messageId).toBe(peeked!.messageId);
    expect(second!.messageId).toBe(peeked!.messageId);
    await receiver.completeMessage(second!);
    await receiver.close();
  });

  it('enqueues every message of a batch', async () => {
    const sender = harness.client.createSender(harness.queue);
    const batch = await sender.createMessageBatch();
    for (const n of [1, 2, 3]) expect(batch.tryAddMessage({ body: `m${n}`, messageId: `b-${n}` })).toBe(true);
    await sender.sendMessages(batch);

    const receiver = harness.client.createReceiver(harness.queue, { receiveMode: 'receiveAndDelete' });
    const received = await receiveAll(receiver, 3);
    expect(received.map((message) => message.body)).toEqual(['m1', 'm2', 'm3']);
    expect(received.map((message) => message.sequenceNumber?.toNumber())).toEqual([1, 2, 3]);
  });

  it('removes messages received in receive-and-delete mode', async () => {
    const sender = harness.client.createSender(harness.queue);
    await sender.sendMessages([{ body: 'a' }, { body: 'b' }]);
    const receiver = harness.client.createReceiver(harness.queue, { receiveMode: 'receiveAndDelete' });
    const received = await receiveAll(receiver, 2);
    expect(received.map((message) => message.body)).toEqual(['a', 'b']);
    expect(received[0]!.lockToken).toBeUndefined();

    expect(await harness.client.createReceiver(harness.queue).peekMessages(10)).toHaveLength(0);
  });

  it('fans a topic message out to its subscription', async () => {
    await harness.client.createSender(harness.topic).sendMessages({ body: 'to-all', subject: 'news' });
    const receiver = harness.client.createReceiver(harness.topic, harness.subscription, {
      maxAutoLockRenewalDurationInMs: 0,
    });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(message?.body).toBe('to-all');
    expect(message?.subject).toBe('news');
    await receiver.completeMessage(message!);
  });

  it('hands messages to a subscribe() handler and completes them', async () => {
    await harness.client.createSender(harness.queue).sendMessages([{ body: 'p1' }, { body: 'p2' }]);
    const receiver = harness.client.createReceiver(harness.queue, { maxAutoLockRenewalDurationInMs: 0 });
    const bodies: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = receiver.subscribe({
        processMessage: async (message) => {
          bodies.push(message.body);
          if (bodies.length === 2) {
            // Let the auto-complete of this message go out before closing.
            setImmediate(() => void subscription.close().then(resolve, reject));
          }
        },
        processError: async (args) => reject(args.error),
      });
    });
    expect(bodies).toEqual(['p1', 'p2']);
    await waitFor(
      async () => (await harness.client.createReceiver(harness.queue).peekMessages(10)).length === 0,
    );
  });

  it('fails sending to an unknown entity with MessagingEntityNotFound', async () => {
    const sender = harness.client.createSender(`missing-${harness.queue}`);
    const error: unknown = await sender.sendMessages({ body: 'lost' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isServiceBusError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('MessagingEntityNotFound');
  });
});

async function receiveAll<T>(
  receiver: { receiveMessages(max: number, options: { maxWaitTimeInMs: number }): Promise<T[]> },
  count: number,
): Promise<T[]> {
  const received: T[] = [];
  for (let attempt = 0; attempt < 10 && received.length < count; attempt += 1) {
    received.push(...(await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1000 })));
  }
  return received;
}

/** Polls a condition the client observes asynchronously (a settlement in flight). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met');
}
