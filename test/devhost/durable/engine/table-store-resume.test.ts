/**
 * Crash and resume on Azure Table Storage (Azurite): an engine is dropped mid-flight (an activity
 * still running, timers armed, an event buffered, a retry pending) and a new engine on the same
 * tables finishes every instance, re-running only the activity that never reported back.
 */
import {
  TableDurableStore,
  createTestDurableEnvironment,
  decodeTableKey,
  encodeTableKey,
} from '../../../../devhost/durable/engine';
import { testTableConnectionString } from '../../../support/table-storage';
import { uniqueTablePrefix } from '../../../support/unique';
import { loadDurableApp } from './load-durable-app';

const MINUTE = 60_000;

function tableStore(prefix: string): TableDurableStore {
  return new TableDurableStore({
    connection: { connectionString: testTableConnectionString() },
    tablePrefix: prefix,
  });
}

describe('TableDurableStore', () => {
  it('encodes any instance id into a valid table key and back', () => {
    for (const id of ['a/b\\c#d?e', "it's~100%", 'parent:3', 'ünï']) {
      const key = encodeTableKey(id);
      expect(key).toMatch(/^[A-Za-z0-9\-_.!*()~]+$/);
      expect(decodeTableKey(key)).toBe(id);
    }
  });

  it('lets a new engine resume every in-flight instance after a crash', async () => {
    const prefix = uniqueTablePrefix('durable');
    const first = loadDurableApp();
    first.app.fixtureState.gateBlocks = true;
    const before = createTestDurableEnvironment({
      registrations: first.registrations,
      store: tableStore(prefix),
    });

    await before.engine.start('waitsFifteenMinutes', { instanceId: 'timer/1' });
    await before.engine.start('waitsThenListens', { instanceId: 'buffered#1' });
    await before.engine.start('retriesThenSucceeds', { instanceId: 'retry?1' });
    await before.runUntilIdle();
    await before.advanceBy(MINUTE);
    expect(await before.engine.raiseEvent('buffered#1', 'go', 'kept')).toBe('accepted');
    await before.runUntilIdle();
    await before.engine.start('gatedSteps', { instanceId: 'gated\\1' });
    await first.app.fixtureState.gateEntered;
    // The "crash": `before` is abandoned with its gate activity running and its timers armed.

    const second = loadDurableApp();
    const after = createTestDurableEnvironment({
      registrations: second.registrations,
      store: tableStore(prefix),
      startTime: before.clock.now(),
    });
    try {
      const outputs = await Promise.all(
        ['timer/1', 'buffered#1', 'retry?1', 'gated\\1'].map(async (id) => {
          const status = await after.waitForCompletion(id);
          return [id, status.runtimeStatus, status.output];
        }),
      );
      expect(outputs).toEqual([
        [
          'timer/1',
          'Completed',
          { startedAt: '2024-01-01T00:00:00.000Z', firedAt: '2024-01-01T00:15:00.000Z' },
        ],
        ['buffered#1', 'Completed', { go: 'kept' }],
        ['retry?1', 'Completed', 'ok retry'],
        ['gated\\1', 'Completed', 'ABC'],
      ]);
      const calls = (name: string) =>
        (first.app.fixtureState.calls[name] ?? 0) + (second.app.fixtureState.calls[name] ?? 0);
      // Completed activities are not run again; the one in flight at the crash runs once more.
      expect(calls('step:a')).toBe(1);
      expect(calls('gate')).toBe(2);
      expect(calls('step:c')).toBe(1);
      // The flaky activity fails on its first call in each process: attempt 1 before the crash,
      // attempts 2 (fails) and 3 (succeeds) after it, each after its retry timer.
      expect([first.app.fixtureState.calls.flaky, second.app.fixtureState.calls.flaky]).toEqual([1, 2]);
    } finally {
      await after.stop();
    }
  });
});
