import {
  serviceBusTopologyDocument,
  serviceBusTopologyFile,
} from '../../../scripts/generators/servicebus-topology';
import { PLATFORM_SUBSCRIPTIONS } from '../../../src/messaging/topology';
import { parseIsoDuration } from '../../../devhost/servicebus/broker/duration';
import { expectCommittedUpToDate, prettierFormatted } from './generated-files';

describe('servicebus-topology generator', () => {
  it('matches the committed infra/generated/servicebus-topology.json', () => {
    expectCommittedUpToDate(serviceBusTopologyFile);
  });

  it('writes a file Prettier leaves unchanged', () => {
    const content = serviceBusTopologyFile.generate();
    expect(prettierFormatted(serviceBusTopologyFile.path, content)).toBe(content);
  });

  it('describes a lane topic and a reply topic per lane, then the quarantine queue', () => {
    const document = serviceBusTopologyDocument();
    const names = document.topics.map((topic) => topic.name);
    expect(names).toEqual([
      ...Array.from({ length: 16 }, (_, lane) => `global-bus-p${lane}`),
      ...Array.from({ length: 16 }, (_, lane) => `global-bus-replies-p${lane}`),
    ]);
    expect(document.queues.map((queue) => queue.name)).toEqual(['lucius-quarantine']);
    expect(document.settings).toEqual({
      LUCIUS_LANE_COUNT: '16',
      LUCIUS_SERVICEBUS_TOPIC_PREFIX: 'global-bus-p',
      LUCIUS_SERVICEBUS_REPLY_PREFIX: 'global-bus-replies-p',
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: 'lucius-invoker',
      LUCIUS_SERVICEBUS_QUARANTINE_QUEUE: 'lucius-quarantine',
    });
  });

  it('gives each lane topic one subscription per platform, filtered on step_type by its $Default rule', () => {
    const document = serviceBusTopologyDocument();
    for (let lane = 0; lane < 16; lane += 1) {
      const topic = `global-bus-p${lane}`;
      const filters = document.rules
        .filter((rule) => document.subscriptions[rule.subscriptionIndex]!.topic === topic)
        .map((rule) => {
          const subscription = document.subscriptions[rule.subscriptionIndex]!;
          expect(rule.name).toBe('$Default');
          expect(rule.properties.filterType).toBe('CorrelationFilter');
          return [subscription.name, rule.properties.correlationFilter.properties.step_type];
        });
      expect(Object.fromEntries(filters)).toEqual({
        [PLATFORM_SUBSCRIPTIONS.OCR]: 'OCR',
        [PLATFORM_SUBSCRIPTIONS.EMBEDDING]: 'EMBEDDING',
        [PLATFORM_SUBSCRIPTIONS.SIS]: 'SIS',
      });
    }
  });

  it('gives each reply topic the lucius-invoker subscription, unfiltered', () => {
    const document = serviceBusTopologyDocument();
    const replySubscriptions = document.subscriptions
      .map((subscription, index) => ({ ...subscription, index }))
      .filter((subscription) => subscription.topic.startsWith('global-bus-replies-p'));
    expect(replySubscriptions).toHaveLength(16);
    for (const subscription of replySubscriptions) {
      expect(subscription.name).toBe('lucius-invoker');
      expect(document.rules.some((rule) => rule.subscriptionIndex === subscription.index)).toBe(false);
    }
  });

  it('links every subscription and rule to its parent by index', () => {
    const document = serviceBusTopologyDocument();
    for (const subscription of document.subscriptions) {
      expect(document.topics[subscription.topicIndex]?.name).toBe(subscription.topic);
    }
    for (const rule of document.rules) {
      expect(document.subscriptions[rule.subscriptionIndex]).toBeDefined();
    }
  });

  it('sets dead-lettering, duplicate detection and lock durations within what Azure accepts', () => {
    const document = serviceBusTopologyDocument();
    const seconds = (duration: string): number => (parseIsoDuration(duration) ?? Number.NaN) / 1000;
    for (const topic of document.topics) {
      expect(topic.properties.requiresDuplicateDetection).toBe(true);
      expect(seconds(topic.properties.duplicateDetectionHistoryTimeWindow)).toBe(600);
    }
    for (const entity of [...document.subscriptions, ...document.queues]) {
      expect(seconds(entity.properties.lockDuration)).toBe(60);
      expect(seconds(entity.properties.lockDuration)).toBeLessThanOrEqual(300);
      expect(entity.properties.maxDeliveryCount).toBeGreaterThanOrEqual(1);
      expect(entity.properties.maxDeliveryCount).toBeLessThanOrEqual(2000);
    }
    expect(document.subscriptions.every((s) => s.properties.maxDeliveryCount === 10)).toBe(true);
    expect(document.queues[0]!.properties.maxDeliveryCount).toBe(2000);
  });

  it('drops expired directives but dead-letters expired replies and parked replies', () => {
    const document = serviceBusTopologyDocument();
    const expiry = (subscriptions: typeof document.subscriptions): boolean[] => [
      ...new Set(subscriptions.map((s) => s.properties.deadLetteringOnMessageExpiration)),
    ];
    const directives = document.subscriptions.filter((s) => s.topic.startsWith('global-bus-p'));
    const replies = document.subscriptions.filter((s) => s.topic.startsWith('global-bus-replies-p'));
    expect(directives).toHaveLength(48);
    expect(expiry(directives)).toEqual([false]);
    expect(replies).toHaveLength(16);
    expect(expiry(replies)).toEqual([true]);
    expect(document.queues[0]!.properties.deadLetteringOnMessageExpiration).toBe(true);
  });

  it('follows the messaging settings it is given', () => {
    const document = serviceBusTopologyDocument({
      LUCIUS_LANE_COUNT: '2',
      LUCIUS_SERVICEBUS_TOPIC_PREFIX: 'bus-',
      LUCIUS_SERVICEBUS_REPLY_PREFIX: 'replies-',
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: 'me',
    });
    expect(document.topics.map((topic) => topic.name)).toEqual(['bus-0', 'bus-1', 'replies-0', 'replies-1']);
    expect(document.subscriptions.filter((s) => s.name === 'me').map((s) => s.topic)).toEqual([
      'replies-0',
      'replies-1',
    ]);
    expect(document.settings.LUCIUS_LANE_COUNT).toBe('2');
  });

  it('rejects a bad messaging setting naming the variable', () => {
    expect(() => serviceBusTopologyDocument({ LUCIUS_LANE_COUNT: 'many' })).toThrow(/LUCIUS_LANE_COUNT/);
  });
});
