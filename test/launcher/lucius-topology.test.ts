import { createBroker } from '../../devhost/servicebus/broker/broker';
import { ManualClock } from '../../devhost/common/clock';
import { parseEmulatorConfig } from '../../devhost/servicebus/broker/config';
import { luciusTopology } from '../../launcher/lucius-topology';
import { message } from '../devhost/servicebus/broker/fixtures';

const options = {
  laneCount: 16,
  topicPrefix: 'global-bus-p',
  replyPrefix: 'global-bus-replies-p',
  replySubscription: 'lucius-invoker',
};

describe('luciusTopology', () => {
  it('describes one lane topic and one reply topic per lane, valid as emulator configuration', () => {
    const topology = parseEmulatorConfig(luciusTopology(options));
    const names = topology.topics.map((topic) => topic.name);
    expect(names).toHaveLength(32);
    expect(names.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, lane) => `global-bus-p${lane}`));
    expect(names.slice(16)).toEqual(Array.from({ length: 16 }, (_, lane) => `global-bus-replies-p${lane}`));
    expect(topology.topics[0]!.subscriptions.map((s) => s.name)).toEqual([
      'distributed-ocr',
      'vector-ingestion',
      'semantic-intelligence',
    ]);
    expect(topology.topics[16]!.subscriptions.map((s) => s.name)).toEqual(['lucius-invoker']);
  });

  it('sets lock, delivery, duplicate-detection and dead-lettering properties', () => {
    const topology = parseEmulatorConfig(luciusTopology(options));
    for (const topic of topology.topics) {
      expect(topic.properties).toMatchObject({
        requiresDuplicateDetection: true,
        duplicateDetectionWindowMs: 600_000,
      });
      for (const subscription of topic.subscriptions) {
        expect(subscription.properties).toMatchObject({
          lockDurationMs: 60_000,
          maxDeliveryCount: 10,
          // An expired directive is dropped (its attempt ended not started); an expired reply is kept.
          deadLetteringOnMessageExpiration: topic.name.startsWith('global-bus-replies-p'),
        });
      }
    }
    expect(topology.queues[0]!.properties.deadLetteringOnMessageExpiration).toBe(true);
  });

  it('routes directives to the platform subscription for their step_type and replies to the invoker', () => {
    const broker = createBroker({
      topology: parseEmulatorConfig(luciusTopology(options)),
      clock: new ManualClock(),
    });
    broker.send('global-bus-p7', [
      message({ messageId: 'ocr', applicationProperties: { step_type: 'OCR' } }),
      message({ messageId: 'embedding', applicationProperties: { step_type: 'EMBEDDING' } }),
      message({ messageId: 'sis', applicationProperties: { step_type: 'SIS' } }),
      message({ messageId: 'unknown', applicationProperties: { step_type: 'OTHER' } }),
    ]);
    broker.send('global-bus-replies-p7', [message({ messageId: 'reply' })]);
    const ids = (path: string): string[] =>
      broker.receive(path, 10, 'receiveAndDelete').map((m) => m.messageId ?? '');
    expect(ids('global-bus-p7/Subscriptions/distributed-ocr')).toEqual(['ocr']);
    expect(ids('global-bus-p7/Subscriptions/vector-ingestion')).toEqual(['embedding']);
    expect(ids('global-bus-p7/Subscriptions/semantic-intelligence')).toEqual(['sis']);
    expect(ids('global-bus-p6/Subscriptions/distributed-ocr')).toEqual([]);
    expect(ids('global-bus-replies-p7/Subscriptions/lucius-invoker')).toEqual(['reply']);
  });

  it('rejects a lane count that is not a positive integer', () => {
    expect(() => luciusTopology({ ...options, laneCount: 0 })).toThrow(RangeError);
    expect(() => luciusTopology({ ...options, laneCount: 1.5 })).toThrow(RangeError);
  });
});
