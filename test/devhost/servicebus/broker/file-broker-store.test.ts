import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBroker } from '../../../../devhost/servicebus/broker/broker';
import { ManualClock } from '../../../../devhost/common/clock';
import { parseEmulatorConfig } from '../../../../devhost/servicebus/broker/config';
import { FileBrokerStore } from '../../../../devhost/servicebus/broker/file-broker-store';
import { brokerStoreContract, record } from './broker-store.contract';
import { MINUTE, message, removeTemporaryFolders, temporaryFolder, testConfig } from './fixtures';

describe('FileBrokerStore', () => {
  brokerStoreContract(() => FileBrokerStore.open(temporaryFolder('contract')));

  it('reopens with the records, sequence counters and seen ids it held', () => {
    const folder = temporaryFolder('reopen');
    const first = FileBrokerStore.open(folder);
    first.allocateSequenceNumber('q');
    first.allocateSequenceNumber('q');
    first.put(
      'q',
      record(2, {
        expiresAt: new Date('2024-05-02T00:00:00.000Z'),
        payload: { body: Buffer.from([0, 1, 2]) },
      }),
    );
    first.remember('q', 'id-1', new Date('2024-05-01T10:00:00.000Z'));
    first.close();

    const second = FileBrokerStore.open(folder);
    expect(second.list('q')).toEqual([
      record(2, {
        expiresAt: new Date('2024-05-02T00:00:00.000Z'),
        payload: { body: Buffer.from([0, 1, 2]) },
      }),
    ]);
    expect(second.allocateSequenceNumber('q')).toBe(3);
    expect(second.lastSeen('q', 'id-1')).toEqual(new Date('2024-05-01T10:00:00.000Z'));
    second.close();
  });

  it('recovers from the journal when the process died without closing', () => {
    const folder = temporaryFolder('crash');
    const crashed = FileBrokerStore.open(folder);
    crashed.put('q', record(1));
    crashed.put('q', record(2));
    crashed.remove('q', 1);
    fs.appendFileSync(path.join(folder, 'journal.jsonl'), '{"op":"put","ent'); // torn last append

    const reopened = FileBrokerStore.open(folder);
    expect(reopened.list('q').map((r) => r.sequenceNumber)).toEqual([2]);
    reopened.close();
  });

  it('refuses a journal that is corrupt before its last line', () => {
    const folder = temporaryFolder('corrupt');
    fs.writeFileSync(
      path.join(folder, 'journal.jsonl'),
      'garbage\n{"op":"remove","entity":"q","sequenceNumber":1}\n',
    );
    expect(() => FileBrokerStore.open(folder)).toThrow(/Corrupt broker journal .* line 1/);
  });

  it('folds the journal into the snapshot every compactEvery entries', () => {
    const folder = temporaryFolder('compact');
    const store = FileBrokerStore.open(folder, { compactEvery: 3 });
    store.put('q', record(1));
    store.put('q', record(2));
    store.put('q', record(3));
    expect(fs.readFileSync(path.join(folder, 'journal.jsonl'), 'utf8')).toBe('');
    store.put('q', record(4));
    const reopened = FileBrokerStore.open(folder);
    expect(reopened.list('q').map((r) => r.sequenceNumber)).toEqual([1, 2, 3, 4]);
    reopened.close();
    store.close();
  });
});

describe('broker persistence', () => {
  it('keeps messages, dead letters, deferrals and sequence numbers across a new broker on the same folder', () => {
    const folder = temporaryFolder('restart');
    const clock = new ManualClock('2024-05-01T10:00:00.000Z');
    const topology = parseEmulatorConfig(testConfig());
    const before = createBroker({ topology, clock, store: FileBrokerStore.open(folder) });
    before.send('orders', [
      message({ messageId: 'a' }),
      message({ messageId: 'b' }),
      message({ messageId: 'c' }),
    ]);
    before.send('events', [
      message({ messageId: 'e', subject: 'invoice', payload: { body: Buffer.from('bytes') } }),
    ]);
    const [a, b] = before.receive('orders', 2, 'peekLock');
    before.deadLetter('orders', a!.lockToken!, 'Bad', 'bad a');
    before.defer('orders', b!.lockToken!);
    before.receive('orders', 1, 'peekLock'); // c stays locked across the restart
    before.close();

    const after = createBroker({ topology, clock, store: FileBrokerStore.open(folder) });
    expect(after.peek('orders/$DeadLetterQueue', 1, 10)).toEqual([
      expect.objectContaining({
        messageId: 'a',
        deadLetterReason: 'Bad',
        deadLetterErrorDescription: 'bad a',
      }),
    ]);
    expect(after.receiveDeferred('orders', [b!.sequenceNumber], 'receiveAndDelete')).toEqual([
      expect.objectContaining({ messageId: 'b' }),
    ]);
    expect(after.receive('events/Subscriptions/everything', 1, 'receiveAndDelete')).toEqual([
      expect.objectContaining({ messageId: 'e', payload: { body: Buffer.from('bytes') } }),
    ]);
    expect(after.receive('orders', 1, 'peekLock')).toEqual([]);
    clock.advance(MINUTE);
    const [c] = after.receive('orders', 1, 'peekLock');
    expect(c).toMatchObject({ messageId: 'c', deliveryCount: 2 });
    after.send('orders', [message({ messageId: 'a' }), message({ messageId: 'd' })]);
    after.complete('orders', c!.lockToken!);
    expect(
      after.receive('orders', 10, 'receiveAndDelete').map((m) => [m.messageId, m.sequenceNumber]),
    ).toEqual([['d', 5]]);
    after.close();
  });
});

afterAll(removeTemporaryFolders);
