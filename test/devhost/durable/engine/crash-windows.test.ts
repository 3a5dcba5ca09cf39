/**
 * Crashes at the exact writes where an episode's commit is half done. The store "dies" at a chosen
 * write (it and every later call hang, as in a killed process); a new engine on the same data must
 * finish the instance.
 */
import {
  MemoryDurableStore,
  createTestDurableEnvironment,
  type DurableStore,
  type InstanceRecord,
} from '../../../../devhost/durable/engine';
import { loadDurableApp } from './load-durable-app';

/**
 * Passes calls through to `inner` until `diesAt` says so; from then on every call hangs. `died`
 * resolves at that moment (the engine itself never goes idle again, like a killed process).
 */
function dyingStore(
  inner: DurableStore,
  diesAt: (record: InstanceRecord) => boolean,
): { store: DurableStore; died: Promise<void> } {
  let dead = false;
  let markDead: () => void = () => undefined;
  const died = new Promise<void>((resolve) => {
    markDead = resolve;
  });
  const hang = () => new Promise<never>(() => undefined);
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver) as unknown;
      if (typeof original !== 'function') return original;
      return (...args: unknown[]) => {
        if (dead) return hang();
        if (property === 'putInstance' && diesAt(args[0] as InstanceRecord)) {
          dead = true;
          markDead();
          return hang();
        }
        return (original as (...a: unknown[]) => unknown).apply(receiver, args);
      };
    },
  });
  return { store, died };
}

async function resumeOn(store: DurableStore, instanceId: string) {
  const after = createTestDurableEnvironment({ registrations: loadDurableApp().registrations, store });
  try {
    return await after.waitForCompletion(instanceId);
  } finally {
    await after.stop();
  }
}

describe('durable engine crash windows', () => {
  it('finishes an instance whose first episode died after saving history but before its record', async () => {
    const data = new MemoryDurableStore();
    const dying = dyingStore(data, (record) => record.runtimeStatus === 'Running');
    const before = createTestDurableEnvironment({
      registrations: loadDurableApp().registrations,
      store: dying.store,
    });
    await before.engine.start('helloSequence', { instanceId: 'first-episode' });
    void before.runUntilIdle();
    await dying.died;
    expect((await data.getInstance('first-episode'))?.runtimeStatus).toBe('Pending');

    const status = await resumeOn(data, 'first-episode');
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'],
    });
  });

  it('reports an instance that finished in an episode that died before its record as finished', async () => {
    const data = new MemoryDurableStore();
    const dying = dyingStore(data, (record) => record.runtimeStatus === 'Completed');
    const before = createTestDurableEnvironment({
      registrations: loadDurableApp().registrations,
      store: dying.store,
    });
    await before.engine.start('helloSequence', { instanceId: 'last-episode' });
    void before.runUntilIdle();
    await dying.died;
    expect((await data.getInstance('last-episode'))?.runtimeStatus).toBe('Running');

    const status = await resumeOn(data, 'last-episode');
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'],
    });
  });

  it('finishes an instance whose continue-as-new died before its record moved to the new execution', async () => {
    const data = new MemoryDurableStore();
    let firstExecution: string | undefined;
    const dying = dyingStore(data, (record) => {
      firstExecution ??= record.executionId;
      return record.executionId !== firstExecution;
    });
    const before = createTestDurableEnvironment({
      registrations: loadDurableApp().registrations,
      store: dying.store,
    });
    await before.engine.start('countsToThree', { instanceId: 'continued', input: 1 });
    await before.runUntilIdle();
    void before.advanceBy(60_000);
    await dying.died;
    expect((await data.getInstance('continued'))?.executionId).toBe(firstExecution);

    const status = await resumeOn(data, 'continued');
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'done at 3' });
  });

  it('accepts a retried start after a crash between the start message and the instance record', async () => {
    const data = new MemoryDurableStore();
    const dying = dyingStore(data, (record) => record.runtimeStatus === 'Pending');
    const before = createTestDurableEnvironment({
      registrations: loadDurableApp().registrations,
      store: dying.store,
    });
    void before.engine.start('helloSequence', { instanceId: 'half-started' });
    await dying.died;
    expect(await data.getInstance('half-started')).toBeUndefined();

    const after = createTestDurableEnvironment({
      registrations: loadDurableApp().registrations,
      store: data,
    });
    try {
      await after.runUntilIdle();
      await expect(after.engine.start('helloSequence', { instanceId: 'half-started' })).resolves.toEqual({
        instanceId: 'half-started',
      });
      expect(await after.waitForCompletion('half-started')).toMatchObject({ runtimeStatus: 'Completed' });
    } finally {
      await after.stop();
    }
  });
});
