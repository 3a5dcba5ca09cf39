import { isServiceBusError, type ServiceBusReceiver } from '@azure/service-bus';
import { startHarness, type Harness } from './harness';

describe('Service Bus AMQP server: settling messages', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  function peekLockReceiver(path: string = harness.queue): ServiceBusReceiver {
    return harness.client.createReceiver(path, { maxAutoLockRenewalDurationInMs: 0 });
  }

  async function receiveOne(receiver: ServiceBusReceiver) {
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    if (message === undefined) throw new Error('no message received');
    return message;
  }

  it('removes a completed message', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'done' });
    const receiver = peekLockReceiver();
    await receiver.completeMessage(await receiveOne(receiver));
    expect(await receiver.peekMessages(10)).toHaveLength(0);
  });

  it('redelivers an abandoned message with its delivery count incremented and properties modified', async () => {
    await harness.client
      .createSender(harness.queue)
      .sendMessages({ body: 'retry', applicationProperties: { a: 1 } });
    const receiver = peekLockReceiver();
    const first = await receiveOne(receiver);
    expect(first.deliveryCount).toBe(0);
    await receiver.abandonMessage(first, { reason: 'busy' });

    const second = await receiveOne(receiver);
    expect(second.body).toBe('retry');
    expect(second.deliveryCount).toBe(1);
    expect(second.applicationProperties).toEqual({ a: 1, reason: 'busy' });
    await receiver.completeMessage(second);
  });

  it('moves a dead-lettered message to the dead-letter queue with reason and description', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'poison', messageId: 'p-1' });
    const receiver = peekLockReceiver();
    await receiver.deadLetterMessage(await receiveOne(receiver), {
      deadLetterReason: 'InvalidPayload',
      deadLetterErrorDescription: 'body is not a step',
    });
    expect(await receiver.peekMessages(10)).toHaveLength(0);

    const deadLetters = harness.client.createReceiver(harness.queue, {
      subQueueType: 'deadLetter',
      maxAutoLockRenewalDurationInMs: 0,
    });
    const dead = await receiveOne(deadLetters);
    expect(dead.body).toBe('poison');
    expect(dead.messageId).toBe('p-1');
    expect(dead.deadLetterReason).toBe('InvalidPayload');
    expect(dead.deadLetterErrorDescription).toBe('body is not a step');
    expect(dead.deadLetterSource).toBe(harness.queue);
    await deadLetters.completeMessage(dead);
    expect(await deadLetters.peekMessages(10)).toHaveLength(0);
  });

  it('dead-letters from a subscription into its own dead-letter queue', async () => {
    await harness.client.createSender(harness.topic).sendMessages({ body: 'bad event' });
    const receiver = peekLockReceiver(harness.subscriptionPath);
    await receiver.deadLetterMessage(await receiveOne(receiver), {
      deadLetterReason: 'Rejected',
      deadLetterErrorDescription: 'no handler',
    });
    const deadLetters = harness.client.createReceiver(harness.topic, harness.subscription, {
      subQueueType: 'deadLetter',
      receiveMode: 'receiveAndDelete',
    });
    const dead = await receiveOne(deadLetters);
    expect(dead.body).toBe('bad event');
    expect(dead.deadLetterReason).toBe('Rejected');
  });

  it('defers a message and hands it back by sequence number, settled through $management', async () => {
    await harness.client.createSender(harness.queue).sendMessages([{ body: 'later' }, { body: 'now' }]);
    const receiver = peekLockReceiver();
    const deferred = await receiveOne(receiver);
    await receiver.deferMessage(deferred);
    const next = await receiveOne(receiver);
    expect(next.body).toBe('now');
    await receiver.completeMessage(next);

    const [again] = await receiver.receiveDeferredMessages(deferred.sequenceNumber!);
    expect(again?.body).toBe('later');
    expect(again?.state).toBe('deferred');
    expect(again?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    await receiver.completeMessage(again!);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
  });

  it('renews a message lock', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'slow' });
    const receiver = peekLockReceiver();
    const message = await receiveOne(receiver);
    harness.clock.advance(30_000);
    const lockedUntil = await receiver.renewMessageLock(message);
    expect(lockedUntil.getTime()).toBe(harness.clock.now().getTime() + 60_000);
    await receiver.completeMessage(message);
  });

  it('fails to complete a message whose lock expired with MessageLockLost', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'too slow' });
    const receiver = peekLockReceiver();
    const message = await receiveOne(receiver);
    harness.clock.advance(61_000);
    harness.broker.tick();

    const error: unknown = await receiver.completeMessage(message).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isServiceBusError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('MessageLockLost');
    const redelivered = await receiveOne(receiver);
    expect(redelivered.body).toBe('too slow');
    expect(redelivered.deliveryCount).toBe(1);
  });

  it('fails to renew an unknown lock with MessageLockLost', async () => {
    await harness.client.createSender(harness.queue).sendMessages({ body: 'x' });
    const receiver = peekLockReceiver();
    const message = await receiveOne(receiver);
    await receiver.completeMessage(message);
    const error: unknown = await receiver.renewMessageLock(message).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as { code: string }).code).toBe('MessageLockLost');
  });
});
