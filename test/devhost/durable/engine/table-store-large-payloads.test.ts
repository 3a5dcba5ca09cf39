/**
 * Payloads of several megabytes on Azure Table Storage (Azurite), through the real durable-functions
 * SDK on both sides: the DurableClient starts the instance with a 5 MB input and raises a 5 MB event
 * over the Durable HTTP API; the orchestrator passes 5 MB to an activity, gets 5 MB results back and
 * returns 5 MB. A value over the store's limit fails the instance (or the activity) saying why.
 */
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  TableDurableStore,
  createDurableEngine,
  createTestDurableEnvironment,
  registerDurableFunctions,
  type DevhostDurableEngine,
} from '../../../../devhost/durable/engine';
import { clientBindingData, createDurableHttpApi } from '../../../../devhost/durable/http-api';
import { testTableConnectionString } from '../../../support/table-storage';
import { uniqueTablePrefix } from '../../../support/unique';
import { serve, type Served } from '../http-api/serve';
import { loadFidelityApp } from './load-fidelity-app';

const MB = 1024 * 1024;
const HUB = 'LargeHub';

function tableStore(maxPayloadChars?: number): TableDurableStore {
  return new TableDurableStore({
    connection: { connectionString: testTableConnectionString() },
    tablePrefix: uniqueTablePrefix('large'),
    ...(maxPayloadChars === undefined ? {} : { maxPayloadChars }),
  });
}

describe('TableDurableStore with large payloads', () => {
  let engine: DevhostDurableEngine | undefined;
  let server: Served | undefined;
  let savedHostname: string | undefined;

  afterEach(async () => {
    await engine?.stop();
    await server?.close();
    engine = undefined;
    server = undefined;
    if (savedHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = savedHostname;
  });

  it('carries a 5 MB input, activity input and result, event and output', async () => {
    const { app, registrations } = loadFidelityApp();
    const running = createDurableEngine({ store: tableStore(), functionLogHandler: () => undefined });
    engine = running;
    registerDurableFunctions(running, registrations);
    await running.run();
    server = await serve((origin) => createDurableHttpApi(running, { taskHub: HUB, baseUrl: origin }));
    savedHostname = process.env.WEBSITE_HOSTNAME;
    process.env.WEBSITE_HOSTNAME = server.host;
    const clientInput = df.input.durableClient();
    const context = new InvocationContext({
      functionName: 'starter',
      options: { extraInputs: [clientInput] },
    });
    context.extraInputs.set(clientInput, clientBindingData({ baseUrl: server.origin, taskHub: HUB }));
    const client = df.getClient(context);

    const size = 5 * MB;
    const text = app.bigText(size, 'i');
    const event = app.bigText(size, 'e');
    const id = await client.startNew('largePayloads', { instanceId: 'large-1', input: { text, size } });
    let status = await client.getStatus(id);
    for (let i = 0; i < 600 && status.runtimeStatus !== df.OrchestrationRuntimeStatus.Running; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await client.getStatus(id);
    }
    await client.raiseEvent(id, 'big', event);
    const done = await client.waitForCompletionOrCreateCheckStatusResponse(
      new (await import('@azure/functions')).HttpRequest({ url: `${server.origin}/api/x`, method: 'GET' }),
      id,
      { timeoutInMilliseconds: 60_000, retryIntervalInMilliseconds: 200 },
    );
    expect(done.status).toBe(200);
    const final = await client.getStatus(id, { showInput: true });
    expect(final.runtimeStatus).toBe('Completed');
    expect((final.input as { text: string }).text).toBe(text);
    const output = final.output as {
      echoedSame: boolean;
      madeLength: number;
      eventLength: number;
      output: string;
    };
    expect(output).toMatchObject({ echoedSame: true, madeLength: size, eventLength: size });
    expect(output.output).toBe(`${app.bigText(size, 'r').slice(0, size / 2)}${text.slice(0, size / 2)}`);
  }, 120_000);

  it('fails the activity, saying why, when its result is over the store limit', async () => {
    const { registrations } = loadFidelityApp();
    const env = createTestDurableEnvironment({ registrations, store: tableStore(1 * MB) });
    engine = env.engine;
    await env.engine.start('largeResult', { instanceId: 'too-large', input: 2 * MB });
    const status = await env.waitForCompletion('too-large');
    expect(status.runtimeStatus).toBe('Failed');
    // The activity's 2 MB result cannot be stored: the task fails, and the orchestrator with it.
    expect(status.output).toMatch(
      /^Orchestrator function 'largeResult' failed: Activity function 'makeText' failed: its result could not be stored: a value of \d+ characters is over the durable store's limit of 1048576 characters/,
    );
  }, 60_000);

  it('fails the instance when its own output is over the store limit', async () => {
    const { registrations } = loadFidelityApp();
    // Each activity result (1 MB) fits; the output made of both (2 MB) does not.
    const env = createTestDurableEnvironment({ registrations, store: tableStore(1.5 * MB) });
    engine = env.engine;
    await env.engine.start('largeOutput', { instanceId: 'output-too-large', input: 2 * MB });
    const status = await env.waitForCompletion('output-too-large');
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toMatch(
      /^Orchestrator function 'largeOutput' failed: its state could not be stored: a value of \d+ characters is over/,
    );
  }, 60_000);
});
