/**
 * The Durable HTTP API stays responsive while a busy orchestration runs on the memory store: the
 * memory store answers without I/O, so an engine that never yielded to the event loop would keep
 * every HTTP request waiting until the orchestration finished.
 */
import {
  MemoryDurableStore,
  createDurableEngine,
  registerDurableFunctions,
  type DevhostDurableEngine,
} from '../../../../devhost/durable/engine';
import { createDurableHttpApi } from '../../../../devhost/durable/http-api';
import { loadFidelityApp } from '../engine/load-fidelity-app';
import { serve, type Served } from './serve';

const WEBHOOK = '/runtime/webhooks/durabletask';
const STEPS = 200;

describe('Durable HTTP API over a busy engine on the memory store', () => {
  let engine: DevhostDurableEngine;
  let server: Served;

  beforeEach(async () => {
    engine = createDurableEngine({ store: new MemoryDurableStore(), functionLogHandler: () => undefined });
    registerDurableFunctions(engine, loadFidelityApp().registrations);
    await engine.run();
    server = await serve((origin) => createDurableHttpApi(engine, { taskHub: 'BusyHub', baseUrl: origin }));
  });

  afterEach(async () => {
    await engine.stop();
    await server.close();
  });

  it('answers GET instances/{id} while the orchestration is still running', async () => {
    const started = await fetch(`${server.origin}${WEBHOOK}/orchestrators/busyCounter/busy-1`, {
      method: 'POST',
      body: JSON.stringify(STEPS),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(started.status).toBe(202);

    const seen: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${server.origin}${WEBHOOK}/instances/busy-1`);
      seen.push(((await response.json()) as { runtimeStatus: string }).runtimeStatus);
    }
    // Answered between episodes, not after the last one.
    expect(seen).toEqual(['Running', 'Running', 'Running']);

    await engine.whenIdle();
    expect(await engine.status('busy-1')).toMatchObject({ runtimeStatus: 'Completed', output: STEPS });
  });
});
