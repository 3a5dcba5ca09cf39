/**
 * devhost hosting the fixture app (test/devhost/fixtures/http-app) over real HTTP on a free port.
 */
import { join } from 'node:path';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { ManualClock } from '../../../devhost/common/clock';

const APP_DIR = join(__dirname, '..', 'fixtures', 'http-app');
const FUNCTION_KEY = 'test-function-key';
const MASTER_KEY = 'test-master-key';

let host: DevHost;
let logs: string[];
let clock: ManualClock;

function fixtureEnv(): NodeJS.ProcessEnv {
  return { ...process.env, WARMUP_SCHEDULE: '01:00:00', FIXTURE_HUB: 'FixtureHub' };
}

beforeAll(async () => {
  logs = [];
  clock = new ManualClock('2024-01-01T00:02:00.000Z');
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    keys: { functionKey: FUNCTION_KEY, masterKey: MASTER_KEY },
    clock,
    env: fixtureEnv(),
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await host.stop();
});

function api(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${host.apiUrl}/${path}`, init);
}

async function timerRuns(): Promise<{ name: string; isPastDue: boolean; next: string }[]> {
  return (await (await api('timer-runs')).json()) as { name: string; isPastDue: boolean; next: string }[];
}

describe('devhost host start-up', () => {
  it('prints the function table with routes, methods, auth levels and schedules', () => {
    const table = logs.join('\n');
    expect(table).toContain(`hello: [GET] ${host.baseUrl}/api/hello/{name}  (authLevel anonymous)`);
    expect(table).toContain(`resource: [PUT,DELETE] ${host.baseUrl}/api/resource`);
    expect(table).toContain('tick: timerTrigger (0 */5 * * * *)');
    expect(table).toContain('warmup: timerTrigger (every 01:00:00, runOnStartup)');
    expect(table).toContain(`Function key: ${FUNCTION_KEY}`);
  });

  it('reads host.json with %SETTING% expansion', () => {
    expect(host.config).toEqual({
      routePrefix: 'api',
      serviceBus: {
        maxConcurrentCalls: 16,
        maxMessageBatchSize: 1000,
        clientRetryOptions: {
          mode: 'exponential',
          delayMs: 800,
          maxDelayMs: 60_000,
          maxRetries: 3,
          tryTimeoutMs: 60_000,
        },
        maxAutoLockRenewalDurationMs: 300_000,
      },
      durableTask: {
        hubName: 'FixtureHub',
        maxConcurrentActivityFunctions: 3,
        maxConcurrentOrchestratorFunctions: 10,
        versionMatchStrategy: 'CurrentOrOlder',
        versionFailureStrategy: 'Reject',
      },
    });
  });

  it('says that durableClient inputs get no client data without a durable engine', () => {
    expect(logs.join('\n')).toMatch(/durable support is not wired.*startSomething/);
  });
});

describe('devhost HTTP routing', () => {
  it('passes route parameters and the query to the handler', async () => {
    const response = await api('hello/ada%20l?q=x');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ name: 'ada l', q: 'x', method: 'GET' });
  });

  it('matches the route prefix and literal segments case-insensitively', async () => {
    const response = await fetch(`${host.baseUrl}/API/Hello/bob`);
    expect(await response.json()).toEqual({ name: 'bob', q: null, method: 'GET' });
  });

  it('chooses a route by its constraint', async () => {
    const byInt = await (await api('items/42')).json();
    const byGuid = await (await api('items/0f8fad5b-d9cb-469f-a165-70867728950e')).json();
    const neither = await api('items/abc');
    expect(byInt).toEqual({ route: 'int', id: '42' });
    expect(byGuid).toEqual({ route: 'guid', id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    expect(neither.status).toBe(404);
  });

  it('prefers a literal segment over a parameter whatever the registration order', async () => {
    expect(await (await api('users/me')).json()).toEqual({ route: 'literal' });
    expect(await (await api('users/ann')).json()).toEqual({ route: 'param', name: 'ann' });
  });

  it('treats an optional parameter as absent when the segment is missing', async () => {
    expect(await (await api('opt')).json()).toEqual({ x: null });
    expect(await (await api('opt/7')).json()).toEqual({ x: '7' });
  });

  it('gives a catch-all parameter the rest of the path', async () => {
    expect(await (await api('files/a/b/c.txt')).json()).toEqual({ rest: 'a/b/c.txt' });
  });

  it('answers 405 with Allow for a wrong method and 404 for an unknown route', async () => {
    const wrongMethod = await api('resource');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('PUT, DELETE');
    expect(await (await api('resource', { method: 'DELETE' })).text()).toBe('did DELETE');
    expect((await api('no/such/route')).status).toBe(404);
    expect((await fetch(`${host.baseUrl}/elsewhere/hello/x`)).status).toBe(404);
  });
});

describe('devhost HTTP auth levels', () => {
  const post = (path: string, init: RequestInit = {}) => api(path, { method: 'POST', body: 'hi', ...init });

  it('refuses a function-level route without a key', async () => {
    expect((await post('echo')).status).toBe(401);
    expect((await post('echo?code=wrong')).status).toBe(401);
  });

  it('accepts the function key as ?code= or x-functions-key, and the master key', async () => {
    expect((await post(`echo?code=${FUNCTION_KEY}`)).status).toBe(201);
    expect((await post('echo', { headers: { 'x-functions-key': FUNCTION_KEY } })).status).toBe(201);
    expect((await post(`echo?code=${MASTER_KEY}`)).status).toBe(201);
  });

  it('accepts only the master key on an admin-level route', async () => {
    expect((await api(`secret?code=${FUNCTION_KEY}`)).status).toBe(401);
    const response = await api('secret', { headers: { 'x-functions-key': MASTER_KEY } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('admin only');
  });
});

describe('devhost HTTP request and response conversion', () => {
  it('streams the request body to the handler and returns status, headers and cookies', async () => {
    const response = await api(`echo?code=${FUNCTION_KEY}`, { method: 'POST', body: 'hello world' });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('HELLO WORLD');
    expect(response.headers.get('x-echo-length')).toBe('11');
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('returns a jsonBody from an HttpResponse', async () => {
    const response = await api('echo-json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: { a: [1, 2] } });
  });

  it('streams a ReadableStream body and sends bytes unchanged', async () => {
    expect(await (await api('stream')).text()).toBe('one,two,three');
    const bytes = new Uint8Array(await (await api('bytes')).arrayBuffer());
    expect([...bytes]).toEqual([1, 2, 3, 255]);
  });

  it('answers 204 when the handler returns nothing', async () => {
    const response = await api('nothing');
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('answers 500 and logs the error when the handler throws', async () => {
    const response = await api('boom');
    expect(response.status).toBe(500);
    expect(logs.join('\n')).toMatch(/Executed 'boom' \(Failed\): Error: kaboom/);
  });

  it('leaves a durableClient input empty when no durable engine is wired', async () => {
    expect(await (await api('start', { method: 'POST' })).json()).toEqual({ client: null });
  });
});

describe('devhost timers', () => {
  it('runs a runOnStartup timer once at start, not past due', async () => {
    const runs = await timerRuns();
    expect(runs[0]).toEqual({ name: 'warmup', isPastDue: false, next: '2024-01-01T01:02:00.000Z' });
  });

  it('fires a cron timer on its schedule and reports a late run as past due', async () => {
    const before = (await timerRuns()).length;
    await clock.set(new Date('2024-01-01T00:05:00.000Z'));
    await clock.set(new Date('2024-01-01T00:21:00.000Z'), { jump: true });
    const ticks = (await timerRuns()).slice(before).filter((run) => run.name === 'tick');
    expect(ticks).toEqual([
      { name: 'tick', isPastDue: false, next: '2024-01-01T00:10:00.000Z' },
      { name: 'tick', isPastDue: true, next: '2024-01-01T00:25:00.000Z' },
    ]);
  });

  it('runs a timer now through the admin endpoint with the master key', async () => {
    const before = (await timerRuns()).length;
    const unauthorized = await fetch(`${host.baseUrl}/admin/functions/tick`, { method: 'POST', body: '{}' });
    expect(unauthorized.status).toBe(401);
    const response = await fetch(`${host.baseUrl}/admin/functions/tick`, {
      method: 'POST',
      headers: { 'x-functions-key': MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ input: '' }),
    });
    expect(response.status).toBe(202);
    let runs = await timerRuns();
    while (runs.length === before) {
      await new Promise((resolve) => setImmediate(resolve));
      runs = await timerRuns();
    }
    expect(runs.slice(before)).toEqual([
      { name: 'tick', isPastDue: false, next: '2024-01-01T00:25:00.000Z' },
    ]);
  });

  it('answers 404 for an unknown function and 400 for an HTTP function on the admin endpoint', async () => {
    const run = (name: string) =>
      fetch(`${host.baseUrl}/admin/functions/${name}`, {
        method: 'POST',
        headers: { 'x-functions-key': MASTER_KEY },
      });
    expect((await run('nope')).status).toBe(404);
    expect((await run('hello')).status).toBe(400);
  });
});
