import { createDurableHttpApi } from '../../../../devhost/durable/http-api';
import type { DurableClientApi } from '../../../../devhost/durable/durable-api';
import { MemoryDurableClientApi } from './memory-durable-client-api';
import { serve, type Served } from './serve';

const HUB = 'DevhostHub';
const WEBHOOK = '/runtime/webhooks/durabletask';

describe('createDurableHttpApi', () => {
  let api: MemoryDurableClientApi;
  let server: Served;

  beforeEach(async () => {
    api = new MemoryDurableClientApi(['Greet', 'Other']);
    server = await serve((origin) => createDurableHttpApi(api, { taskHub: HUB, baseUrl: origin }));
  });
  afterEach(() => server.close());

  const call = (
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${server.origin}${path}`, { method, body: init.body, headers: init.headers, redirect: 'manual' });
  const postJson = (path: string, body: unknown) =>
    call('POST', path, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

  describe('POST orchestrators/{functionName}[/{instanceId}]', () => {
    it('starts an instance and answers 202 with the check-status links of this server', async () => {
      const response = await postJson(`${WEBHOOK}/orchestrators/Greet/order-1`, { who: 'Ada' });
      expect(response.status).toBe(202);
      const body = (await response.json()) as Record<string, string>;
      const query = `taskHub=${HUB}&connection=Storage`;
      expect(body).toEqual({
        id: 'order-1',
        statusQueryGetUri: `${server.origin}${WEBHOOK}/instances/order-1?${query}`,
        sendEventPostUri: `${server.origin}${WEBHOOK}/instances/order-1/raiseEvent/{eventName}?${query}`,
        terminatePostUri: `${server.origin}${WEBHOOK}/instances/order-1/terminate?reason={text}&${query}`,
        purgeHistoryDeleteUri: `${server.origin}${WEBHOOK}/instances/order-1?${query}`,
        restartPostUri: `${server.origin}${WEBHOOK}/instances/order-1/restart?${query}`,
        suspendPostUri: `${server.origin}${WEBHOOK}/instances/order-1/suspend?reason={text}&${query}`,
        resumePostUri: `${server.origin}${WEBHOOK}/instances/order-1/resume?reason={text}&${query}`,
      });
      expect(response.headers.get('location')).toBe(body.statusQueryGetUri);
      expect(response.headers.get('retry-after')).toBe('10');
      expect((await api.status('order-1'))?.input).toEqual({ who: 'Ada' });
    });

    it('generates an instance id when none is given and accepts an empty body', async () => {
      const response = await call('POST', `${WEBHOOK}/orchestrators/Greet`);
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      expect(await api.status(id)).toMatchObject({
        name: 'Greet',
        runtimeStatus: 'Running',
        input: undefined,
      });
    });

    it('answers 409 when the instance exists and is still running', async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/dup`, 1);
      const response = await postJson(`${WEBHOOK}/orchestrators/Greet/dup`, 2);
      expect(response.status).toBe(409);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 409, code: 'instance_exists' });
    });

    it('replaces a finished instance with the same id', async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/again`, 1);
      api.complete('again', 'done');
      const response = await postJson(`${WEBHOOK}/orchestrators/Greet/again`, 2);
      expect(response.status).toBe(202);
      expect(await api.status('again')).toMatchObject({ runtimeStatus: 'Running', input: 2 });
    });

    it('answers 400 for an orchestrator nobody registered', async () => {
      const response = await postJson(`${WEBHOOK}/orchestrators/Nope`, {});
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'unknown_orchestrator',
        detail: expect.stringContaining('Nope'),
      });
    });

    it.each([
      ['an id starting with @', '@entity', 'must not start with @'],
      ['an id with an encoded slash', 'a%2Fb', 'must not contain'],
      ['an id over 256 characters', 'x'.repeat(257), 'must not exceed 256'],
    ])('answers 400 for %s', async (_label, id, message) => {
      const response = await postJson(`${WEBHOOK}/orchestrators/Greet/${id}`, {});
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'invalid_request',
        detail: expect.stringContaining(message),
      });
    });

    it('answers 400 for a body that is not JSON', async () => {
      const response = await call('POST', `${WEBHOOK}/orchestrators/Greet/x`, { body: '{oops' });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ detail: expect.stringContaining('not valid JSON') });
      expect(await api.status('x')).toBeUndefined();
    });

    it('with ?timeout answers 200 with the output when the orchestration completes in time', async () => {
      const completing: DurableClientApi = Object.create(api) as DurableClientApi;
      completing.start = async (name, options) => {
        const started = await api.start(name, options);
        api.complete(started.instanceId, { greeting: 'hi' });
        return started;
      };
      const waiting = await serve((origin) =>
        createDurableHttpApi(completing, { taskHub: HUB, baseUrl: origin }),
      );
      try {
        const response = await fetch(
          `${waiting.origin}${WEBHOOK}/orchestrators/Greet/w1?timeout=5&pollingInterval=1`,
          {
            method: 'POST',
          },
        );
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ greeting: 'hi' });
      } finally {
        await waiting.close();
      }
    });

    it('with ?timeout=0 answers 202 with the check-status links when it has not completed', async () => {
      const response = await call('POST', `${WEBHOOK}/orchestrators/Greet/w2?timeout=0`);
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ id: 'w2' });
    });

    it('answers 405 with Allow for another method', async () => {
      const response = await call('GET', `${WEBHOOK}/orchestrators/Greet`);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });

  describe('GET instances/{instanceId}', () => {
    beforeEach(async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/s1`, { n: 1 });
    });

    it('answers 202 with Location and Retry-After while running, with null output', async () => {
      const response = await call('GET', `${WEBHOOK}/instances/s1`);
      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(`${server.origin}${WEBHOOK}/instances/s1`);
      expect(response.headers.get('retry-after')).toBe('5');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        name: 'Greet',
        instanceId: 's1',
        runtimeStatus: 'Running',
        input: { n: 1 },
      });
      expect(body).toHaveProperty('output', null);
      expect(body).toHaveProperty('customStatus', null);
      expect(body).not.toHaveProperty('historyEvents');
    });

    it('answers 200 with the output once completed', async () => {
      api.complete('s1', 'hello');
      const response = await call('GET', `${WEBHOOK}/instances/s1`);
      expect(response.status).toBe(200);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.json()).toMatchObject({ runtimeStatus: 'Completed', output: 'hello' });
    });

    it('answers 200 for a failed instance, 500 when asked to with returnInternalServerErrorOnFailure', async () => {
      api.fail('s1', 'boom');
      expect((await call('GET', `${WEBHOOK}/instances/s1`)).status).toBe(200);
      const strict = await call('GET', `${WEBHOOK}/instances/s1?returnInternalServerErrorOnFailure=true`);
      expect(strict.status).toBe(500);
      expect(await strict.json()).toMatchObject({ runtimeStatus: 'Failed', output: 'boom' });
    });

    it('shows history events with showHistory and the input only unless showInput=false', async () => {
      api.complete('s1', 'hello');
      const withHistory = (await (await call('GET', `${WEBHOOK}/instances/s1?showHistory=true`)).json()) as {
        historyEvents: Record<string, unknown>[];
      };
      expect(withHistory.historyEvents.map((e) => e.EventType)).toEqual([
        'ExecutionStarted',
        'ExecutionCompleted',
      ]);
      expect(withHistory.historyEvents[1]).not.toHaveProperty('Result');
      const withOutput = (await (
        await call('GET', `${WEBHOOK}/instances/s1?showHistory=true&showHistoryOutput=true`)
      ).json()) as { historyEvents: Record<string, unknown>[] };
      expect(withOutput.historyEvents[1]).toMatchObject({ Result: 'hello' });
      const noInput = await (await call('GET', `${WEBHOOK}/instances/s1?showInput=false`)).json();
      expect(noInput).toHaveProperty('input', null);
    });

    it('answers 404 for an unknown instance', async () => {
      const response = await call('GET', `${WEBHOOK}/instances/missing`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'instance_not_found' });
    });

    it('answers 400 naming the parameter for a boolean that is not true or false', async () => {
      const response = await call('GET', `${WEBHOOK}/instances/s1?showHistory=yes`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ detail: expect.stringContaining('showHistory') });
    });
  });

  describe('GET instances', () => {
    beforeEach(async () => {
      for (const id of ['job-a', 'job-b', 'job-c', 'other-1'])
        await postJson(`${WEBHOOK}/orchestrators/Greet/${id}`, id);
      api.complete('job-b', 'ok');
    });

    const ids = async (response: Response) =>
      ((await response.json()) as { instanceId: string }[]).map((s) => s.instanceId);

    it('lists every instance', async () => {
      const response = await call('GET', `${WEBHOOK}/instances`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ms-continuation-token')).toBeNull();
      expect(await ids(response)).toEqual(['job-a', 'job-b', 'job-c', 'other-1']);
    });

    it('filters by runtime status (comma list, any case) and instance id prefix', async () => {
      expect(await ids(await call('GET', `${WEBHOOK}/instances/?runtimeStatus=completed`))).toEqual([
        'job-b',
      ]);
      expect(
        await ids(
          await call('GET', `${WEBHOOK}/instances?runtimeStatus=Running,Pending&instanceIdPrefix=job`),
        ),
      ).toEqual(['job-a', 'job-c']);
    });

    it('filters by created time', async () => {
      const all = (await (await call('GET', `${WEBHOOK}/instances`)).json()) as { createdTime: string }[];
      const from = encodeURIComponent(all[2]!.createdTime);
      expect(await ids(await call('GET', `${WEBHOOK}/instances?createdTimeFrom=${from}`))).toEqual([
        'job-c',
        'other-1',
      ]);
      expect(await ids(await call('GET', `${WEBHOOK}/instances?createdTimeTo=${from}`))).toEqual([
        'job-a',
        'job-b',
        'job-c',
      ]);
    });

    it('pages with top and the x-ms-continuation-token header', async () => {
      const first = await call('GET', `${WEBHOOK}/instances?top=3`);
      const token = first.headers.get('x-ms-continuation-token');
      expect(await ids(first)).toEqual(['job-a', 'job-b', 'job-c']);
      expect(token).toBeTruthy();
      const second = await call('GET', `${WEBHOOK}/instances?top=3`, {
        headers: { 'x-ms-continuation-token': token! },
      });
      expect(await ids(second)).toEqual(['other-1']);
      expect(second.headers.get('x-ms-continuation-token')).toBeNull();
    });

    it.each([
      ['runtimeStatus=Sleeping', 'Sleeping'],
      ['createdTimeFrom=yesterday', 'createdTimeFrom'],
      ['top=0', 'top'],
      ['top=ten', 'top'],
    ])('answers 400 for %s', async (query, mention) => {
      const response = await call('GET', `${WEBHOOK}/instances?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'invalid_request',
        detail: expect.stringContaining(mention),
      });
    });
  });

  describe('POST instances/{instanceId}/raiseEvent/{eventName}', () => {
    beforeEach(async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/e1`, null);
    });

    it('delivers the JSON body as event data and answers 202', async () => {
      const response = await postJson(`${WEBHOOK}/instances/e1/raiseEvent/Approved`, { by: 'Bob' });
      expect(response.status).toBe(202);
      expect(api.eventsOf('e1')).toEqual([{ name: 'Approved', data: { by: 'Bob' } }]);
    });

    it('answers 404 for an unknown instance and 410 for a finished one', async () => {
      expect((await postJson(`${WEBHOOK}/instances/nobody/raiseEvent/Approved`, 1)).status).toBe(404);
      api.complete('e1', 'done');
      expect((await postJson(`${WEBHOOK}/instances/e1/raiseEvent/Approved`, 1)).status).toBe(410);
    });

    it('answers 400 for content that is not application/json', async () => {
      const response = await call('POST', `${WEBHOOK}/instances/e1/raiseEvent/Approved`, {
        body: 'yes',
        headers: { 'Content-Type': 'text/plain' },
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ detail: expect.stringContaining('application/json') });
      expect(api.eventsOf('e1')).toEqual([]);
    });
  });

  describe('POST instances/{instanceId}/terminate|suspend|resume', () => {
    beforeEach(async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/t1`, null);
    });

    it('terminates with the reason and then answers 410', async () => {
      expect(
        (await call('POST', `${WEBHOOK}/instances/t1/terminate?reason=no%20longer%20needed`)).status,
      ).toBe(202);
      expect(await api.status('t1')).toMatchObject({
        runtimeStatus: 'Terminated',
        output: 'no longer needed',
      });
      expect((await call('POST', `${WEBHOOK}/instances/t1/terminate?reason=again`)).status).toBe(410);
    });

    it('suspends and resumes', async () => {
      expect((await call('POST', `${WEBHOOK}/instances/t1/suspend?reason=wait`)).status).toBe(202);
      expect((await api.status('t1'))?.runtimeStatus).toBe('Suspended');
      expect((await call('GET', `${WEBHOOK}/instances/t1`)).status).toBe(202);
      expect((await call('POST', `${WEBHOOK}/instances/t1/resume?reason=go`)).status).toBe(202);
      expect((await api.status('t1'))?.runtimeStatus).toBe('Running');
    });

    it("refuses to suspend a suspended instance and to resume a running one, in the extension's words", async () => {
      const resumeRunning = await call('POST', `${WEBHOOK}/instances/t1/resume?reason=go`);
      expect(resumeRunning.status).toBe(410);
      expect(await resumeRunning.json()).toMatchObject({
        code: 'instance_not_applicable',
        detail: 'Cannot resume the orchestration instance t1 because instance is in the Running state.',
      });
      expect((await call('POST', `${WEBHOOK}/instances/t1/suspend`)).status).toBe(202);
      const suspendSuspended = await call('POST', `${WEBHOOK}/instances/t1/suspend`);
      expect(suspendSuspended.status).toBe(410);
      expect(await suspendSuspended.json()).toMatchObject({
        detail: 'Cannot suspend the orchestration instance t1 because instance is in the Suspended state.',
      });
      expect((await api.status('t1'))?.runtimeStatus).toBe('Suspended');
    });

    it('answers 404 for an unknown instance', async () => {
      for (const op of ['terminate', 'suspend', 'resume']) {
        expect((await call('POST', `${WEBHOOK}/instances/ghost/${op}`)).status).toBe(404);
      }
    });

    it('answers 501 for rewind and restart', async () => {
      expect((await call('POST', `${WEBHOOK}/instances/t1/rewind?reason=x`)).status).toBe(501);
      expect((await call('POST', `${WEBHOOK}/instances/t1/restart`)).status).toBe(501);
    });
  });

  describe('DELETE instances[/{instanceId}]', () => {
    beforeEach(async () => {
      await postJson(`${WEBHOOK}/orchestrators/Greet/p1`, null);
      await postJson(`${WEBHOOK}/orchestrators/Greet/p2`, null);
    });

    it('purges one finished instance', async () => {
      api.complete('p1', 'x');
      const response = await call('DELETE', `${WEBHOOK}/instances/p1`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ instancesDeleted: 1 });
      expect(await api.status('p1')).toBeUndefined();
      expect((await call('DELETE', `${WEBHOOK}/instances/p1`)).status).toBe(404);
    });

    it('answers 200 with zero for a running instance it keeps', async () => {
      const response = await call('DELETE', `${WEBHOOK}/instances/p2`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ instancesDeleted: 0 });
      expect(await api.status('p2')).toBeDefined();
    });

    it('purges by filter, 404 when nothing matches, 400 without createdTimeFrom', async () => {
      api.complete('p1', 'x');
      api.complete('p2', 'y');
      const from = encodeURIComponent('2000-01-01T00:00:00Z');
      expect(
        (await call('DELETE', `${WEBHOOK}/instances?createdTimeFrom=${from}&runtimeStatus=Failed`)).status,
      ).toBe(404);
      const purged = await call(
        'DELETE',
        `${WEBHOOK}/instances?createdTimeFrom=${from}&runtimeStatus=Completed`,
      );
      expect(purged.status).toBe(200);
      expect(await purged.json()).toEqual({ instancesDeleted: 2 });
      const missing = await call('DELETE', `${WEBHOOK}/instances`);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ detail: expect.stringContaining('createdTimeFrom') });
    });
  });

  describe('routing', () => {
    it('declines paths outside its prefixes', async () => {
      expect((await call('GET', '/api/instances')).status).toBe(418);
      expect((await call('GET', '/runtime/webhooks/durabletaskx/instances')).status).toBe(418);
    });

    it('serves the same routes under the RPC prefix', async () => {
      const response = await postJson('/durabletask/orchestrators/Greet/rpc-1', 'x');
      expect(response.status).toBe(202);
      expect((await call('GET', '/durabletask/instances/rpc-1')).status).toBe(202);
    });

    it('answers 404 for an unknown path under its prefix and 501 for entities', async () => {
      expect((await call('GET', `${WEBHOOK}/nothing/here`)).status).toBe(404);
      expect((await call('POST', `${WEBHOOK}/instances/a/explode`)).status).toBe(404);
      expect((await call('GET', `${WEBHOOK}/entities/counter/one`)).status).toBe(501);
    });

    it('answers 400 for malformed percent-encoding and for another task hub', async () => {
      expect((await call('GET', `${WEBHOOK}/instances/%E0%A4%A`)).status).toBe(400);
      const otherHub = await call('GET', `${WEBHOOK}/instances?taskHub=SomeoneElse`);
      expect(otherHub.status).toBe(400);
      expect(await otherHub.json()).toMatchObject({ detail: expect.stringContaining(HUB) });
      expect((await call('GET', `${WEBHOOK}/instances?taskHub=${HUB.toLowerCase()}`)).status).toBe(200);
    });

    it('answers 500 only when the backend itself fails', async () => {
      const broken: DurableClientApi = Object.create(api) as DurableClientApi;
      broken.status = async () => {
        throw new Error('table storage is down');
      };
      const failing = await serve((origin) =>
        createDurableHttpApi(broken, { taskHub: HUB, baseUrl: origin }),
      );
      try {
        const response = await fetch(`${failing.origin}${WEBHOOK}/instances/any`);
        expect(response.status).toBe(500);
        expect(await response.json()).toMatchObject({
          code: 'internal_error',
          detail: expect.stringContaining('table storage is down'),
        });
      } finally {
        await failing.close();
      }
    });
  });
});
