/**
 * The time-skipping test environment (after Temporal's): the durable engine in process, on the
 * memory store (or any store), with a ManualClock. Whenever nothing can run and the next thing is
 * a timer, time jumps to it, so an orchestration that waits 15 minutes or backs off 10 minutes
 * finishes in milliseconds of real time, with the skipped time visible in its history.
 */
import type { LogHandler } from '@azure/functions';
import type { InstanceStatus } from '../durable-api';
import { ManualClock } from '../../common/clock';
import { createDurableEngine, isRunningStatus, type DevhostDurableEngine } from './engine';
import { MemoryDurableStore } from './memory-store';
import { registerDurableFunctions, type FunctionRegistration } from './registrations';
import type { DurableStore } from './store';
import type { OrchestrationVersioning } from './versioning';

export interface TestDurableEnvironmentOptions {
  readonly registrations?: readonly FunctionRegistration[];
  readonly store?: DurableStore;
  /** Where the clock starts; default 2024-01-01T00:00:00Z. */
  readonly startTime?: Date;
  readonly maxConcurrentActivityFunctions?: number;
  readonly maxConcurrentOrchestratorFunctions?: number;
  /** Default: function logs are dropped. */
  readonly functionLogHandler?: LogHandler;
  /** host.json's orchestration versioning settings; default: none. */
  readonly versioning?: OrchestrationVersioning;
  /** Guard against orchestrations that never end (eternal timers); default 10 000 jumps. */
  readonly maxTimeSkips?: number;
}

export interface TestDurableEnvironment {
  readonly engine: DevhostDurableEngine;
  readonly clock: ManualClock;
  readonly store: DurableStore;
  /**
   * Runs until the instance is no longer Pending/Running/Suspended, skipping time to each next
   * timer. Rejects when the instance can make no progress without outside help (it waits for an
   * event, or is suspended) and no timer is armed.
   */
  waitForCompletion(instanceId: string): Promise<InstanceStatus>;
  /** Runs everything that can run now, firing timers that are due, without moving time. */
  runUntilIdle(): Promise<void>;
  /** Moves time forward by `ms` (firing the timers due on the way), then runs until idle. */
  advanceBy(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export function createTestDurableEnvironment(
  options: TestDurableEnvironmentOptions = {},
): TestDurableEnvironment {
  const clock = new ManualClock(options.startTime);
  const store = options.store ?? new MemoryDurableStore();
  const engine = createDurableEngine({
    store,
    clock,
    functionLogHandler: options.functionLogHandler ?? (() => undefined),
    ...(options.versioning === undefined ? {} : { versioning: options.versioning }),
    ...(options.maxConcurrentActivityFunctions === undefined
      ? {}
      : { maxConcurrentActivityFunctions: options.maxConcurrentActivityFunctions }),
    ...(options.maxConcurrentOrchestratorFunctions === undefined
      ? {}
      : { maxConcurrentOrchestratorFunctions: options.maxConcurrentOrchestratorFunctions }),
  });
  registerDurableFunctions(engine, options.registrations ?? []);
  const started = engine.run();
  const maxSkips = options.maxTimeSkips ?? 10_000;

  const runUntilIdle = async (): Promise<void> => {
    await started;
    for (;;) {
      await engine.whenIdle();
      const next = clock.nextTimerAt();
      if (next === undefined || next > clock.now()) return;
      await clock.set(clock.now());
    }
  };

  return {
    engine,
    clock,
    store,
    runUntilIdle,
    async advanceBy(ms: number) {
      await runUntilIdle();
      await clock.advance(ms);
      await runUntilIdle();
    },
    async waitForCompletion(instanceId: string) {
      for (let skips = 0; skips <= maxSkips; skips += 1) {
        await runUntilIdle();
        const status = await engine.status(instanceId);
        if (status !== undefined && !isRunningStatus(status.runtimeStatus)) return status;
        const next = clock.nextTimerAt();
        if (next === undefined)
          throw new Error(
            `instance ${instanceId} is ${status?.runtimeStatus ?? 'unknown'} and cannot progress: ` +
              'it waits for an external event or is suspended, and no timer is armed',
          );
        await clock.set(next);
      }
      throw new Error(`instance ${instanceId} did not finish within ${maxSkips} time skips`);
    },
    async stop() {
      await started;
      await engine.stop();
    },
  };
}
