import { message as amqp, uuid_to_string } from 'rhea';
import type { BrokeredMessage } from '../../../../devhost/servicebus/broker/broker-api';
import {
  BATCH_MESSAGE_FORMAT,
  splitTransfer,
  toIncomingMessage,
  toWireMessage,
} from '../../../../devhost/servicebus/amqp/message-codec';
import { lockTokenToDeliveryTag } from '../../../../devhost/servicebus/amqp/lock-tokens';

describe('message-codec', () => {
  it('splits a batch transfer into its encoded messages', () => {
    const inner = [amqp.encode({ body: 'a', message_id: '1' }), amqp.encode({ body: 'b', message_id: '2' })];
    const envelope = amqp.encode({ body: amqp.data_sections(inner) });
    const parts = splitTransfer(envelope, BATCH_MESSAGE_FORMAT);
    expect(parts.map((part) => toIncomingMessage(part).messageId)).toEqual(['1', '2']);
  });

  it('splits a batch of one', () => {
    const envelope = amqp.encode({ body: amqp.data_sections([amqp.encode({ body: 'only' })]) });
    expect(splitTransfer(envelope, BATCH_MESSAGE_FORMAT)).toHaveLength(1);
  });

  it('maps AMQP properties onto the incoming message and keeps the encoded payload', () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    const encoded = amqp.encode({
      body: 'x',
      message_id: 'id',
      correlation_id: 'corr',
      subject: 'sub',
      group_id: 'session',
      ttl: 5000,
      application_properties: { k: 'v' },
      message_annotations: { 'x-opt-scheduled-enqueue-time': at },
    });
    const incoming = toIncomingMessage(encoded);
    expect(incoming).toMatchObject({
      messageId: 'id',
      correlationId: 'corr',
      subject: 'sub',
      sessionId: 'session',
      timeToLiveMs: 5000,
      applicationProperties: { k: 'v' },
      scheduledEnqueueTime: at,
    });
    expect(incoming.payload).toEqual(encoded);
  });

  it('adds the broker annotations and dead-letter properties to the delivered message', () => {
    const brokered: BrokeredMessage = {
      ...toIncomingMessage(amqp.encode({ body: 'x', application_properties: { k: 'v' } })),
      sequenceNumber: 7,
      enqueuedTime: new Date('2030-01-01T00:00:00.000Z'),
      deliveryCount: 2,
      state: 'active',
      deadLetterReason: 'Why',
      deadLetterErrorDescription: 'Because',
      deadLetterSource: 'orders',
      modifiedProperties: { extra: 1 },
    };
    const wire = amqp.decode(amqp.encode(toWireMessage(brokered, { headerDeliveryCount: 1 })));
    expect(wire['delivery_count']).toBe(1);
    expect(wire['message_annotations']).toMatchObject({
      'x-opt-sequence-number': 7,
      'x-opt-enqueued-time': new Date('2030-01-01T00:00:00.000Z'),
      'x-opt-deadletter-source': 'orders',
      'x-opt-message-state': 0,
    });
    expect(wire['application_properties']).toEqual({
      k: 'v',
      extra: 1,
      DeadLetterReason: 'Why',
      DeadLetterErrorDescription: 'Because',
    });
  });

  it('puts the lock token in the delivery tag in .NET Guid byte order', () => {
    const token = '00112233-4455-6677-8899-aabbccddeeff';
    const tag = lockTokenToDeliveryTag(token);
    expect(tag.toString('hex')).toBe('33221100554477668899aabbccddeeff');
    // The SDK swaps the same bytes back before formatting.
    const swapped = Buffer.from([3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => tag[i]!));
    expect(uuid_to_string(swapped)).toBe(token);
  });
});
