/**
 * Orchestration versioning in the engine, driving the real durable-functions SDK (versioned-app):
 * the version an instance is created with reaches `context.df.version`, host.json's defaultVersion
 * applies when none is asked for, and versionMatchStrategy / versionFailureStrategy decide which
 * instances run, as the Durable extension does.
 */
import {
  MemoryDurableStore,
  compareVersions,
  createTestDurableEnvironment,
  type DurableStore,
  type OrchestrationVersioning,
  type TestDurableEnvironment,
} from '../../../../devhost/durable/engine';
import { loadFixtureApp } from './load-durable-app';

function loadVersionedApp() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loadFixtureApp(() => require('../../fixtures/versioned-app') as unknown);
}

describe('orchestration versioning', () => {
  const environments: TestDurableEnvironment[] = [];

  function environment(versioning?: OrchestrationVersioning, store?: DurableStore): TestDurableEnvironment {
    const env = createTestDurableEnvironment({
      registrations: loadVersionedApp().registrations,
      ...(versioning === undefined ? {} : { versioning }),
      ...(store === undefined ? {} : { store }),
    });
    environments.push(env);
    return env;
  }

  afterEach(async () => {
    await Promise.all(environments.splice(0).map((env) => env.stop()));
  });

  describe('the version an instance gets', () => {
    it('is the one the client asks for, seen by the orchestrator and shown on ExecutionStarted', async () => {
      const env = environment({ defaultVersion: '1.0', versionMatchStrategy: 'None' });
      await env.engine.start('reportsVersion', { instanceId: 'asked', version: '2.5' });
      expect(await env.waitForCompletion('asked')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { version: '2.5', stamped: 'ran as 2.5' },
      });
      const status = await env.engine.status('asked', { showHistory: true });
      expect(status?.historyEvents?.[0]).toMatchObject({ EventType: 'ExecutionStarted', Version: '2.5' });
    });

    it("is host.json's defaultVersion when the client asks for none", async () => {
      const env = environment({ defaultVersion: '1.0' });
      await env.engine.start('reportsVersion', { instanceId: 'defaulted' });
      expect(await env.waitForCompletion('defaulted')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { version: '1.0', stamped: 'ran as 1.0' },
      });
    });

    it('is none without a defaultVersion', async () => {
      const env = environment();
      await env.engine.start('reportsVersion', { instanceId: 'plain' });
      expect(await env.waitForCompletion('plain')).toMatchObject({
        output: { version: null, stamped: 'ran as unversioned' },
      });
      const status = await env.engine.status('plain', { showHistory: true });
      expect(status?.historyEvents?.[0]).not.toHaveProperty('Version');
    });

    it("is defaultVersion for a sub-orchestration started without one (not its parent's), else its own", async () => {
      const env = environment({ defaultVersion: '1.0' });
      await env.engine.start('startsChildren', { instanceId: 'parent', version: '0.9' });
      expect(await env.waitForCompletion('parent')).toMatchObject({
        runtimeStatus: 'Completed',
        output: {
          version: '0.9',
          children: [
            { version: '1.0', stamped: 'ran as 1.0' },
            { version: '0.5', stamped: 'ran as 0.5' },
            { version: '0.7', stamped: 'ran as 0.7' },
          ],
        },
      });
      const history = await env.engine.status('parent', { showHistory: true });
      expect(
        history?.historyEvents
          ?.filter((e) => e.EventType === 'SubOrchestrationInstanceCompleted')
          .map((e) => e.FunctionName),
      ).toEqual(['reportsVersion', 'reportsVersion', 'reportsVersion']);
    });

    it('stays the same across continue-as-new', async () => {
      const env = environment({ defaultVersion: '1.0', versionMatchStrategy: 'None' });
      await env.engine.start('continuesOnce', { instanceId: 'continued', input: 0, version: '3.1' });
      expect(await env.waitForCompletion('continued')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { round: 1, stamped: 'ran as 3.1' },
      });
    });
  });

  describe('versionMatchStrategy CurrentOrOlder (the default) with versionFailureStrategy Reject', () => {
    it('runs the same and older versions, and unversioned instances', async () => {
      const env = environment({ defaultVersion: '1.10' });
      for (const [id, version] of [
        ['same', '1.10'],
        ['older', '1.9'],
        ['unversioned', ''],
      ] as const)
        await env.engine.start('reportsVersion', { instanceId: id, version });
      for (const id of ['same', 'older', 'unversioned'])
        expect((await env.waitForCompletion(id)).runtimeStatus).toBe('Completed');
    });

    it('leaves a newer version Pending, untouched, until a host with that version runs it', async () => {
      const store = new MemoryDurableStore();
      const old = environment({ defaultVersion: '1.0' }, store);
      await old.engine.start('reportsVersion', { instanceId: 'newer', version: '2.0' });
      await old.runUntilIdle();
      expect(await old.engine.status('newer', { showHistory: true })).toMatchObject({
        runtimeStatus: 'Pending',
        historyEvents: [],
      });
      // An event for it waits too; the engine still goes idle.
      await old.engine.raiseEvent('newer', 'ping', 1);
      await old.runUntilIdle();
      expect((await old.engine.status('newer'))?.runtimeStatus).toBe('Pending');
      await old.stop();

      const upgraded = environment({ defaultVersion: '2.0' }, store);
      expect(await upgraded.waitForCompletion('newer')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { version: '2.0', stamped: 'ran as 2.0' },
      });
    });

    it('leaves a newer sub-orchestration Pending and its parent waiting', async () => {
      const env = environment({ defaultVersion: '1.0' });
      await env.engine.start('startsChild', { instanceId: 'waits', input: '5.0' });
      await env.runUntilIdle();
      expect((await env.engine.status('waits'))?.runtimeStatus).toBe('Running');
      expect(await env.engine.status('waits-child')).toMatchObject({
        name: 'reportsVersion',
        runtimeStatus: 'Pending',
      });
    });
  });

  describe('versionMatchStrategy Strict', () => {
    it('runs only the same version; with Fail, another version fails with the mismatch', async () => {
      const env = environment({
        defaultVersion: '1.0',
        versionMatchStrategy: 'Strict',
        versionFailureStrategy: 'Fail',
      });
      await env.engine.start('reportsVersion', { instanceId: 'same' });
      await env.engine.start('reportsVersion', { instanceId: 'older', version: '0.9' });
      expect((await env.waitForCompletion('same')).runtimeStatus).toBe('Completed');
      expect(await env.waitForCompletion('older')).toMatchObject({
        runtimeStatus: 'Failed',
        output: "The orchestration version '0.9' does not match the worker version '1.0'.",
      });
      const history = await env.engine.status('older', { showHistory: true });
      expect(history?.historyEvents?.map((e) => e.EventType)).toEqual([
        'ExecutionStarted',
        'ExecutionCompleted',
      ]);
    });
  });

  describe('versionFailureStrategy Fail with CurrentOrOlder', () => {
    it('fails a newer sub-orchestration, and its parent sees the failure', async () => {
      const env = environment({ defaultVersion: '1.0', versionFailureStrategy: 'Fail' });
      await env.engine.start('startsChild', { instanceId: 'fails', input: '1.1' });
      const parent = await env.waitForCompletion('fails');
      expect(parent.runtimeStatus).toBe('Failed');
      expect(String(parent.output)).toContain(
        "The orchestration version '1.1' is greater than the worker version '1.0'.",
      );
      expect(await env.engine.status('fails-child')).toMatchObject({
        runtimeStatus: 'Failed',
        output: "The orchestration version '1.1' is greater than the worker version '1.0'.",
      });
    });
  });

  describe('versionMatchStrategy None', () => {
    it('runs every version', async () => {
      const env = environment({
        defaultVersion: '1.0',
        versionMatchStrategy: 'None',
        versionFailureStrategy: 'Fail',
      });
      await env.engine.start('reportsVersion', { instanceId: 'any', version: 'v9-preview' });
      expect((await env.waitForCompletion('any')).output).toEqual({
        version: 'v9-preview',
        stamped: 'ran as v9-preview',
      });
    });
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.10', '1.9', 1],
    ['1.0', '1.0.0', -1],
    ['2.0.0.1', '2.0.0', 1],
    ['10', '9', -1],
    ['V1.0-RELEASE', 'v1.0-release', 0],
    ['2025-01-01', '2024-12-31', 1],
    ['', '0.1', -1],
    [undefined, '', 0],
    ['0.1', undefined, 1],
  ])('orders %p against %p as %p', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
});
