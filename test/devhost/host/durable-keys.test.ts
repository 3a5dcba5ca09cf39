/**
 * The Durable HTTP API behind the system key, as on Azure, on a small app that is not Lucius
 * (test/devhost/fixtures/durable-key-app): `df.getClient(context)` still works through the SDK's
 * `rpcBaseUrl` (the host's internal listener), the links it hands out carry `code=<system key>`, and a
 * disabled activity fails its orchestration as the extension fails it.
 */
import { join } from 'node:path';
import { createDurableSupport } from '../../../devhost/durable/durable-support';
import { MemoryDurableStore } from '../../../devhost/durable/engine';
import { readHostConfig } from '../../../devhost/common/host-config';
import { startHost, type DevHost } from '../../../devhost/host/host';

const APP_DIR = join(__dirname, '..', 'fixtures', 'durable-key-app');
const env = { ...process.env, FIXTURE_HUB: 'KeyHub', 'AzureWebJobs.shout.Disabled': 'true' };

let host: DevHost | undefined;

beforeAll(async () => {
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: () => undefined,
    env,
    parts: [
      createDurableSupport({
        config: readHostConfig(APP_DIR, env),
        store: new MemoryDurableStore(),
        hostUrl: () => running().baseUrl,
      }),
    ],
  });
});

afterAll(async () => {
  await host?.stop();
});

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

interface CheckStatus {
  readonly id: string;
  readonly statusQueryGetUri: string;
}

async function begin(orchestration: string): Promise<CheckStatus> {
  const response = await fetch(`${running().apiUrl}/begin/${orchestration}`, { method: 'POST' });
  expect(response.status).toBe(202);
  return (await response.json()) as CheckStatus;
}

async function finished(url: string): Promise<{ runtimeStatus: string; output: unknown }> {
  for (let poll = 0; poll < 200; poll += 1) {
    const status = (await (await fetch(url)).json()) as { runtimeStatus: string; output: unknown };
    if (!['Running', 'Pending'].includes(status.runtimeStatus)) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url} did not finish`);
}

describe('the Durable HTTP API behind the system key', () => {
  it('lets df.getClient start and read instances, and hands out links that carry the system key', async () => {
    const started = await begin('greeting');
    expect(new URL(started.statusQueryGetUri).searchParams.get('code')).toBe(running().keys.systemKey);

    expect(await finished(started.statusQueryGetUri)).toMatchObject({
      runtimeStatus: 'Completed',
      output: 'hello devhost',
    });
    const seenByClient = await fetch(`${running().apiUrl}/look/${started.id}`);
    expect(await seenByClient.json()).toEqual({ runtimeStatus: 'Completed', output: 'hello devhost' });
  });

  it('refuses the webhook API without a key or with the function key, 401 problem+json', async () => {
    const { id } = await begin('greeting');
    const instance = `${running().baseUrl}/runtime/webhooks/durabletask/instances/${id}`;
    for (const url of [instance, `${instance}?code=${running().keys.functionKey}`]) {
      const response = await fetch(url);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const withMaster = await fetch(instance, { headers: { 'x-functions-key': running().keys.masterKey } });
    expect([200, 202]).toContain(withMaster.status);
  });

  it("does not serve the SDK's internal /durabletask/ endpoint on the public port", async () => {
    const response = await fetch(`${running().baseUrl}/durabletask/instances`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'route_not_found' });
  });

  it('fails an orchestration that calls a disabled activity, as the extension does', async () => {
    const started = await begin('shouting');
    const status = await finished(started.statusQueryGetUri);
    expect(status.runtimeStatus).toBe('Failed');
    // The activity's failure carries the extension's words (the history's TaskFailed reason).
    const history = (await (await fetch(`${started.statusQueryGetUri}&showHistory=true`)).json()) as {
      historyEvents: Array<{ EventType: string; Reason?: string }>;
    };
    const failed = history.historyEvents.find((event) => event.EventType === 'TaskFailed');
    expect(failed?.Reason).toContain(
      "The function 'shout' doesn't exist, is disabled, or is not an activity function.",
    );
  });
});
