/**
 * The engine's concurrency limits (host.json durableTask.maxConcurrentActivityFunctions and
 * maxConcurrentOrchestratorFunctions), in the time-skipping test environment. Activities record how
 * many run at once themselves (test/devhost/fixtures/concurrency-app); orchestrator episodes are
 * observed by wrapping the orchestrator handlers the app registers, each invocation kept running for
 * a few event-loop turns as an out-of-process orchestrator call would be. Nothing is timed.
 */
import {
  createTestDurableEnvironment,
  type FunctionRegistration,
  type TestDurableEnvironment,
  type TestDurableEnvironmentOptions,
} from '../../../../devhost/durable/engine';
import { loadFixtureApp } from './load-durable-app';

type ConcurrencyApp = typeof import('../../fixtures/concurrency-app');

/** A fresh copy of the fixture app, loaded as a Functions host would. */
function loadConcurrencyApp(): { app: ConcurrencyApp; registrations: FunctionRegistration[] } {
  // The host loads the app with require; isolateModules needs it synchronous.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loadFixtureApp(() => require('../../fixtures/concurrency-app') as ConcurrencyApp);
}

interface Gauge {
  running: number;
  max: number;
  count: number;
}

/** Orchestrator episodes in flight: over all instances, and per instance. */
class EpisodeProbe {
  readonly all: Gauge = { running: 0, max: 0, count: 0 };
  readonly byInstance = new Map<string, Gauge>();

  wrap(registrations: readonly FunctionRegistration[]): FunctionRegistration[] {
    return registrations.map((registration) => {
      const types = Object.values(registration.metadata.bindings ?? {}).map((b) => b.type);
      if (!types.includes('orchestrationTrigger')) return registration;
      const { handler } = registration;
      return {
        ...registration,
        handler: async (trigger, context) => {
          const instanceId = String((trigger as { instanceId?: unknown }).instanceId);
          const gauges = [this.all, this.gauge(instanceId)];
          for (const g of gauges) enter(g);
          try {
            for (let turn = 0; turn < 3; turn += 1) await nextTurn();
            return await handler(trigger, context);
          } finally {
            for (const g of gauges) g.running -= 1;
          }
        },
      };
    });
  }

  private gauge(instanceId: string): Gauge {
    let gauge = this.byInstance.get(instanceId);
    if (gauge === undefined) {
      gauge = { running: 0, max: 0, count: 0 };
      this.byInstance.set(instanceId, gauge);
    }
    return gauge;
  }
}

function enter(gauge: Gauge): void {
  gauge.running += 1;
  gauge.count += 1;
  gauge.max = Math.max(gauge.max, gauge.running);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('durable engine concurrency limits', () => {
  let env: TestDurableEnvironment | undefined;
  let app: ConcurrencyApp;
  let episodes: EpisodeProbe;

  function environment(
    limits: Pick<
      TestDurableEnvironmentOptions,
      'maxConcurrentActivityFunctions' | 'maxConcurrentOrchestratorFunctions'
    >,
  ): TestDurableEnvironment {
    const loaded = loadConcurrencyApp();
    app = loaded.app;
    episodes = new EpisodeProbe();
    env = createTestDurableEnvironment({ registrations: episodes.wrap(loaded.registrations), ...limits });
    return env;
  }

  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  describe('maxConcurrentActivityFunctions', () => {
    it('runs at most 2 activities at once with a limit of 2, and completes the whole fan-out', async () => {
      const { engine, waitForCompletion } = environment({ maxConcurrentActivityFunctions: 2 });
      const { instanceId } = await engine.start('fanOut', { input: 8 });
      const status = await waitForCompletion(instanceId);
      expect(status).toMatchObject({
        runtimeStatus: 'Completed',
        output: [0, 10, 20, 30, 40, 50, 60, 70],
      });
      expect(app.activityProbe).toEqual({ running: 0, maxRunning: 2, completed: 8 });
    });

    it('runs the same fan-out all at once under the default limit (the probe sees overlap)', async () => {
      const { engine, waitForCompletion } = environment({});
      const { instanceId } = await engine.start('fanOut', { input: 8 });
      expect((await waitForCompletion(instanceId)).runtimeStatus).toBe('Completed');
      expect(app.activityProbe).toEqual({ running: 0, maxRunning: 8, completed: 8 });
    });
  });

  describe('maxConcurrentOrchestratorFunctions', () => {
    async function runTwo(testEnv: TestDurableEnvironment): Promise<void> {
      const started = await Promise.all([
        testEnv.engine.start('threeSteps', { instanceId: 'first' }),
        testEnv.engine.start('threeSteps', { instanceId: 'second' }),
      ]);
      for (const { instanceId } of started) {
        expect(await testEnv.waitForCompletion(instanceId)).toMatchObject({
          runtimeStatus: 'Completed',
          output: [10, 20, 30],
        });
      }
    }

    it('never overlaps two instances’ episodes with a limit of 1', async () => {
      await runTwo(environment({ maxConcurrentOrchestratorFunctions: 1 }));
      expect(episodes.all.max).toBe(1);
      // Each instance replays once per message (start and three results), so there was room to overlap.
      expect(episodes.byInstance.get('first')?.count).toBeGreaterThanOrEqual(4);
      expect(episodes.byInstance.get('second')?.count).toBeGreaterThanOrEqual(4);
      expect(app.activityProbe.completed).toBe(6);
    });

    it('overlaps the two instances’ episodes under the default limit (the probe sees overlap)', async () => {
      await runTwo(environment({}));
      expect(episodes.all.max).toBe(2);
    });

    it('runs one episode at a time per instance while results arrive during its episodes', async () => {
      const { engine, waitForCompletion } = environment({ maxConcurrentActivityFunctions: 10 });
      const started = await Promise.all(
        ['a', 'b', 'c'].map((instanceId) => engine.start('fanOut', { instanceId, input: 6 })),
      );
      for (const { instanceId } of started) {
        expect(await waitForCompletion(instanceId)).toMatchObject({
          runtimeStatus: 'Completed',
          output: [0, 10, 20, 30, 40, 50],
        });
      }
      expect([...episodes.byInstance.values()].map((g) => g.max)).toEqual([1, 1, 1]);
      // Fewer episodes than messages (start + 6 results): results did arrive while an episode ran.
      for (const gauge of episodes.byInstance.values()) expect(gauge.count).toBeLessThan(7);
      // Several instances did run at once: the per-instance bound is not the global limit.
      expect(episodes.all.max).toBeGreaterThan(1);
    });
  });
});
