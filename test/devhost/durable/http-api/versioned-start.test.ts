/**
 * Starting a versioned orchestration through the Durable HTTP API, as clients do: the real
 * durable-functions DurableClient's `startNew(name, { version })` (which adds `?version=` to its
 * start request) and a plain POST with `?version=`, served over the engine running the versioned
 * fixture app.
 */
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  createTestDurableEnvironment,
  type TestDurableEnvironment,
} from '../../../../devhost/durable/engine';
import { clientBindingData, createDurableHttpApi } from '../../../../devhost/durable/http-api';
import { loadFixtureApp } from '../engine/load-durable-app';
import { serve, type Served } from './serve';

const HUB = 'VersionHub';
const WEBHOOK = '/runtime/webhooks/durabletask';

describe('Durable HTTP API starts with a version', () => {
  let env: TestDurableEnvironment;
  let server: Served;
  let savedHostname: string | undefined;

  beforeEach(async () => {
    env = createTestDurableEnvironment({
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      registrations: loadFixtureApp(() => require('../../fixtures/versioned-app') as unknown).registrations,
      versioning: { defaultVersion: '1.0', versionMatchStrategy: 'None' },
    });
    server = await serve((origin) => createDurableHttpApi(env.engine, { taskHub: HUB, baseUrl: origin }));
    savedHostname = process.env.WEBSITE_HOSTNAME;
    process.env.WEBSITE_HOSTNAME = server.host;
  });

  afterEach(async () => {
    if (savedHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = savedHostname;
    await server.close();
    await env.stop();
  });

  function client(): df.DurableClient {
    const clientInput = df.input.durableClient();
    const context = new InvocationContext({
      functionName: 'starter',
      options: { extraInputs: [clientInput] },
    });
    context.extraInputs.set(clientInput, clientBindingData({ baseUrl: server.origin, taskHub: HUB }));
    return df.getClient(context);
  }

  it("passes the durable-functions client's startNew version to the orchestrator", async () => {
    const id = await client().startNew('reportsVersion', { instanceId: 'sdk-versioned', version: '4.2' });
    expect(await env.waitForCompletion(id)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { version: '4.2', stamped: 'ran as 4.2' },
    });
  });

  it('gives a start without a version the defaultVersion', async () => {
    const id = await client().startNew('reportsVersion');
    expect((await env.waitForCompletion(id)).output).toEqual({ version: '1.0', stamped: 'ran as 1.0' });
  });

  it('takes ?version= on the webhook start', async () => {
    const response = await fetch(
      `${server.origin}${WEBHOOK}/orchestrators/reportsVersion/hook?version=2.0-beta`,
      {
        method: 'POST',
      },
    );
    expect(response.status).toBe(202);
    expect((await env.waitForCompletion('hook')).output).toEqual({
      version: '2.0-beta',
      stamped: 'ran as 2.0-beta',
    });
  });
});
