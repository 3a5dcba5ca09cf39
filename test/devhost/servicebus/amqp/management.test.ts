import { startHarness, type Harness } from './harness';

describe('Service Bus AMQP server: $management operations', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('peeks messages without locking them, page by page', async () => {
    await harness.client.createSender(harness.queue).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const receiver = harness.client.createReceiver(harness.queue, { maxAutoLockRenewalDurationInMs: 0 });
    const firstPage = await receiver.peekMessages(2);
    const secondPage = await receiver.peekMessages(2);
    expect(firstPage.map((message) => message.body)).toEqual([1, 2]);
    expect(secondPage.map((message) => message.body)).toEqual([3]);
    expect(firstPage[0]!.sequenceNumber?.toNumber()).toBe(1);
    expect(firstPage[0]!.deliveryCount).toBe(0);

    const received = await receiver.receiveMessages(3, { maxWaitTimeInMs: 1000 });
    expect(received).toHaveLength(3);
  });

  it('peeks nothing on an empty queue', async () => {
    expect(await harness.client.createReceiver(harness.queue).peekMessages(5)).toEqual([]);
  });

  it('schedules messages that appear at their time and cancels scheduled ones', async () => {
    const sender = harness.client.createSender(harness.queue);
    const at = new Date(harness.clock.now().getTime() + 3_600_000);
    const [kept, cancelled] = await sender.scheduleMessages([{ body: 'kept' }, { body: 'cancelled' }], at);
    expect(kept!.toNumber()).toBeLessThan(cancelled!.toNumber());
    await sender.cancelScheduledMessages(cancelled!);

    const receiver = harness.client.createReceiver(harness.queue, { receiveMode: 'receiveAndDelete' });
    const scheduled = await receiver.peekMessages(10);
    expect(scheduled.map((message) => [message.body, message.state])).toEqual([['kept', 'scheduled']]);
    expect(scheduled[0]!.scheduledEnqueueTimeUtc).toEqual(at);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);

    harness.clock.advance(3_600_000);
    harness.broker.tick();
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(message?.body).toBe('kept');
  });

  it('reports a deferred message that does not exist as MessageNotFound', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'x' });
    const receiver = harness.client.createReceiver(harness.queue);
    const [peeked] = await receiver.peekMessages(1);
    const error: unknown = await receiver.receiveDeferredMessages(peeked!.sequenceNumber!.add(100)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as { code: string }).code).toBe('MessageNotFound');
  });
});
