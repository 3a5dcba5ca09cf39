/**
 * LUCIUS_HEALTH_TIMEOUT_MS reaches the readiness probe through the composition root: the app's own
 * wiring (`createAdapters` + `assembleServices`) bounds each dependency check by it. Time is jest's
 * fake clock, so a hanging check is cut off by advancing it.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { assembleServices, createAdapters } from '../../../src/composition';
import { parseSettings } from '../../../src/config/settings';
import { handleReadiness } from '../../../src/http/health-handlers';
import type { Services } from '../../../src/services';

function wired(env: Record<string, string>): Services {
  return assembleServices(createAdapters(parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory', ...env })));
}

/** The wiring with a ledger that never answers and a durable backend that does. */
function withHangingLedger(services: Services): Pick<Services, 'readiness' | 'http'> {
  const { serviceBus: _none, ...readiness } = services.readiness;
  return {
    http: services.http,
    readiness: {
      ...readiness,
      ledger: { ping: () => new Promise<void>(() => undefined) },
      durableFor: () => ({ inspect: async () => ({ state: 'Missing' as const }) }),
      elapsedMs: () => Date.now(),
    },
  };
}

function probe(services: Pick<Services, 'readiness' | 'http'>) {
  return handleReadiness(
    services,
    new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/healthz' }),
    new InvocationContext({ functionName: 'healthz', logHandler: () => undefined }),
  );
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('the readiness timeout setting', () => {
  it('is 1500 ms unless configured', () => {
    expect(wired({}).readiness.timeoutMs).toBe(1500);
  });

  it('bounds each check by LUCIUS_HEALTH_TIMEOUT_MS', async () => {
    const answer = probe(withHangingLedger(wired({ LUCIUS_HEALTH_TIMEOUT_MS: '250' })));
    let settled = false;
    void answer.then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(249);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const response = await answer;
    expect(response.status).toBe(503);
    expect(JSON.parse(String(response.body))).toMatchObject({
      timeout_ms: 250,
      detail: 'not ready: ledger did not answer within 250 ms',
      failing: ['ledger'],
      ledger: { status: 'unavailable', latency_ms: 250, error: 'timeout' },
      durable_task_hub: { status: 'ok' },
    });
  });
});
