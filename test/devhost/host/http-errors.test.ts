/**
 * How devhost answers when something fails: a function that throws gets the Functions host's answer
 * (500, no body, the error logged); a failure of devhost itself or of a part's API is its own error,
 * answered as 500 `application/problem+json` on the public port and on the internal listener.
 */
import { join } from 'node:path';
import type { HostAccess, HostPart } from '../../../devhost/common/host-parts';
import { startHost, type DevHost } from '../../../devhost/host/host';

const APP_DIR = join(__dirname, '..', 'fixtures', 'http-app');
const MASTER_KEY = 'test-master-key';

let host: DevHost;
let logs: string[];
let access: HostAccess | undefined;

/** A part whose API fails on every request, as a bug in a part would. */
function failingPart(): HostPart {
  return {
    name: 'failing support',
    kinds: [],
    httpApi: {
      title: 'the failing API',
      keyName: 'failing_extension',
      publicPath: '/runtime/webhooks/failing',
      internalPath: '/failing',
      handle: () => Promise.reject(new Error('the store is gone')),
    },
    register: () => undefined,
    listening: (given) => {
      access = given;
    },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

beforeAll(async () => {
  logs = [];
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    keys: { functionKey: MASTER_KEY, masterKey: MASTER_KEY },
    env: { ...process.env, WARMUP_SCHEDULE: '01:00:00', FIXTURE_HUB: 'FixtureHub' },
    parts: [failingPart()],
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await host.stop();
});

describe('devhost HTTP failures', () => {
  it('answers a throwing function 500 with an empty body, as the Functions host does', async () => {
    const response = await fetch(`${host.apiUrl}/boom`);
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe('');
    expect(logs.join('\n')).toMatch(/Executed 'boom' \(Failed\): Error: kaboom/);
  });

  it('answers its own failure on the public port as 500 problem+json and logs the stack', async () => {
    const response = await fetch(`${host.baseUrl}/runtime/webhooks/failing/x`, {
      headers: { 'x-functions-key': MASTER_KEY },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toMatchObject({
      status: 500,
      title: 'Internal Server Error',
      code: 'internal_error',
      detail: expect.stringContaining('the store is gone') as unknown,
    });
    expect(logs.join('\n')).toMatch(
      /request GET \/runtime\/webhooks\/failing\/x failed: Error: the store is gone\n\s+at /,
    );
  });

  it('answers a failure on the internal listener as 500 problem+json', async () => {
    const response = await fetch(`${access?.internalUrl ?? 'http://missing'}/failing/x`);
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toMatchObject({ status: 500, code: 'internal_error' });
  });
});
