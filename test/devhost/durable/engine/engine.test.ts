/**
 * The durable engine driving the real durable-functions SDK, in the time-skipping test
 * environment (memory store, ManualClock).
 */
import {
  createTestDurableEnvironment,
  type TestDurableEnvironment,
} from '../../../../devhost/durable/engine';
import { loadDurableApp, type FixtureApp } from './load-durable-app';

const MINUTE = 60_000;
const START = new Date('2024-01-01T00:00:00.000Z');

describe('durable engine', () => {
  let env: TestDurableEnvironment;
  let app: FixtureApp;

  beforeEach(() => {
    const loaded = loadDurableApp();
    app = loaded.app;
    env = createTestDurableEnvironment({ registrations: loaded.registrations, startTime: START });
  });

  afterEach(async () => {
    await env.stop();
  });

  async function run(name: string, input?: unknown, instanceId?: string) {
    const started = await env.engine.start(name, { input, ...(instanceId ? { instanceId } : {}) });
    return env.waitForCompletion(started.instanceId);
  }

  it('runs activities in sequence and completes with their results', async () => {
    const status = await run('helloSequence');
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'],
    });
    expect(app.fixtureState.calls.sayHello).toBe(3);
  });

  it('shows history as the extension does, with the scheduled tasks folded into their completions', async () => {
    const { instanceId } = await env.engine.start('helloSequence', {});
    await env.waitForCompletion(instanceId);
    const status = await env.engine.status(instanceId, { showHistory: true, showHistoryOutput: true });
    expect(status?.historyEvents?.map((e) => [e.EventType, e.FunctionName, e.Result])).toEqual([
      ['ExecutionStarted', 'helloSequence', undefined],
      ['TaskCompleted', 'sayHello', 'Hello Tokyo!'],
      ['TaskCompleted', 'sayHello', 'Hello Seattle!'],
      ['TaskCompleted', 'sayHello', 'Hello London!'],
      ['ExecutionCompleted', undefined, ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']],
    ]);
    expect(status?.historyEvents?.every((e) => typeof e.Timestamp === 'string')).toBe(true);
  });

  it('fans out and in with Task.all', async () => {
    const status = await run('fanOutFanIn', 5);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 2 + 4 + 6 + 8 + 10 });
    expect(app.fixtureState.calls.double).toBe(5);
  });

  it('lets the orchestrator catch an activity failure', async () => {
    const status = await run('catchesFailure');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatch(/^caught: Activity function 'alwaysFails' failed: boom/);
  });

  it('retries with backoff until the attempts are exhausted, skipping the waits', async () => {
    const status = await run('retriesUntilExhausted');
    expect(status.runtimeStatus).toBe('Completed');
    // 3 attempts; waits of 10, 20 and 40 minutes (the framework also waits after the last failure).
    expect(status.output).toEqual({ error: expect.stringMatching(/boom/), minutes: 70 });
    expect(app.fixtureState.calls.alwaysFails).toBe(3);
  });

  it('retries a failed activity and completes once an attempt succeeds', async () => {
    const status = await run('retriesThenSucceeds');
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'ok retry' });
    expect(app.fixtureState.calls.flaky).toBe(2);
  });

  it('fires a 15-minute timer by skipping time', async () => {
    const status = await run('waitsFifteenMinutes');
    expect(status.output).toEqual({ startedAt: START.toISOString(), firedAt: '2024-01-01T00:15:00.000Z' });
    const history = await env.engine.status(status.instanceId, { showHistory: true });
    expect(history?.historyEvents?.map((e) => e.EventType)).toEqual([
      'ExecutionStarted',
      'TimerCreated',
      'TimerFired',
      'ExecutionCompleted',
    ]);
  });

  it('lets an event beat a timer in Task.any; the cancelled timer later fires without breaking replay', async () => {
    const { instanceId } = await env.engine.start('approvalOrTimeout', {});
    await env.runUntilIdle();
    await env.advanceBy(5 * MINUTE);
    expect(await env.engine.raiseEvent(instanceId, 'approval', 'alice')).toBe('accepted');
    const status = await env.waitForCompletion(instanceId);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'approved by alice' });
    const history = await env.engine.status(instanceId, { showHistory: true });
    // The 30-minute timer fired (at 00:30) while the orchestrator waited on its 60-minute timer.
    expect(history?.historyEvents?.filter((e) => e.EventType === 'TimerFired')).toHaveLength(2);
    expect(env.clock.now().toISOString()).toBe('2024-01-01T01:05:00.000Z');
  });

  it('keeps an event raised before the orchestration waits for it', async () => {
    const { instanceId } = await env.engine.start('waitsThenListens', {});
    await env.runUntilIdle();
    expect(await env.engine.raiseEvent(instanceId, 'go', { n: 1 })).toBe('accepted');
    const status = await env.waitForCompletion(instanceId);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { go: { n: 1 } } });
  });

  it('discards events for unknown instances and refuses them for finished ones', async () => {
    expect(await env.engine.raiseEvent('nobody-here', 'go', 1)).toBe('not_found');
    const status = await run('helloSequence');
    expect(await env.engine.raiseEvent(status.instanceId, 'go', 1)).toBe('not_applicable');
  });

  it('runs a sub-orchestration and returns its output to the parent', async () => {
    const status = await run('parentCallsChild', 20, 'parent-1');
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: { doubled: 40, parent: 'parent-1', plusOne: 41 },
    });
    const children = await env.engine.query({ instanceIdPrefix: 'parent-1:' });
    expect(children.instances.map((c) => [c.name, c.runtimeStatus])).toEqual([['childDoubles', 'Completed']]);
  });

  it('continues as new with a fresh history until the orchestration returns', async () => {
    const status = await run('countsToThree', 0);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'done at 3', input: 3 });
    const history = await env.engine.status(status.instanceId, { showHistory: true });
    expect(history?.historyEvents?.map((e) => e.EventType)).toEqual([
      'ExecutionStarted',
      'TimerCreated',
      'TimerFired',
      'ExecutionCompleted',
    ]);
  });

  it('shows the custom status while the orchestration runs', async () => {
    const { instanceId } = await env.engine.start('reportsProgress', {});
    await env.runUntilIdle();
    expect(await env.engine.status(instanceId)).toMatchObject({
      runtimeStatus: 'Running',
      customStatus: { stage: 'waiting for finish' },
    });
    await env.engine.raiseEvent(instanceId, 'finish', 'yes');
    expect(await env.waitForCompletion(instanceId)).toMatchObject({
      output: 'yes',
      customStatus: { stage: 'finished' },
    });
  });

  it('terminates a running instance with the reason as output', async () => {
    const { instanceId } = await env.engine.start('reportsProgress', {});
    await env.runUntilIdle();
    expect(await env.engine.terminate(instanceId, 'no longer needed')).toBe('accepted');
    expect(await env.waitForCompletion(instanceId)).toMatchObject({
      runtimeStatus: 'Terminated',
      output: 'no longer needed',
    });
    expect(await env.engine.terminate(instanceId, 'again')).toBe('not_applicable');
  });

  it('makes no progress while suspended and keeps what arrives meanwhile until resumed', async () => {
    const { instanceId } = await env.engine.start('waitsThenListens', {});
    await env.runUntilIdle();
    expect(await env.engine.suspend(instanceId, 'maintenance')).toBe('accepted');
    await env.advanceBy(10 * MINUTE);
    await env.engine.raiseEvent(instanceId, 'go', 'while suspended');
    await env.runUntilIdle();
    expect((await env.engine.status(instanceId))?.runtimeStatus).toBe('Suspended');
    await expect(env.waitForCompletion(instanceId)).rejects.toThrow(/cannot progress/);
    expect(await env.engine.resume(instanceId, 'done')).toBe('accepted');
    expect(await env.waitForCompletion(instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { go: 'while suspended' },
    });
  });

  it('fails a non-deterministic orchestration with a clear error', async () => {
    const { instanceId } = await env.engine.start('changingMind', {});
    await env.runUntilIdle();
    app.fixtureState.firstActivity = 'double';
    await env.engine.raiseEvent(instanceId, 'continue', null);
    const status = await env.waitForCompletion(instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toMatch(/Non-deterministic workflow detected/);
    expect(status.output).toMatch(/TaskScheduled 'sayHello'.*CallActivity 'double'/);
  });

  it('refuses to start an unknown orchestrator or a duplicate running instance', async () => {
    await expect(env.engine.start('nope', {})).rejects.toMatchObject({ code: 'unknown_orchestrator' });
    await env.engine.start('reportsProgress', { instanceId: 'dup' });
    await expect(env.engine.start('reportsProgress', { instanceId: 'dup' })).rejects.toMatchObject({
      code: 'instance_exists',
    });
  });

  it('queries with filters and pages, and purges finished instances', async () => {
    for (const id of ['q-1', 'q-2', 'q-3']) await run('helloSequence', undefined, id);
    await env.engine.start('reportsProgress', { instanceId: 'q-running' });
    await env.runUntilIdle();
    const first = await env.engine.query({
      instanceIdPrefix: 'q-',
      runtimeStatus: ['Completed'],
      pageSize: 2,
    });
    expect(first.instances.map((i) => i.instanceId)).toEqual(['q-1', 'q-2']);
    const second = await env.engine.query({
      instanceIdPrefix: 'q-',
      runtimeStatus: ['Completed'],
      pageSize: 2,
      ...(first.continuationToken ? { continuationToken: first.continuationToken } : {}),
    });
    expect(second).toEqual({ instances: [expect.objectContaining({ instanceId: 'q-3' })] });
    expect(await env.engine.purge('q-1')).toBe(1);
    expect(await env.engine.purge('q-running')).toBe(0);
    expect(await env.engine.purgeMany({ runtimeStatus: ['Completed'] })).toBe(2);
    expect((await env.engine.query({})).instances.map((i) => i.instanceId)).toEqual(['q-running']);
  });
});
