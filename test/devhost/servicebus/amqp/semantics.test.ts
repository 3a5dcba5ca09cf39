/**
 * Service Bus semantics as an @azure/service-bus user sees them: every test drives the emulator only
 * through ServiceBusClient senders and receivers, over a topology of its own, and moves time with the
 * ManualClock (never by sleeping).
 */
import type { ServiceBusReceiver } from '@azure/service-bus';
import { luciusTopology, PLATFORM_SUBSCRIPTIONS } from '../../../../launcher/lucius-topology';
import {
  drain,
  namespaceConfig,
  receiveOne,
  startTopologyHarness,
  uniqueSuffix,
  type TopologyHarness,
} from './topology-harness';

describe('Service Bus emulator semantics through the SDK', () => {
  let harness: TopologyHarness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function start(config: Parameters<typeof startTopologyHarness>[0]): Promise<TopologyHarness> {
    harness = await startTopologyHarness(config);
    return harness;
  }

  function peekLock(h: TopologyHarness, queue: string): ServiceBusReceiver {
    return h.client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
  }

  function deadLetters(h: TopologyHarness, queue: string): ServiceBusReceiver {
    return h.client.createReceiver(queue, { subQueueType: 'deadLetter', maxAutoLockRenewalDurationInMs: 0 });
  }

  it('redelivers a message whose lock expired, with its delivery count incremented', async () => {
    const queue = `locks-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Queues: [{ Name: queue, Properties: { LockDuration: 'PT30S', MaxDeliveryCount: 5 } }],
      }),
    );
    await h.client.createSender(queue).sendMessages({ body: 'slow work', messageId: 'lock-1' });
    const receiver = peekLock(h, queue);

    const first = await receiveOne(receiver);
    expect(first.messageId).toBe('lock-1');
    expect(first.deliveryCount).toBe(0);
    expect(first.lockedUntilUtc!.getTime()).toBe(h.clock.now().getTime() + 30_000);

    // Still locked just before the lock ends: nobody else gets it.
    h.advance(29_000);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);

    h.advance(1_001);
    const second = await receiveOne(receiver);
    expect(second.messageId).toBe('lock-1');
    expect(second.body).toBe('slow work');
    expect(second.deliveryCount).toBe(1);
    expect(second.lockToken).not.toBe(first.lockToken);
    await receiver.completeMessage(second);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
  });

  it('dead-letters a message abandoned MaxDeliveryCount times with MaxDeliveryCountExceeded', async () => {
    const queue = `poison-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Queues: [{ Name: queue, Properties: { LockDuration: 'PT1M', MaxDeliveryCount: 3 } }],
      }),
    );
    await h.client.createSender(queue).sendMessages({ body: 'always fails', messageId: 'poison-1' });
    const receiver = peekLock(h, queue);

    for (const expectedCount of [0, 1, 2]) {
      const message = await receiveOne(receiver);
      expect(message.messageId).toBe('poison-1');
      expect(message.deliveryCount).toBe(expectedCount);
      await receiver.abandonMessage(message);
    }

    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
    const dlq = deadLetters(h, queue);
    const dead = await receiveOne(dlq);
    expect(dead.messageId).toBe('poison-1');
    expect(dead.body).toBe('always fails');
    expect(dead.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    expect(dead.deadLetterSource).toBe(queue);
    await dlq.completeMessage(dead);
    expect(await dlq.peekMessages(10)).toHaveLength(0);
  });

  it('dead-letters a message whose lock expired MaxDeliveryCount times', async () => {
    const queue = `crashy-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Queues: [{ Name: queue, Properties: { LockDuration: 'PT10S', MaxDeliveryCount: 2 } }],
      }),
    );
    await h.client.createSender(queue).sendMessages({ body: 'crashes the worker', messageId: 'crash-1' });
    const receiver = peekLock(h, queue);
    for (const expectedCount of [0, 1]) {
      expect((await receiveOne(receiver)).deliveryCount).toBe(expectedCount);
      h.advance(10_001);
    }
    expect(await receiver.peekMessages(10)).toHaveLength(0);
    const dead = await receiveOne(deadLetters(h, queue));
    expect(dead.messageId).toBe('crash-1');
    expect(dead.deadLetterReason).toBe('MaxDeliveryCountExceeded');
  });

  it('dead-letters an expired message with TTLExpiredException when DeadLetteringOnMessageExpiration is on', async () => {
    const queue = `expiring-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({ Queues: [{ Name: queue, Properties: { DeadLetteringOnMessageExpiration: true } }] }),
    );
    const sender = h.client.createSender(queue);
    await sender.sendMessages([
      { body: 'short-lived', messageId: 'ttl-1', timeToLive: 30_000 },
      { body: 'long-lived', messageId: 'ttl-2', timeToLive: 120_000 },
    ]);

    h.advance(30_001);
    const receiver = peekLock(h, queue);
    const survivor = await receiveOne(receiver);
    expect(survivor.messageId).toBe('ttl-2');
    await receiver.completeMessage(survivor);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);

    const dlq = deadLetters(h, queue);
    const dead = await receiveOne(dlq);
    expect(dead.messageId).toBe('ttl-1');
    expect(dead.body).toBe('short-lived');
    expect(dead.deadLetterReason).toBe('TTLExpiredException');
    expect(dead.deadLetterSource).toBe(queue);
    await dlq.completeMessage(dead);
  });

  it('drops an expired message when DeadLetteringOnMessageExpiration is off', async () => {
    const queue = `ephemeral-${uniqueSuffix()}`;
    const h = await start(namespaceConfig({ Queues: [{ Name: queue }] }));
    await h.client
      .createSender(queue)
      .sendMessages({ body: 'gone soon', messageId: 'drop-1', timeToLive: 5_000 });
    const receiver = peekLock(h, queue);
    expect(await receiver.peekMessages(10)).toHaveLength(1);

    h.advance(5_001);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
    expect(await deadLetters(h, queue).peekMessages(10)).toHaveLength(0);
  });

  it('expires messages by the queue default time to live when the message sets none', async () => {
    const queue = `default-ttl-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Queues: [
          {
            Name: queue,
            Properties: { DefaultMessageTimeToLive: 'PT1M', DeadLetteringOnMessageExpiration: true },
          },
        ],
      }),
    );
    await h.client.createSender(queue).sendMessages({ body: 'stale', messageId: 'default-1' });
    h.advance(59_000);
    expect(await peekLock(h, queue).peekMessages(10)).toHaveLength(1);
    h.advance(1_001);
    expect(await peekLock(h, queue).peekMessages(10)).toHaveLength(0);
    const dead = await receiveOne(deadLetters(h, queue));
    expect(dead.messageId).toBe('default-1');
    expect(dead.deadLetterReason).toBe('TTLExpiredException');
  });

  it('drops a second send with the same messageId on a queue that requires duplicate detection', async () => {
    const queue = `dedup-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Queues: [
          {
            Name: queue,
            Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' },
          },
        ],
      }),
    );
    const sender = h.client.createSender(queue);
    await sender.sendMessages({ body: 'first', messageId: 'order-42' });
    await sender.sendMessages({ body: 'retry of first', messageId: 'order-42' });
    await sender.sendMessages({ body: 'other', messageId: 'order-43' });

    const { received, left } = await drain(
      h.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' }),
      2,
    );
    expect(received.map((message) => [message.messageId, message.body])).toEqual([
      ['order-42', 'first'],
      ['order-43', 'other'],
    ]);
    expect(left).toBe(0);

    // Past the detection window the same id is a new message again.
    h.advance(60_001);
    await sender.sendMessages({ body: 'much later', messageId: 'order-42' });
    const later = await drain(h.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' }), 1);
    expect(later.received.map((message) => message.body)).toEqual(['much later']);
    expect(later.left).toBe(0);
  });

  it('keeps both messages with the same messageId on a queue without duplicate detection', async () => {
    const queue = `no-dedup-${uniqueSuffix()}`;
    const h = await start(namespaceConfig({ Queues: [{ Name: queue }] }));
    const sender = h.client.createSender(queue);
    await sender.sendMessages({ body: 'a', messageId: 'same' });
    await sender.sendMessages({ body: 'b', messageId: 'same' });
    const { received } = await drain(h.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' }), 2);
    expect(received.map((message) => message.body)).toEqual(['a', 'b']);
  });

  it('routes topic messages to the subscriptions whose correlation filters match', async () => {
    const topic = `routing-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({
        Topics: [
          {
            Name: topic,
            Subscriptions: [
              {
                Name: 'by-label',
                Rules: [
                  {
                    Name: 'invoices',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'invoice' } },
                  },
                ],
              },
              {
                Name: 'by-correlation',
                Rules: [
                  {
                    Name: 'job-7',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { CorrelationId: 'job-7' } },
                  },
                ],
              },
              {
                Name: 'by-property',
                Rules: [
                  {
                    Name: 'eu',
                    Properties: {
                      FilterType: 'Correlation',
                      CorrelationFilter: { Properties: { region: 'eu' } },
                    },
                  },
                ],
              },
              { Name: 'everything' },
            ],
          },
        ],
      }),
    );
    await h.client.createSender(topic).sendMessages([
      { body: 'label match', messageId: 'm-label', subject: 'invoice' },
      { body: 'correlation match', messageId: 'm-corr', correlationId: 'job-7' },
      { body: 'property match', messageId: 'm-prop', applicationProperties: { region: 'eu' } },
      {
        body: 'near misses',
        messageId: 'm-none',
        subject: 'Invoice',
        correlationId: 'job-70',
        applicationProperties: { region: 'us' },
      },
      {
        body: 'label and property',
        messageId: 'm-both',
        subject: 'invoice',
        applicationProperties: { region: 'eu' },
      },
    ]);

    const idsOf = async (subscription: string, expected: number) => {
      const { received, left } = await drain(
        h.client.createReceiver(topic, subscription, { receiveMode: 'receiveAndDelete' }),
        expected,
      );
      expect(left).toBe(0);
      return received.map((message) => message.messageId);
    };
    expect(await idsOf('by-label', 2)).toEqual(['m-label', 'm-both']);
    expect(await idsOf('by-correlation', 1)).toEqual(['m-corr']);
    expect(await idsOf('by-property', 2)).toEqual(['m-prop', 'm-both']);
    expect(await idsOf('everything', 5)).toEqual(['m-label', 'm-corr', 'm-prop', 'm-none', 'm-both']);
  });

  it('routes directives and replies through the generated Lucius topology', async () => {
    const suffix = uniqueSuffix();
    const topicPrefix = `lane-${suffix}-p`;
    const replyPrefix = `replies-${suffix}-p`;
    const h = await start(
      luciusTopology({ laneCount: 2, topicPrefix, replyPrefix, replySubscription: 'lucius-invoker' }),
    );
    await h.client.createSender(`${topicPrefix}1`).sendMessages({
      body: { job_id: 'job-1', step_id: 'ocr' },
      messageId: 'directive-1',
      applicationProperties: { step_type: 'OCR' },
    });
    await h.client.createSender(`${replyPrefix}1`).sendMessages({
      body: { job_id: 'job-1', step_id: 'ocr', status: 'SUCCEEDED' },
      messageId: 'reply-1',
    });

    const messageIds = async (topic: string, subscription: string, expected: number) => {
      const { received, left } = await drain(
        h.client.createReceiver(topic, subscription, { receiveMode: 'receiveAndDelete' }),
        expected,
      );
      expect(left).toBe(0);
      return received.map((message) => message.messageId);
    };
    expect(await messageIds(`${topicPrefix}1`, PLATFORM_SUBSCRIPTIONS.OCR, 1)).toEqual(['directive-1']);
    for (const subscription of [PLATFORM_SUBSCRIPTIONS.EMBEDDING, PLATFORM_SUBSCRIPTIONS.SIS]) {
      expect(await messageIds(`${topicPrefix}1`, subscription, 0)).toEqual([]);
    }
    for (const subscription of Object.values(PLATFORM_SUBSCRIPTIONS)) {
      expect(await messageIds(`${topicPrefix}0`, subscription, 0)).toEqual([]);
    }
    expect(await messageIds(`${replyPrefix}1`, 'lucius-invoker', 1)).toEqual(['reply-1']);
    expect(await messageIds(`${replyPrefix}0`, 'lucius-invoker', 0)).toEqual([]);
  });
  it('keeps delivering past 2048 peek-lock messages on one receiver link (the session buffer is freed on settlement)', async () => {
    const queue = `many-${uniqueSuffix()}`;
    const h = await start(
      namespaceConfig({ Queues: [{ Name: queue, Properties: { MaxDeliveryCount: 5 } }] }),
    );
    const total = 2100;
    const sender = h.client.createSender(queue);
    for (let start = 0; start < total; start += 300) {
      const batch = await sender.createMessageBatch();
      for (let i = start; i < Math.min(total, start + 300); i += 1) {
        expect(batch.tryAddMessage({ body: i, messageId: `many-${i}` })).toBe(true);
      }
      await sender.sendMessages(batch);
    }
    const receiver = peekLock(h, queue);
    const seen = new Set<string>();
    for (let round = 0; round < 200 && seen.size < total; round += 1) {
      const messages = await receiver.receiveMessages(200, { maxWaitTimeInMs: 1000 });
      for (const message of messages) {
        seen.add(String(message.messageId));
        await receiver.completeMessage(message);
      }
    }
    expect(seen.size).toBe(total);
  });
});
