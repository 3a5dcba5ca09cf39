import {
  OFFICIAL_EMULATOR_LIMITS,
  serviceBusEmulatorConfig,
  serviceBusEmulatorConfigFile,
} from '../../../scripts/generators/servicebus-emulator-config';
import { serviceBusTopologyDocument } from '../../../scripts/generators/servicebus-topology';
import { createBroker } from '../../../devhost/servicebus/broker/broker';
import { parseEmulatorConfig } from '../../../devhost/servicebus/broker/config';
import { ManualClock } from '../../../devhost/common/clock';
import { message } from '../../devhost/servicebus/broker/fixtures';
import { expectCommittedUpToDate, prettierFormatted } from './generated-files';

describe('servicebus-emulator-config generator', () => {
  it('matches the committed docker/Config.json', () => {
    expectCommittedUpToDate(serviceBusEmulatorConfigFile);
  });

  it('writes a file Prettier leaves unchanged', () => {
    const content = serviceBusEmulatorConfigFile.generate();
    expect(prettierFormatted(serviceBusEmulatorConfigFile.path, content)).toBe(content);
  });

  it('holds the same entities as the Azure topology, in the emulator namespace', () => {
    const config = parseEmulatorConfig(serviceBusEmulatorConfig());
    const azure = serviceBusTopologyDocument();
    expect(config.namespace).toBe('sbemulatorns');
    expect(config.topics.map((topic) => topic.name)).toEqual(azure.topics.map((topic) => topic.name));
    expect(config.queues.map((queue) => queue.name)).toEqual(azure.queues.map((queue) => queue.name));
    const subscriptions = config.topics.flatMap((topic) =>
      topic.subscriptions.map((subscription) => `${topic.name}/${subscription.name}`),
    );
    expect(subscriptions).toEqual(azure.subscriptions.map((s) => `${s.topic}/${s.name}`));
  });

  it('stays within the official emulator limits', () => {
    const config = parseEmulatorConfig(serviceBusEmulatorConfig());
    const limits = OFFICIAL_EMULATOR_LIMITS;
    expect(config.queues.length + config.topics.length).toBeLessThanOrEqual(limits.maxEntities);
    const queueLike = [...config.queues, ...config.topics.flatMap((topic) => topic.subscriptions)];
    for (const entity of queueLike) {
      expect(entity.properties.lockDurationMs).toBeGreaterThanOrEqual(limits.minLockDurationSeconds * 1000);
      expect(entity.properties.lockDurationMs).toBeLessThanOrEqual(limits.maxLockDurationSeconds * 1000);
      expect(entity.properties.maxDeliveryCount).toBeLessThanOrEqual(limits.maxDeliveryCount);
      expect(entity.properties.defaultTimeToLiveMs).toBeLessThanOrEqual(
        limits.maxMessageTimeToLiveSeconds * 1000,
      );
    }
    for (const topic of config.topics) {
      expect(topic.properties.requiresDuplicateDetection).toBe(true);
      expect(topic.properties.duplicateDetectionWindowMs).toBe(
        limits.maxDuplicateDetectionWindowSeconds * 1000,
      );
    }
  });

  it('routes directives by step_type to the platform subscriptions', () => {
    const broker = createBroker({
      topology: parseEmulatorConfig(serviceBusEmulatorConfig()),
      clock: new ManualClock(),
    });
    broker.send('global-bus-p3', [
      message({ messageId: 'ocr', applicationProperties: { step_type: 'OCR' } }),
      message({ messageId: 'sis', applicationProperties: { step_type: 'SIS' } }),
    ]);
    const ids = (path: string): string[] =>
      broker.receive(path, 10, 'receiveAndDelete').map((m) => m.messageId ?? '');
    expect(ids('global-bus-p3/Subscriptions/distributed-ocr')).toEqual(['ocr']);
    expect(ids('global-bus-p3/Subscriptions/vector-ingestion')).toEqual([]);
    expect(ids('global-bus-p3/Subscriptions/semantic-intelligence')).toEqual(['sis']);
  });

  it('refuses a lane count the official emulator cannot hold, naming the variable', () => {
    expect(() => serviceBusEmulatorConfig({ LUCIUS_LANE_COUNT: '30' })).toThrow(/LUCIUS_LANE_COUNT/);
  });
});
