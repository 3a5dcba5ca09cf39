/**
 * GET /health and GET /healthz over the app's own wiring (in-memory adapters), with each dependency
 * replaced by a fake that answers, fails, or hangs past the timeout. Time is jest's fake clock: a
 * hanging check is cut off by advancing it, and latencies read that clock, so they are exact.
 */
import { InvocationContext } from '@azure/functions';
import { assembleServices, createAdapters } from '../../../src/composition';
import { parseSettings } from '../../../src/config/settings';
import { handleHealth, handleReadiness } from '../../../src/http/health-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import { LedgerUnavailableError } from '../../../src/ledger/errors';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';
import type { DependencyProbe } from '../../../src/ports/dependency-probe';
import type { Services } from '../../../src/services';
import { HEALTH_PROBE_INSTANCE_ID } from '../../../src/usecases/check-readiness';
import { bodyOf, context, get, headerOf, testServices } from './fixtures';

const TIMEOUT_MS = 1500;

type Behaviour = 'answers' | 'fails' | 'hangs';

/** Resolves after `delayMs` of the (fake) clock, rejects with `error`, or never settles. */
function behave(behaviour: Behaviour, error: Error, delayMs = 0): Promise<void> {
  if (behaviour === 'hangs') return new Promise(() => undefined);
  if (behaviour === 'fails') return Promise.reject(error);
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

class FakeBus implements DependencyProbe {
  readonly target = 'lucius-quarantine';
  signal: AbortSignal | undefined;
  constructor(private readonly behaviour: Behaviour) {}
  probe(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), {
      code: 'ServiceCommunicationProblem',
    });
    return behave(this.behaviour, error, 30);
  }
}

interface Dependencies {
  readonly ledger?: Behaviour;
  readonly bus?: FakeBus;
  readonly durable?: Behaviour;
}

function services(deps: Dependencies = {}): Pick<Services, 'readiness' | 'http'> & { asked: string[] } {
  const base = testServices({ LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: '7' });
  const asked: string[] = [];
  return {
    http: base.http,
    asked,
    readiness: {
      ...base.readiness,
      ledger: {
        ping: () => behave(deps.ledger ?? 'answers', new LedgerUnavailableError('HTTP 503: server busy'), 12),
      },
      serviceBus: deps.bus ?? new FakeBus('answers'),
      durableFor: () => ({
        inspect: async (jobId: string) => {
          asked.push(jobId);
          await behave(
            deps.durable ?? 'answers',
            new OrchestrationUnavailableError(jobId, new Error('500')),
            8,
          );
          return { state: 'Missing' as const };
        },
      }),
      timeoutMs: TIMEOUT_MS,
      elapsedMs: () => Date.now(),
    },
  };
}

async function readiness(s: Pick<Services, 'readiness' | 'http'>) {
  const answer = handleReadiness(s, get('/api/healthz'), context('healthz'));
  await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
  return answer;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('handleHealth', () => {
  it('answers 200 while the process is up', () => {
    expect(handleHealth()).toMatchObject({ status: 200, jsonBody: { status: 'ok' } });
  });
});

describe('handleReadiness', () => {
  it('answers 200 with every dependency and its latency when all answer', async () => {
    const s = services();
    const response = await readiness(s);
    expect(response.status).toBe(200);
    expect(headerOf(response, 'cache-control')).toBe('no-store');
    expect(bodyOf(response)).toEqual({
      status: 'ok',
      timeout_ms: TIMEOUT_MS,
      ledger: { backend: 'memory', status: 'ok', latency_ms: 12 },
      service_bus: { queue: 'lucius-quarantine', status: 'ok', latency_ms: 30 },
      durable_task_hub: { task_hub: 'Lucius', status: 'ok', latency_ms: 8 },
    });
    expect(s.asked).toEqual([HEALTH_PROBE_INSTANCE_ID]);
  });

  it.each([
    ['ledger', 'ledger_unavailable', { ledger: 'hangs' }],
    ['service_bus', 'service_bus_unavailable', { bus: new FakeBus('hangs') }],
    ['durable_task_hub', 'orchestration_unavailable', { durable: 'hangs' }],
  ] as const)(
    'answers 503 naming %s when it hangs past the timeout, the others still answering',
    async (name, code, deps) => {
      const response = await readiness(services(deps as Dependencies));
      expect(response.status).toBe(503);
      expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(headerOf(response, 'retry-after')).toBe('7');
      const body = bodyOf(response);
      expect(body).toMatchObject({
        type: `urn:lucius:problem:${code}`,
        status: 503,
        code,
        detail: `not ready: ${name} did not answer within ${TIMEOUT_MS} ms`,
        instance: '/api/healthz',
        failing: [name],
        [name]: { status: 'unavailable', latency_ms: TIMEOUT_MS, error: 'timeout' },
      });
      for (const other of ['ledger', 'service_bus', 'durable_task_hub'].filter((n) => n !== name)) {
        expect(body[other]).toMatchObject({ status: 'ok' });
      }
    },
  );

  it.each([
    ['ledger', 'ledger_unavailable', 'ledger_unavailable', { ledger: 'fails' }],
    ['service_bus', 'service_bus_unavailable', 'ServiceCommunicationProblem', { bus: new FakeBus('fails') }],
    ['durable_task_hub', 'orchestration_unavailable', 'orchestration_unavailable', { durable: 'fails' }],
  ] as const)('answers 503 naming %s when it fails, with its error code', async (name, code, error, deps) => {
    const response = await readiness(services(deps as Dependencies));
    expect(response.status).toBe(503);
    expect(bodyOf(response)).toMatchObject({
      code,
      detail: `not ready: ${name} is unavailable (${error})`,
      failing: [name],
      [name]: { status: 'unavailable', latency_ms: 0, error },
    });
  });

  it('runs the checks together: all three hanging answer once, after one timeout, naming all three', async () => {
    const answer = handleReadiness(
      services({ ledger: 'hangs', bus: new FakeBus('hangs'), durable: 'hangs' }),
      get('/api/healthz'),
      context('healthz'),
    );
    let settled = false;
    void answer.then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const response = await answer;
    expect(response.status).toBe(503);
    expect(bodyOf(response)).toMatchObject({
      code: 'ledger_unavailable',
      failing: ['ledger', 'service_bus', 'durable_task_hub'],
    });
  });

  it('aborts a check that hangs past the timeout', async () => {
    const bus = new FakeBus('hangs');
    await readiness(services({ bus }));
    expect(bus.signal?.aborted).toBe(true);
  });

  it('logs what failed, since the anonymous answer shows only codes', async () => {
    const lines: string[] = [];
    const logged = new InvocationContext({
      invocationId: 'inv-1',
      functionName: 'healthz',
      logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
    });
    const answer = handleReadiness(services({ ledger: 'fails' }), get('/api/healthz'), logged);
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(JSON.stringify(bodyOf(await answer))).not.toContain('server busy');
    expect(
      lines.some((line) => line.includes('health.dependency_unavailable') && line.includes('server busy')),
    ).toBe(true);
  });

  it('answers 200 over the in-memory wiring, which has no Service Bus to ask', async () => {
    const response = await readiness(testServices());
    expect(response.status).toBe(200);
    const body = bodyOf(response);
    expect(body).toMatchObject({ ledger: { status: 'ok' }, durable_task_hub: { status: 'ok' } });
    expect(body).not.toHaveProperty('service_bus');
  });

  it('names Service Bus and the task hub when the app has no Service Bus setting and no durable client', async () => {
    const wired = assembleServices(createAdapters(parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' })));
    const response = await readiness(wired);
    expect(response.status).toBe(503);
    expect(bodyOf(response)).toMatchObject({
      code: 'service_bus_unavailable',
      failing: ['service_bus', 'durable_task_hub'],
      ledger: { status: 'ok' },
      service_bus: { queue: 'lucius-quarantine', status: 'unavailable', error: 'error' },
      durable_task_hub: { status: 'unavailable', error: 'orchestration_unavailable' },
    });
  });
});
