/**
 * The Table store's cache of instances between episodes (table-instance-cache.ts), on Azurite: an
 * episode of a cached instance reads nothing; a second process's change to the instance makes the
 * first one's commit fail on the row's ETag, after which it reads the instance again and loses no
 * event; a new process (empty cache) rebuilds the instance from storage.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import {
  InstanceConflictError,
  TableDurableStore,
  createTestDurableEnvironment,
  type EpisodeCommit,
  type TestDurableEnvironment,
} from '../../../../devhost/durable/engine';
import type { CommitHook } from '../../../../devhost/durable/engine/crash-points';
import { testTableConnectionString } from '../../../support/table-storage';
import { uniqueTablePrefix } from '../../../support/unique';
import { loadTwoEventsApp } from './two-events-app';

type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/** Table Storage requests by HTTP method, counted by a pipeline policy on every client of a store. */
function requestCounter(): { policy: PipelinePolicy; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    policy: {
      name: 'countRequests',
      sendRequest: (request, next) => {
        counts[request.method] = (counts[request.method] ?? 0) + 1;
        return next(request);
      },
    },
  };
}

function tableStore(prefix: string, policy?: PipelinePolicy): TableDurableStore {
  return new TableDurableStore({
    connection: { connectionString: testTableConnectionString() },
    tablePrefix: prefix,
    ...(policy === undefined
      ? {}
      : { clientOptions: { additionalPolicies: [{ policy, position: 'perCall' }] } }),
  });
}

/** Counts the commits the store refused because the instance moved. */
function countConflicts(store: TableDurableStore): { readonly count: () => number } {
  let conflicts = 0;
  const commit = store.commitEpisode.bind(store);
  store.commitEpisode = async (episode: EpisodeCommit, reached: CommitHook) => {
    try {
      await commit(episode, reached);
    } catch (error) {
      if (error instanceof InstanceConflictError) conflicts += 1;
      throw error;
    }
  };
  return { count: () => conflicts };
}

/** The names of the EventRaised events in an instance's displayed history. */
async function raisedEvents(env: TestDurableEnvironment, instanceId: string): Promise<string[]> {
  const status = await env.engine.status(instanceId, { showHistory: true });
  return (status?.historyEvents ?? [])
    .filter((event) => event.EventType === 'EventRaised')
    .map((event) => String(event.Name))
    .sort();
}

describe('TableDurableStore cache', () => {
  it('runs an episode of an instance it keeps without reading Table Storage', async () => {
    const counter = requestCounter();
    const env = createTestDurableEnvironment({
      registrations: loadTwoEventsApp(),
      store: tableStore(uniqueTablePrefix('cachehit'), counter.policy),
    });
    try {
      await env.engine.start('collectsTwo', { instanceId: 'kept' });
      await env.runUntilIdle();
      await env.engine.raiseEvent('kept', 'first', 1);
      await env.runUntilIdle();
      for (const method of Object.keys(counter.counts)) delete counter.counts[method];

      expect(await env.engine.raiseEvent('kept', 'second', 2)).toBe('accepted');
      await env.runUntilIdle();
      // The event's message (one write) and the episode's commit (one transaction): no reads.
      expect(counter.counts.GET ?? 0).toBe(0);
      expect(Object.values(counter.counts).reduce((n, c) => n + c, 0)).toBe(2);
      expect(await env.waitForCompletion('kept')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { first: 1, second: 2 },
      });
    } finally {
      await env.stop();
    }
  });

  it('reads the instance again when another process moved it, and loses no event', async () => {
    const prefix = uniqueTablePrefix('cacheetag');
    const storeA = tableStore(prefix);
    const conflicts = countConflicts(storeA);
    const a = createTestDurableEnvironment({ registrations: loadTwoEventsApp(), store: storeA });
    const b = createTestDurableEnvironment({
      registrations: loadTwoEventsApp(),
      store: tableStore(prefix),
      startTime: a.clock.now(),
    });
    try {
      await a.engine.start('collectsTwo', { instanceId: 'shared' });
      await a.runUntilIdle(); // A keeps the instance, waiting for both events
      expect(await b.engine.raiseEvent('shared', 'first', 'from B')).toBe('accepted');
      await b.runUntilIdle(); // B's episode stores `first`: the row's ETag changes
      expect(await a.engine.raiseEvent('shared', 'second', 'from A')).toBe('accepted');

      expect(await a.waitForCompletion('shared')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { first: 'from B', second: 'from A' },
      });
      expect(conflicts.count()).toBe(1);
      expect(await raisedEvents(a, 'shared')).toEqual(['first', 'second']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('rebuilds an instance from storage in a new process', async () => {
    const prefix = uniqueTablePrefix('cacherestart');
    const before = createTestDurableEnvironment({
      registrations: loadTwoEventsApp(),
      store: tableStore(prefix),
    });
    await before.engine.start('collectsTwo', { instanceId: 'restarted' });
    await before.engine.raiseEvent('restarted', 'first', 'before');
    await before.runUntilIdle();
    await before.stop();

    const counter = requestCounter();
    const after = createTestDurableEnvironment({
      registrations: loadTwoEventsApp(),
      store: tableStore(prefix, counter.policy),
      startTime: before.clock.now(),
    });
    try {
      expect(await after.engine.raiseEvent('restarted', 'second', 'after')).toBe('accepted');
      expect(await after.waitForCompletion('restarted')).toMatchObject({
        runtimeStatus: 'Completed',
        output: { first: 'before', second: 'after' },
      });
      // Its row and history were read: nothing was taken from the first process.
      expect(counter.counts.GET ?? 0).toBeGreaterThan(0);
      expect(await raisedEvents(after, 'restarted')).toEqual(['first', 'second']);
    } finally {
      await after.stop();
    }
  });
});
