/**
 * devhost answers as Azure does for an app that is not Lucius (test/devhost/fixtures/fidelity-app,
 * plain @azure/functions): a brace-glob `main`, HTTP stream mode's `request.params`,
 * `AzureWebJobs.<name>.Disabled`, and devhost's own answers as problem documents.
 */
import { join } from 'node:path';
import { startHost, type DevHost } from '../../../devhost/host/host';

const APP_DIR = join(__dirname, '..', 'fixtures', 'fidelity-app');

let host: DevHost | undefined;

beforeAll(async () => {
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: () => undefined,
    env: { ...process.env, 'AzureWebJobs.hidden.Disabled': 'true', 'AzureWebJobs.TICK.Disabled': '1' },
  });
});

afterAll(async () => {
  await host?.stop();
});

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

async function ticks(): Promise<number> {
  return ((await (await fetch(`${running().apiUrl}/ticks`)).json()) as { ticks: number }).ticks;
}

describe('devhost fidelity to Azure', () => {
  it('loads every file a main with brace alternatives names, globs inside the braces included', () => {
    expect(running().functions.map((fn) => fn.name)).toEqual(['hidden', 'tick', 'ticks', 'echo']);
  });

  it('gives a stream-mode handler the query values and route parameters in request.params', async () => {
    const response = await fetch(`${running().apiUrl}/items/42?color=red&tag=a&tag=b&id=from-query`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      params: { id: '42', color: 'red', tag: 'a,b' },
      query: { color: 'red', tag: 'b', id: 'from-query' },
    });
  });

  it('answers 404 for a disabled HTTP function, and runs it with the master key', async () => {
    const refused = await fetch(`${running().apiUrl}/hidden`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ status: 404, code: 'route_not_found' });
    const withFunctionKey = await fetch(`${running().apiUrl}/hidden?code=${running().keys.functionKey}`);
    expect(withFunctionKey.status).toBe(404);

    const withMaster = await fetch(`${running().apiUrl}/hidden`, {
      headers: { 'x-functions-key': running().keys.masterKey },
    });
    expect(withMaster.status).toBe(200);
    expect(await withMaster.text()).toBe('ran');
  });

  it('does not fire a disabled timer (runOnStartup included); the admin API with the master key runs it', async () => {
    expect(await ticks()).toBe(0);
    expect(await running().runTimer('tick')).toBe(false);

    const run = await fetch(`${running().baseUrl}/admin/functions/tick`, {
      method: 'POST',
      headers: { 'x-functions-key': running().keys.masterKey, 'content-type': 'application/json' },
      body: '{"input":""}',
    });
    expect(run.status).toBe(202);
    for (let poll = 0; poll < 100 && (await ticks()) === 0; poll += 1)
      await new Promise((r) => setTimeout(r, 10));
    expect(await ticks()).toBe(1);
  });

  it('lists a disabled function as disabled', () => {
    expect(running().functions.find((fn) => fn.name === 'hidden')?.disabled).toBe(true);
    expect(running().functions.find((fn) => fn.name === 'echo')?.disabled).toBe(false);
  });

  it('answers with problem documents of its own: no route, wrong method, no key, admin misuse', async () => {
    const problems = [
      { response: await fetch(`${running().apiUrl}/nowhere`), status: 404, code: 'route_not_found' },
      {
        response: await fetch(`${running().apiUrl}/items/1`, { method: 'DELETE' }),
        status: 405,
        code: 'method_not_allowed',
      },
      {
        response: await fetch(`${running().baseUrl}/admin/functions/tick`, { method: 'POST' }),
        status: 401,
        code: 'unauthorized',
      },
      {
        response: await fetch(`${running().baseUrl}/runtime/webhooks/durabletask/instances`),
        status: 401,
        code: 'unauthorized',
      },
    ];
    for (const { response, status, code } of problems) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status, code, detail: expect.any(String) });
    }
    expect(problems[1]?.response.headers.get('allow')).toBe('GET');
  });

  it('says what a function is when the admin API is asked to run an HTTP function', async () => {
    const response = await fetch(`${running().baseUrl}/admin/functions/echo`, {
      method: 'POST',
      headers: { 'x-functions-key': running().keys.masterKey },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'not_supported',
      detail: 'echo is an HTTP function: call GET /api/items/{id}',
    });
  });
});
