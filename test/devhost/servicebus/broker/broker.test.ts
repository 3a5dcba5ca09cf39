/**
 * The broker core's Service Bus semantics, run against every store adapter (the in-memory one and
 * the file-backed one), with a manual clock: no test sleeps or reads wall-clock time.
 */
import { BrokerError, type Broker } from '../../../../devhost/servicebus/broker/broker-api';
import { BrokerCore, createBroker } from '../../../../devhost/servicebus/broker/broker';
import type { BrokerStore } from '../../../../devhost/servicebus/broker/broker-store';
import { ManualClock } from '../../../../devhost/common/clock';
import { parseEmulatorConfig } from '../../../../devhost/servicebus/broker/config';
import { FileBrokerStore } from '../../../../devhost/servicebus/broker/file-broker-store';
import { MemoryBrokerStore } from '../../../../devhost/servicebus/broker/memory-broker-store';
import { MINUTE, message, removeTemporaryFolders, temporaryFolder, testConfig } from './fixtures';

const stores: [string, () => BrokerStore][] = [
  ['MemoryBrokerStore', () => new MemoryBrokerStore()],
  ['FileBrokerStore', () => FileBrokerStore.open(temporaryFolder('core'))],
];

function conditionOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof BrokerError) return error.condition;
    throw error;
  }
  throw new Error('expected a BrokerError');
}

describe.each(stores)('BrokerCore over %s', (_name, makeStore) => {
  let clock: ManualClock;
  let broker: Broker & { close(): void };

  beforeEach(() => {
    clock = new ManualClock('2024-05-01T10:00:00.000Z');
    broker = createBroker({ topology: parseEmulatorConfig(testConfig()), clock, store: makeStore() });
  });

  afterEach(() => broker.close());

  describe('send and receive', () => {
    it('numbers messages per entity and hands them out in order', () => {
      broker.send('orders', [message({ messageId: 'a' }), message({ messageId: 'b' })]);
      broker.send('plain', [message({ messageId: 'c' })]);
      const received = broker.receive('orders', 10, 'receiveAndDelete');
      expect(received.map((m) => [m.messageId, m.sequenceNumber])).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
      expect(broker.receive('plain', 10, 'receiveAndDelete').map((m) => m.sequenceNumber)).toEqual([1]);
    });

    it('returns the payload and properties the sender gave, with the enqueued time', () => {
      const sent = message({
        messageId: 'm1',
        correlationId: 'job-1',
        subject: 'directive',
        applicationProperties: { step_type: 'OCR', attempt: 2 },
        payload: { body: Buffer.from('bytes') },
      });
      broker.send('orders', [sent]);
      const [received] = broker.receive('orders', 1, 'receiveAndDelete');
      expect(received).toMatchObject({
        messageId: 'm1',
        correlationId: 'job-1',
        subject: 'directive',
        applicationProperties: { step_type: 'OCR', attempt: 2 },
        payload: { body: Buffer.from('bytes') },
        enqueuedTime: clock.now(),
        state: 'active',
      });
    });

    it('takes at most the number asked for', () => {
      broker.send('plain', [message(), message(), message()]);
      expect(broker.receive('plain', 2, 'receiveAndDelete')).toHaveLength(2);
      expect(broker.receive('plain', 2, 'receiveAndDelete')).toHaveLength(1);
      expect(broker.receive('plain', 2, 'receiveAndDelete')).toHaveLength(0);
    });

    it('addresses entities case-insensitively', () => {
      broker.send('ORDERS', [message({ messageId: 'x' })]);
      expect(broker.receive('Orders', 1, 'receiveAndDelete').map((m) => m.messageId)).toEqual(['x']);
      expect(broker.exists('EVENTS/subscriptions/RED')).toBe(true);
      expect(broker.exists('orders/$deadletterqueue')).toBe(true);
      expect(broker.exists('nowhere')).toBe(false);
    });

    it('rejects unknown entities with entity-not-found', () => {
      expect(conditionOf(() => broker.send('nowhere', [message()]))).toBe('com.microsoft:entity-not-found');
      expect(conditionOf(() => broker.receive('events/Subscriptions/nobody', 1, 'peekLock'))).toBe(
        'com.microsoft:entity-not-found',
      );
    });

    it('refuses to send to a subscription or receive from a topic', () => {
      expect(conditionOf(() => broker.send('events/Subscriptions/red', [message()]))).toBe(
        'amqp:not-allowed',
      );
      expect(conditionOf(() => broker.receive('events', 1, 'peekLock'))).toBe('amqp:not-allowed');
    });
  });

  describe('topics', () => {
    it('gives each matching subscription its own copy', () => {
      broker.send('events', [
        message({ messageId: 'red-invoice', subject: 'invoice', applicationProperties: { color: 'red' } }),
        message({ messageId: 'blue-invoice', subject: 'invoice', applicationProperties: { color: 'blue' } }),
        message({ messageId: 'red-note', subject: 'note', applicationProperties: { color: 'red' } }),
      ]);
      const ids = (path: string): string[] =>
        broker.receive(path, 10, 'receiveAndDelete').map((m) => m.messageId ?? '');
      expect(ids('events/Subscriptions/red')).toEqual(['red-invoice', 'red-note']);
      expect(ids('events/Subscriptions/invoices')).toEqual(['red-invoice', 'blue-invoice']);
      expect(ids('events/Subscriptions/everything')).toEqual(['red-invoice', 'blue-invoice', 'red-note']);
    });

    it('settling one copy leaves the others', () => {
      broker.send('events', [message({ messageId: 'm', subject: 'invoice' })]);
      const [copy] = broker.receive('events/Subscriptions/invoices', 1, 'peekLock');
      broker.complete('events/Subscriptions/invoices', copy!.lockToken!);
      expect(broker.peek('events/Subscriptions/everything', 1, 10).map((m) => m.messageId)).toEqual(['m']);
      expect(broker.peek('events/Subscriptions/invoices', 1, 10)).toEqual([]);
    });
  });

  describe('duplicate detection', () => {
    it('drops a messageId already accepted within the window', () => {
      broker.send('orders', [message({ messageId: 'same' })]);
      clock.advance(9 * MINUTE);
      broker.send('orders', [message({ messageId: 'same' }), message({ messageId: 'other' })]);
      expect(broker.receive('orders', 10, 'receiveAndDelete').map((m) => m.messageId)).toEqual([
        'same',
        'other',
      ]);
    });

    it('accepts the messageId again once the window has passed', () => {
      broker.send('orders', [message({ messageId: 'same' })]);
      clock.advance(10 * MINUTE);
      broker.tick();
      broker.send('orders', [message({ messageId: 'same' })]);
      expect(broker.receive('orders', 10, 'receiveAndDelete')).toHaveLength(2);
    });

    it('does not apply to entities without RequiresDuplicateDetection', () => {
      broker.send('plain', [message({ messageId: 'same' }), message({ messageId: 'same' })]);
      expect(broker.receive('plain', 10, 'receiveAndDelete')).toHaveLength(2);
    });
  });

  describe('peek-lock', () => {
    it('locks a message for LockDuration with a fresh token; first delivery counts 1', () => {
      broker.send('orders', [message({ messageId: 'a' })]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      expect(locked!.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(locked!.lockedUntil).toEqual(new Date(clock.now().getTime() + MINUTE));
      expect(locked!.deliveryCount).toBe(1);
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
    });

    it('complete removes the message', () => {
      broker.send('orders', [message()]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      broker.complete('orders', locked!.lockToken!);
      clock.advance(2 * MINUTE);
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      expect(broker.peek('orders', 1, 10)).toEqual([]);
    });

    it('abandon makes the message available again and the next delivery counts one more', () => {
      broker.send('orders', [message({ messageId: 'a' })]);
      const [first] = broker.receive('orders', 1, 'peekLock');
      broker.abandon('orders', first!.lockToken!, { reason: 'busy' });
      const [second] = broker.receive('orders', 1, 'peekLock');
      expect(second).toMatchObject({
        messageId: 'a',
        deliveryCount: 2,
        modifiedProperties: { reason: 'busy' },
      });
      expect(second!.lockToken).not.toBe(first!.lockToken);
    });

    it('dead-letters on the abandon of the MaxDeliveryCount-th delivery', () => {
      broker.send('orders', [message({ messageId: 'poison' })]);
      for (let delivery = 1; delivery <= 3; delivery += 1) {
        const [locked] = broker.receive('orders', 1, 'peekLock');
        expect(locked!.deliveryCount).toBe(delivery);
        broker.abandon('orders', locked!.lockToken!);
      }
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      const [dead] = broker.receive('orders/$DeadLetterQueue', 1, 'peekLock');
      expect(dead).toMatchObject({
        messageId: 'poison',
        sequenceNumber: 1,
        deadLetterReason: 'MaxDeliveryCountExceeded',
        deadLetterSource: 'orders',
      });
    });

    it('redelivers when the lock expires, counting the new delivery', () => {
      broker.send('orders', [message({ messageId: 'a' })]);
      const [first] = broker.receive('orders', 1, 'peekLock');
      clock.advance(MINUTE - 1);
      broker.tick();
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      clock.advance(1);
      broker.tick();
      const [second] = broker.receive('orders', 1, 'peekLock');
      expect(second).toMatchObject({ messageId: 'a', deliveryCount: 2 });
      expect(conditionOf(() => broker.complete('orders', first!.lockToken!))).toBe(
        'com.microsoft:message-lock-lost',
      );
    });

    it('dead-letters when the lock of the last allowed delivery expires', () => {
      broker.send('events', [message({ applicationProperties: { color: 'red' } })]);
      for (let delivery = 1; delivery <= 2; delivery += 1) {
        expect(broker.receive('events/Subscriptions/red', 1, 'peekLock')).toHaveLength(1);
        clock.advance(MINUTE);
        broker.tick();
      }
      expect(broker.receive('events/Subscriptions/red', 1, 'peekLock')).toEqual([]);
      expect(broker.peek('events/Subscriptions/red/$DeadLetterQueue', 1, 10)).toEqual([
        expect.objectContaining({
          deadLetterReason: 'MaxDeliveryCountExceeded',
          deadLetterSource: 'events/Subscriptions/red',
        }),
      ]);
    });

    it('renewLock extends the lock from now', () => {
      broker.send('orders', [message()]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      clock.advance(50_000);
      const [until] = broker.renewLock('orders', [locked!.lockToken!]);
      expect(until).toEqual(new Date(clock.now().getTime() + MINUTE));
      clock.advance(50_000);
      broker.tick();
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      broker.complete('orders', locked!.lockToken!);
      expect(broker.peek('orders', 1, 10)).toEqual([]);
    });

    it('rejects unknown, expired and foreign lock tokens with message-lock-lost', () => {
      broker.send('orders', [message()]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      const lockLost = 'com.microsoft:message-lock-lost';
      expect(conditionOf(() => broker.complete('orders', 'not-a-token'))).toBe(lockLost);
      expect(conditionOf(() => broker.complete('plain', locked!.lockToken!))).toBe(lockLost);
      clock.advance(MINUTE);
      expect(conditionOf(() => broker.renewLock('orders', [locked!.lockToken!]))).toBe(lockLost);
      expect(conditionOf(() => broker.abandon('orders', locked!.lockToken!))).toBe(lockLost);
    });

    it('a settled token cannot be used twice', () => {
      broker.send('orders', [message()]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      broker.complete('orders', locked!.lockToken!);
      expect(conditionOf(() => broker.complete('orders', locked!.lockToken!))).toBe(
        'com.microsoft:message-lock-lost',
      );
    });
  });

  describe('receive-and-delete', () => {
    it('removes the message as it is delivered', () => {
      broker.send('orders', [message({ messageId: 'a' })]);
      const [received] = broker.receive('orders', 1, 'receiveAndDelete');
      expect(received).toMatchObject({ messageId: 'a', deliveryCount: 1 });
      expect(received!.lockToken).toBeUndefined();
      expect(broker.peek('orders', 1, 10)).toEqual([]);
    });
  });

  describe('dead-lettering', () => {
    it('moves a locked message to the dead-letter sub-queue with reason, description and source', () => {
      broker.send('orders', [message({ messageId: 'bad' })]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      broker.deadLetter('orders', locked!.lockToken!, 'InvalidPayload', 'missing job id', { checked: true });
      expect(broker.peek('orders', 1, 10)).toEqual([]);
      const [dead] = broker.receive('Orders/$deadletterqueue', 1, 'peekLock');
      expect(dead).toMatchObject({
        messageId: 'bad',
        deadLetterReason: 'InvalidPayload',
        deadLetterErrorDescription: 'missing job id',
        deadLetterSource: 'orders',
        modifiedProperties: { checked: true },
        deliveryCount: 2,
      });
    });

    it('the dead-letter sub-queue has no max delivery count', () => {
      broker.send('orders', [message()]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      broker.deadLetter('orders', locked!.lockToken!);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const [dead] = broker.receive('orders/$DeadLetterQueue', 1, 'peekLock');
        broker.abandon('orders/$DeadLetterQueue', dead!.lockToken!);
      }
      const [dead] = broker.receive('orders/$DeadLetterQueue', 1, 'peekLock');
      broker.complete('orders/$DeadLetterQueue', dead!.lockToken!);
      expect(broker.peek('orders/$DeadLetterQueue', 1, 10)).toEqual([]);
    });

    it('refuses to dead-letter a message that is already dead-lettered', () => {
      broker.send('orders', [message()]);
      broker.deadLetter('orders', broker.receive('orders', 1, 'peekLock')[0]!.lockToken!);
      const [dead] = broker.receive('orders/$DeadLetterQueue', 1, 'peekLock');
      expect(conditionOf(() => broker.deadLetter('orders/$DeadLetterQueue', dead!.lockToken!))).toBe(
        'amqp:not-allowed',
      );
    });
  });

  describe('time to live', () => {
    it('removes an expired directive from each subscription, dead-lettering it only where the subscription says so', () => {
      const topology = parseEmulatorConfig({
        UserConfig: {
          Namespaces: [
            {
              Name: 'ns',
              Topics: [
                {
                  Name: 'lane',
                  Subscriptions: [
                    { Name: 'keeps', Properties: { DeadLetteringOnMessageExpiration: true } },
                    { Name: 'drops', Properties: { DeadLetteringOnMessageExpiration: false } },
                  ],
                },
              ],
            },
          ],
        },
      });
      const local = new BrokerCore({ topology, clock });
      // A directive published with its ACK deadline (30 s away) as time to live, and one without.
      local.send('lane', [
        message({ messageId: 'directive', timeToLiveMs: 30_000 }),
        message({ messageId: 'other' }),
      ]);
      clock.advance(29_999);
      local.tick();
      for (const sub of ['keeps', 'drops'])
        expect(local.peek(`lane/Subscriptions/${sub}`, 1, 10).map((m) => m.messageId)).toEqual([
          'directive',
          'other',
        ]);
      clock.advance(1);
      local.tick();
      for (const sub of ['keeps', 'drops']) {
        expect(local.peek(`lane/Subscriptions/${sub}`, 1, 10).map((m) => m.messageId)).toEqual(['other']);
        expect(local.receive(`lane/Subscriptions/${sub}`, 10, 'peekLock').map((m) => m.messageId)).toEqual([
          'other',
        ]);
      }
      expect(local.peek('lane/Subscriptions/keeps/$DeadLetterQueue', 1, 10)).toEqual([
        expect.objectContaining({ messageId: 'directive', deadLetterReason: 'TTLExpiredException' }),
      ]);
      expect(local.peek('lane/Subscriptions/drops/$DeadLetterQueue', 1, 10)).toEqual([]);
    });

    it('never hands out an expired message, even before a tick', () => {
      broker.send('plain', [message({ messageId: 'late', timeToLiveMs: 10_000 })]);
      clock.advance(10_000);
      expect(broker.receive('plain', 1, 'peekLock')).toEqual([]);
    });

    it('expires at the lower of the message and entity TTL and dead-letters when the entity says so', () => {
      broker.send('orders', [
        message({ messageId: 'short', timeToLiveMs: 30_000 }),
        message({ messageId: 'long' }),
      ]);
      clock.advance(30_000);
      broker.tick();
      expect(broker.peek('orders', 1, 10).map((m) => m.messageId)).toEqual(['long']);
      expect(broker.peek('orders/$DeadLetterQueue', 1, 10)).toEqual([
        expect.objectContaining({
          messageId: 'short',
          deadLetterReason: 'TTLExpiredException',
          deadLetterSource: 'orders',
        }),
      ]);
      clock.advance(60 * MINUTE);
      expect(broker.receive('orders', 10, 'peekLock')).toEqual([]);
      expect(broker.peek('orders/$DeadLetterQueue', 1, 10).map((m) => m.messageId)).toEqual([
        'short',
        'long',
      ]);
    });

    it('drops expired messages when dead-lettering on expiration is off', () => {
      broker.send('plain', [message({ messageId: 'a', timeToLiveMs: 10 * 60 * MINUTE })]);
      expect(broker.peek('plain', 1, 1)[0]!.expiresAt).toEqual(new Date(clock.now().getTime() + 5 * MINUTE));
      clock.advance(5 * MINUTE);
      expect(broker.receive('plain', 1, 'peekLock')).toEqual([]);
      expect(broker.peek('plain/$DeadLetterQueue', 1, 10)).toEqual([]);
    });

    it('takes the lowest of topic and subscription defaults for each copy', () => {
      const topology = parseEmulatorConfig({
        UserConfig: {
          Namespaces: [
            {
              Name: 'ns',
              Topics: [
                {
                  Name: 't',
                  Properties: { DefaultMessageTimeToLive: 'PT10M' },
                  Subscriptions: [
                    { Name: 'short', Properties: { DefaultMessageTimeToLive: 'PT1M' } },
                    { Name: 'long', Properties: { DefaultMessageTimeToLive: 'PT1H' } },
                  ],
                },
              ],
            },
          ],
        },
      });
      const local = new BrokerCore({ topology, clock });
      local.send('t', [message()]);
      const start = clock.now().getTime();
      expect(local.peek('t/Subscriptions/short', 1, 1)[0]!.expiresAt).toEqual(new Date(start + MINUTE));
      expect(local.peek('t/Subscriptions/long', 1, 1)[0]!.expiresAt).toEqual(new Date(start + 10 * MINUTE));
    });

    it('does not expire a locked message until its lock ends', () => {
      broker.send('orders', [message({ messageId: 'a', timeToLiveMs: 10_000 })]);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      clock.advance(20_000);
      broker.tick();
      broker.complete('orders', locked!.lockToken!);
      expect(broker.peek('orders/$DeadLetterQueue', 1, 10)).toEqual([]);
    });
  });

  describe('scheduled messages', () => {
    it('holds a scheduled message until its time, then makes it active', () => {
      const at = new Date(clock.now().getTime() + 5 * MINUTE);
      const [sequenceNumber] = broker.schedule('orders', [message({ messageId: 'later' })], at);
      expect(sequenceNumber).toBe(1);
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      expect(broker.peek('orders', 1, 10)).toEqual([
        expect.objectContaining({ state: 'scheduled', enqueuedTime: at }),
      ]);
      clock.advance(5 * MINUTE);
      broker.tick();
      expect(broker.receive('orders', 1, 'receiveAndDelete')).toEqual([
        expect.objectContaining({ messageId: 'later', state: 'active', sequenceNumber: 1 }),
      ]);
    });

    it('treats a send carrying a future scheduled enqueue time as a schedule', () => {
      broker.send('plain', [message({ scheduledEnqueueTime: new Date(clock.now().getTime() + MINUTE) })]);
      expect(broker.receive('plain', 1, 'peekLock')).toEqual([]);
      clock.advance(MINUTE);
      expect(broker.receive('plain', 1, 'peekLock')).toHaveLength(1);
    });

    it('cancelScheduled removes it from a queue and from every subscription of a topic', () => {
      const at = new Date(clock.now().getTime() + MINUTE);
      const [onQueue] = broker.schedule('orders', [message()], at);
      const [onTopic] = broker.schedule('events', [message({ subject: 'invoice' })], at);
      broker.cancelScheduled('orders', [onQueue!]);
      broker.cancelScheduled('events', [onTopic!]);
      clock.advance(MINUTE);
      broker.tick();
      expect(broker.peek('orders', 1, 10)).toEqual([]);
      expect(broker.peek('events/Subscriptions/invoices', 1, 10)).toEqual([]);
      expect(broker.peek('events/Subscriptions/everything', 1, 10)).toEqual([]);
    });

    it('rejects cancelling an unknown sequence number with message-not-found', () => {
      expect(conditionOf(() => broker.cancelScheduled('orders', [42]))).toBe(
        'com.microsoft:message-not-found',
      );
    });
  });

  describe('deferral', () => {
    it('defers a message, which only receiveDeferred hands out again', () => {
      broker.send('orders', [message({ messageId: 'a' }), message({ messageId: 'b' })]);
      const [first] = broker.receive('orders', 1, 'peekLock');
      broker.defer('orders', first!.lockToken!, { deferredBy: 'test' });
      expect(broker.receive('orders', 10, 'receiveAndDelete').map((m) => m.messageId)).toEqual(['b']);
      const [deferred] = broker.receiveDeferred('orders', [first!.sequenceNumber], 'peekLock');
      expect(deferred).toMatchObject({
        messageId: 'a',
        state: 'deferred',
        deliveryCount: 2,
        modifiedProperties: { deferredBy: 'test' },
      });
      broker.complete('orders', deferred!.lockToken!);
      expect(broker.peek('orders', 1, 10)).toEqual([]);
    });

    it('an abandoned deferred message stays deferred', () => {
      broker.send('orders', [message()]);
      broker.defer('orders', broker.receive('orders', 1, 'peekLock')[0]!.lockToken!);
      const [deferred] = broker.receiveDeferred('orders', [1], 'peekLock');
      broker.abandon('orders', deferred!.lockToken!);
      expect(broker.receive('orders', 1, 'peekLock')).toEqual([]);
      expect(broker.receiveDeferred('orders', [1], 'receiveAndDelete')).toHaveLength(1);
    });

    it('rejects unknown or non-deferred sequence numbers with message-not-found', () => {
      broker.send('orders', [message()]);
      expect(conditionOf(() => broker.receiveDeferred('orders', [1], 'peekLock'))).toBe(
        'com.microsoft:message-not-found',
      );
      expect(conditionOf(() => broker.receiveDeferred('orders', [99], 'peekLock'))).toBe(
        'com.microsoft:message-not-found',
      );
    });
  });

  describe('peek', () => {
    it('browses active, locked, deferred and scheduled messages from a sequence number without locking', () => {
      broker.send('orders', [
        message({ messageId: 'a' }),
        message({ messageId: 'b' }),
        message({ messageId: 'c' }),
      ]);
      broker.schedule('orders', [message({ messageId: 'd' })], new Date(clock.now().getTime() + MINUTE));
      broker.defer('orders', broker.receive('orders', 1, 'peekLock')[0]!.lockToken!);
      broker.receive('orders', 1, 'peekLock');
      const peeked = broker.peek('orders', 2, 10);
      expect(peeked.map((m) => [m.messageId, m.state])).toEqual([
        ['b', 'active'],
        ['c', 'active'],
        ['d', 'scheduled'],
      ]);
      expect(broker.peek('orders', 1, 2).map((m) => m.messageId)).toEqual(['a', 'b']);
      expect(broker.receive('orders', 10, 'peekLock').map((m) => m.messageId)).toEqual(['c']);
    });
  });

  describe('onAvailable', () => {
    it('fires after send, abandon, lock expiry and scheduled activation, and stops after unsubscribe', () => {
      let calls = 0;
      const unsubscribe = broker.onAvailable('Orders', () => {
        calls += 1;
      });
      broker.send('orders', [message()]);
      expect(calls).toBe(1);
      const [locked] = broker.receive('orders', 1, 'peekLock');
      broker.abandon('orders', locked!.lockToken!);
      expect(calls).toBe(2);
      broker.receive('orders', 1, 'peekLock');
      clock.advance(MINUTE);
      broker.tick();
      expect(calls).toBe(3);
      broker.schedule('orders', [message()], new Date(clock.now().getTime() + MINUTE));
      expect(calls).toBe(3);
      clock.advance(MINUTE);
      broker.tick();
      expect(calls).toBe(4);
      unsubscribe();
      broker.send('orders', [message()]);
      expect(calls).toBe(4);
    });

    it('fires for the subscriptions a topic message reaches and for dead-letter sub-queues', () => {
      const fired: string[] = [];
      broker.onAvailable('events/Subscriptions/red', () => fired.push('red'));
      broker.onAvailable('events/Subscriptions/invoices', () => fired.push('invoices'));
      broker.onAvailable('orders/$DeadLetterQueue', () => fired.push('orders-dlq'));
      broker.send('events', [message({ subject: 'invoice' })]);
      broker.send('orders', [message()]);
      broker.deadLetter('orders', broker.receive('orders', 1, 'peekLock')[0]!.lockToken!);
      expect(fired).toEqual(['invoices', 'orders-dlq']);
    });

    it('lets a listener receive what became available', () => {
      const received: string[] = [];
      broker.onAvailable('orders', () => {
        for (const m of broker.receive('orders', 10, 'receiveAndDelete')) received.push(m.messageId ?? '');
      });
      broker.send('orders', [message({ messageId: 'a' }), message({ messageId: 'b' })]);
      expect(received).toEqual(['a', 'b']);
    });
  });
});

describe('BrokerCore listener errors', () => {
  it('reports a throwing listener without failing the send', () => {
    const errors: unknown[] = [];
    const broker = new BrokerCore({
      topology: parseEmulatorConfig(testConfig()),
      clock: new ManualClock(),
      onListenerError: (error) => errors.push(error),
    });
    broker.onAvailable('orders', () => {
      throw new Error('listener broke');
    });
    broker.send('orders', [message({ messageId: 'kept' })]);
    expect(errors).toEqual([new Error('listener broke')]);
    expect(broker.peek('orders', 1, 10).map((m) => m.messageId)).toEqual(['kept']);
  });
});

afterAll(removeTemporaryFolders);
