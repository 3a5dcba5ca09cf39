/**
 * The real durable-functions DurableClient, obtained with df.getClient(context) from the binding data
 * devhost supplies, driving the Durable HTTP API over a real HTTP server.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { clientBindingData, createDurableHttpApi } from '../../../../devhost/durable/http-api';
import { MemoryDurableClientApi } from './memory-durable-client-api';
import { serve, type Served } from './serve';

const HUB = 'SdkHub';

describe('Durable HTTP API driven by the durable-functions DurableClient', () => {
  let api: MemoryDurableClientApi;
  let server: Served;
  let savedHostname: string | undefined;

  beforeEach(async () => {
    // A small default page makes the SDK follow x-ms-continuation-token for getStatusAll/getStatusBy.
    api = new MemoryDurableClientApi(['Greet'], 2);
    server = await serve((origin) => createDurableHttpApi(api, { taskHub: HUB, baseUrl: origin }));
    savedHostname = process.env.WEBSITE_HOSTNAME;
    process.env.WEBSITE_HOSTNAME = server.host;
  });

  afterEach(async () => {
    if (savedHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = savedHostname;
    await server.close();
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

  it('starts instances with and without an instance id, passing the input', async () => {
    const c = client();
    expect(c.taskHubName).toBe(HUB);
    expect(await c.startNew('Greet', { instanceId: 'sdk-1', input: { who: 'Ada' } })).toBe('sdk-1');
    expect(await api.status('sdk-1')).toMatchObject({
      name: 'Greet',
      runtimeStatus: 'Running',
      input: { who: 'Ada' },
    });
    // Without input the SDK posts "" and axios sends it as the JSON string "": the extension, and so
    // devhost, start the instance with an empty-string input.
    const generated = await c.startNew('Greet');
    expect(await api.status(generated)).toMatchObject({ name: 'Greet', input: '' });
  });

  it('rejects starting an unknown orchestrator or a running duplicate', async () => {
    const c = client();
    await expect(c.startNew('Nope')).rejects.toThrow(/status code: 400.*Nope/);
    await c.startNew('Greet', { instanceId: 'dup' });
    await expect(c.startNew('Greet', { instanceId: 'dup' })).rejects.toThrow(/status code: 409/);
  });

  it('reads the status of running, completed and failed instances, and rejects an unknown one', async () => {
    const c = client();
    await c.startNew('Greet', { instanceId: 's-run', input: 1 });
    await c.startNew('Greet', { instanceId: 's-done', input: 2 });
    await c.startNew('Greet', { instanceId: 's-fail', input: 3 });
    api.complete('s-done', { greeting: 'hi' });
    api.fail('s-fail', 'boom');

    const running = await c.getStatus('s-run');
    expect(running).toMatchObject({
      instanceId: 's-run',
      name: 'Greet',
      runtimeStatus: 'Running',
      input: 1,
      output: null,
    });
    expect(running.createdTime).toBeInstanceOf(Date);
    expect(await c.getStatus('s-done')).toMatchObject({
      runtimeStatus: 'Completed',
      output: { greeting: 'hi' },
    });
    expect(await c.getStatus('s-fail')).toMatchObject({ runtimeStatus: 'Failed', output: 'boom' });
    // The SDK only sends truthy options, so showInput: false never reaches the server (as in Azure).
    expect(await c.getStatus('s-done', { showInput: false })).toMatchObject({ input: 2 });
    await expect(c.getStatus('missing')).rejects.toThrow(/HTTP 404/);
  });

  it('accepts showHistory; like Azure, the SDK drops historyEvents (durable-js #620)', async () => {
    const c = client();
    await c.startNew('Greet', { instanceId: 'h1' });
    api.complete('h1', 'ok');
    const status = await c.getStatus('h1', { showHistory: true, showHistoryOutput: true });
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.history).toBeUndefined();
    const raw = await fetch(`${server.origin}/runtime/webhooks/durabletask/instances/h1?showHistory=true`);
    expect(((await raw.json()) as { historyEvents: unknown[] }).historyEvents).toHaveLength(2);
  });

  it('lists instances across pages with getStatusAll and filters with getStatusBy', async () => {
    const c = client();
    for (const id of ['q1', 'q2', 'q3', 'q4', 'q5']) await c.startNew('Greet', { instanceId: id });
    api.complete('q2', 'x');
    api.complete('q5', 'y');
    const all = await c.getStatusAll();
    expect(all.map((s) => s.instanceId)).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
    const completed = await c.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] });
    expect(completed.map((s) => s.instanceId)).toEqual(['q2', 'q5']);
    const recent = await c.getStatusBy({ createdTimeFrom: new Date(all[3]!.createdTime) });
    expect(recent.map((s) => s.instanceId)).toEqual(['q4', 'q5']);
  });

  it('raises events; a finished instance swallows them, an unknown one rejects', async () => {
    const c = client();
    await c.startNew('Greet', { instanceId: 'ev' });
    await c.raiseEvent('ev', 'Approved', { by: 'Bob' });
    await c.raiseEvent('ev', 'Nudge', undefined);
    expect(api.eventsOf('ev')).toEqual([
      { name: 'Approved', data: { by: 'Bob' } },
      { name: 'Nudge', data: null },
    ]);
    api.complete('ev', 'done');
    await expect(c.raiseEvent('ev', 'Late', 1)).resolves.toBeUndefined();
    expect(api.eventsOf('ev')).toHaveLength(2);
    await expect(c.raiseEvent('nobody', 'Approved', 1)).rejects.toThrow(
      "No instance with ID 'nobody' found.",
    );
  });

  it('terminates, suspends and resumes', async () => {
    const c = client();
    await c.startNew('Greet', { instanceId: 'life' });
    await c.suspend('life', 'hold on');
    expect((await c.getStatus('life')).runtimeStatus).toBe('Suspended');
    await c.resume('life', 'go on');
    expect((await c.getStatus('life')).runtimeStatus).toBe('Running');
    await c.terminate('life', 'not needed');
    expect(await c.getStatus('life')).toMatchObject({ runtimeStatus: 'Terminated', output: 'not needed' });
    await expect(c.terminate('ghost', 'x')).rejects.toThrow("No instance with ID 'ghost' found.");
  });

  it('purges one instance and instances by filter', async () => {
    const c = client();
    for (const id of ['p1', 'p2', 'p3']) await c.startNew('Greet', { instanceId: id });
    api.complete('p1', 1);
    api.complete('p2', 2);
    expect(await c.purgeInstanceHistory('p1')).toEqual({ instancesDeleted: 1 });
    expect(await c.purgeInstanceHistory('p1')).toEqual({ instancesDeleted: 0 });
    const result = await c.purgeInstanceHistoryBy({
      createdTimeFrom: new Date('2000-01-01T00:00:00Z'),
      runtimeStatus: [df.OrchestrationRuntimeStatus.Completed],
    });
    expect(result).toEqual({ instancesDeleted: 1 });
    expect(await api.status('p2')).toBeUndefined();
    expect(await api.status('p3')).toBeDefined();
  });

  it('creates check-status responses whose links work against this server', async () => {
    const c = client();
    await c.startNew('Greet', { instanceId: 'links' });
    const request = new HttpRequest({ method: 'POST', url: `${server.origin}/api/start` });
    const response = c.createCheckStatusResponse(request, 'links');
    expect(response.status).toBe(202);
    const payload = (await response.json()) as Record<string, string>;
    expect(response.headers.get('location')).toBe(payload.statusQueryGetUri);
    expect(payload.statusQueryGetUri).toBe(
      `${server.origin}/runtime/webhooks/durabletask/instances/links?taskHub=${HUB}&connection=Storage`,
    );
    expect((await fetch(payload.statusQueryGetUri!)).status).toBe(202);
    const event = await fetch(payload.sendEventPostUri!.replace('{eventName}', 'Poke'), {
      method: 'POST',
      body: '"hi"',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(event.status).toBe(202);
    expect(api.eventsOf('links')).toEqual([{ name: 'Poke', data: 'hi' }]);
    expect((await fetch(payload.terminatePostUri!.replace('{text}', 'bye'), { method: 'POST' })).status).toBe(
      202,
    );
    expect((await fetch(payload.purgeHistoryDeleteUri!, { method: 'DELETE' })).status).toBe(200);
  });

  it('creates a management payload pointing at WEBSITE_HOSTNAME, and at localhost:7071 without it', async () => {
    const payload = client().createHttpManagementPayload('abc');
    expect(payload.id).toBe('abc');
    expect(payload.statusQueryGetUri).toBe(
      `${server.origin}/runtime/webhooks/durabletask/instances/abc?taskHub=${HUB}&connection=Storage`,
    );
    delete process.env.WEBSITE_HOSTNAME;
    expect(client().createHttpManagementPayload('abc').statusQueryGetUri).toMatch(
      /^http:\/\/localhost:7071\//,
    );
  });

  it('waits for completion or answers with a check-status response', async () => {
    const c = client();
    const request = new HttpRequest({ method: 'POST', url: `${server.origin}/api/start` });
    await c.startNew('Greet', { instanceId: 'fast' });
    api.complete('fast', { done: true });
    const completed = await c.waitForCompletionOrCreateCheckStatusResponse(request, 'fast');
    expect(completed.status).toBe(200);
    expect(await completed.json()).toEqual({ done: true });
    await c.startNew('Greet', { instanceId: 'slow' });
    const pending = await c.waitForCompletionOrCreateCheckStatusResponse(request, 'slow', {
      timeoutInMilliseconds: 20,
      retryIntervalInMilliseconds: 10,
    });
    expect(pending.status).toBe(202);
    expect(((await pending.json()) as { id: string }).id).toBe('slow');
  });
});
