/**
 * GET /admin/host/executions on devhost hosting the fixture app (test/devhost/fixtures/http-app)
 * over real HTTP on a free port: the master key reads what the host counted, by function and kind.
 */
import { join } from 'node:path';
import { ManualClock } from '../../../devhost/common/clock';
import type { ExecutionSnapshot } from '../../../devhost/common/execution-stats';
import { startHost, type DevHost } from '../../../devhost/host/host';

const APP_DIR = join(__dirname, '..', 'fixtures', 'http-app');
const FUNCTION_KEY = 'test-function-key';
const MASTER_KEY = 'test-master-key';

let host: DevHost;

beforeAll(async () => {
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    keys: { functionKey: FUNCTION_KEY, masterKey: MASTER_KEY },
    clock: new ManualClock('2024-01-01T00:02:00.000Z'),
    env: { ...process.env, WARMUP_SCHEDULE: '01:00:00', FIXTURE_HUB: 'FixtureHub' },
    log: () => undefined,
    invocationLines: false,
  });
});

afterAll(async () => {
  await host.stop();
});

function executions(key?: string, method = 'GET'): Promise<Response> {
  return fetch(`${host.baseUrl}/admin/host/executions`, {
    method,
    headers: key === undefined ? {} : { 'x-functions-key': key },
  });
}

describe('GET /admin/host/executions', () => {
  it('answers the executions of every kind the host ran, by function, with the master key', async () => {
    const before = (await (await executions(MASTER_KEY)).json()) as ExecutionSnapshot;
    for (const name of ['a', 'b', 'c']) {
      expect((await fetch(`${host.apiUrl}/hello/${name}`)).status).toBe(200);
    }
    expect(await host.runTimer('tick')).toBe(true);

    const response = await executions(MASTER_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const after = (await response.json()) as ExecutionSnapshot;
    const hello = after.byFunction.hello;
    expect(hello).toMatchObject({
      kind: 'http',
      count: (before.byFunction.hello?.count ?? 0) + 3,
      failed: 0,
    });
    expect(after.byFunction.tick).toMatchObject({
      kind: 'timer',
      count: (before.byFunction.tick?.count ?? 0) + 1,
    });
    expect(after.byKind.http?.count).toBe((before.byKind.http?.count ?? 0) + 3);
    expect(after.total.count).toBeGreaterThanOrEqual(before.total.count + 4);
    expect(after.running).toBe(0);
    expect(typeof after.meanDurationMs).toBe('number');
    expect(after.busyMs).toBeGreaterThanOrEqual(before.busyMs);
    expect(after.memory.rssBytes).toBeGreaterThan(0);
    expect(after.memory.maxRssBytes).toBeGreaterThanOrEqual(after.memory.rssBytes);
    expect(host.executions().byFunction.hello?.count).toBe(hello?.count);
  });

  it('needs the master key: the function key answers 401 problem+json', async () => {
    for (const key of [undefined, FUNCTION_KEY]) {
      const response = await executions(key);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('is read with GET: another method answers 405 with Allow', async () => {
    const response = await executions(MASTER_KEY, 'POST');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
