import { messagingTopology, PLATFORM_SUBSCRIPTIONS } from '../../../src/messaging/topology';

const settings = {
  laneCount: 16,
  topicPrefix: 'global-bus-p',
  replyPrefix: 'global-bus-replies-p',
  replySubscription: 'lucius-invoker',
};

describe('messagingTopology', () => {
  it('describes a lane topic per lane with one subscription per platform, filtered by step type', () => {
    const topology = messagingTopology(settings);
    expect(topology.laneTopics.map((t) => t.name)).toEqual(
      Array.from({ length: 16 }, (_, i) => `global-bus-p${i}`),
    );
    expect(topology.laneTopics[3]?.subscriptions).toEqual([
      { name: 'distributed-ocr', stepType: 'OCR' },
      { name: 'vector-ingestion', stepType: 'EMBEDDING' },
      { name: 'semantic-intelligence', stepType: 'SIS' },
    ]);
  });

  it('describes a reply topic per lane with the invoker subscription', () => {
    const topology = messagingTopology({ ...settings, laneCount: 2, replySubscription: 'me' });
    expect(topology.replyTopics).toEqual([
      { lane: 0, name: 'global-bus-replies-p0', subscription: 'me' },
      { lane: 1, name: 'global-bus-replies-p1', subscription: 'me' },
    ]);
  });

  it('names a platform for every step type and refuses a lane count below one', () => {
    expect(Object.keys(PLATFORM_SUBSCRIPTIONS).sort()).toEqual(['EMBEDDING', 'OCR', 'SIS']);
    expect(() => messagingTopology({ ...settings, laneCount: 0 })).toThrow(RangeError);
  });
});
