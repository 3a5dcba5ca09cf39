/** The contract every `BrokerStore` adapter meets; run by each adapter's test file. */
import type { BrokerStore, MessageRecord } from '../../../../devhost/servicebus/broker/broker-store';

export function record(sequenceNumber: number, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    applicationProperties: { n: sequenceNumber },
    payload: { body: Buffer.from(`message ${sequenceNumber}`) },
    sequenceNumber,
    enqueuedTime: new Date('2024-05-01T10:00:00.000Z'),
    deliveries: 0,
    state: 'active',
    ...overrides,
  };
}

export function brokerStoreContract(makeStore: () => BrokerStore): void {
  let store: BrokerStore;

  beforeEach(() => {
    store = makeStore();
  });

  afterEach(() => store.close());

  it('hands out sequence numbers 1, 2, ... per entity', () => {
    expect([store.allocateSequenceNumber('q'), store.allocateSequenceNumber('q')]).toEqual([1, 2]);
    expect(store.allocateSequenceNumber('other')).toBe(1);
  });

  it('lists records in sequence-number order whatever the insertion order', () => {
    store.put('q', record(5));
    store.put('q', record(2));
    store.put('q', record(9));
    expect(store.list('q').map((r) => r.sequenceNumber)).toEqual([2, 5, 9]);
    expect(store.list('empty')).toEqual([]);
  });

  it('replaces a record with the same sequence number and removes it', () => {
    store.put('q', record(1));
    store.put('q', record(1, { state: 'deferred' }));
    expect(store.get('q', 1)?.state).toBe('deferred');
    expect(store.list('q')).toHaveLength(1);
    store.remove('q', 1);
    expect(store.get('q', 1)).toBeUndefined();
    expect(store.entities()).toContain('q');
  });

  it('remembers message ids until told to forget those seen before a time', () => {
    store.remember('q', 'a', new Date('2024-05-01T10:00:00.000Z'));
    store.remember('q', 'b', new Date('2024-05-01T10:05:00.000Z'));
    store.forgetSeenBefore('q', new Date('2024-05-01T10:01:00.000Z'));
    expect(store.lastSeen('q', 'a')).toBeUndefined();
    expect(store.lastSeen('q', 'b')).toEqual(new Date('2024-05-01T10:05:00.000Z'));
  });
}
