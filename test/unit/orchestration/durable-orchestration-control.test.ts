import {
  DurableOrchestrationControl,
  toInstanceInfo,
} from '../../../src/orchestration/durable-orchestration-control';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';

type Client = ReturnType<ConstructorParameters<typeof DurableOrchestrationControl>[0]>;

/** A durable client double over a map of instances, answering as the client library does. */
function fakeClient(options: { down?: boolean } = {}) {
  const instances = new Map<string, { runtimeStatus: string; input: unknown; createdTime: Date }>();
  const unreachable = () => new Error('connect ECONNREFUSED 127.0.0.1:7071');
  const client = {
    startNew: async (_name: string, opts?: { instanceId?: string; input?: unknown }) => {
      const id = opts?.instanceId ?? 'generated';
      instances.set(id, { runtimeStatus: 'Pending', input: opts?.input, createdTime: new Date(0) });
      return id;
    },
    getStatus: async (id: string) => {
      if (options.down === true) throw unreachable();
      const found = instances.get(id);
      if (found === undefined)
        throw new Error(
          `DurableClient error: Durable Functions extension replied with HTTP 404 response. ${id}`,
        );
      return found;
    },
    raiseEvent: async () => undefined,
    purgeInstanceHistory: async (id: string) => {
      if (options.down === true) throw unreachable();
      return { instancesDeleted: instances.delete(id) ? 1 : 0 };
    },
  };
  return { client: client as unknown as Client, instances };
}

describe('DurableOrchestrationControl', () => {
  it('reads an unknown instance as Missing, and a started one with its run and creation time', async () => {
    const { client } = fakeClient();
    const control = new DurableOrchestrationControl(() => client);
    expect(await control.inspect('job-1')).toEqual({ state: 'Missing' });
    await control.start({ jobId: 'job-1', tenantId: 't1', requestType: 'OCR', drive: 2 });
    expect(await control.inspect('job-1')).toEqual({
      state: 'Pending',
      drive: 2,
      createdAt: '1970-01-01T00:00:00.000Z',
    });
  });

  it('purges an instance once, and answers false when there is none', async () => {
    const { client } = fakeClient();
    const control = new DurableOrchestrationControl(() => client);
    await control.start({ jobId: 'job-1', tenantId: 't1', requestType: 'OCR' });
    expect(await control.purge('job-1')).toBe(true);
    expect(await control.purge('job-1')).toBe(false);
  });

  it('reports a backend that does not answer (or no client at all) as retryable unavailability', async () => {
    const { client } = fakeClient({ down: true });
    const control = new DurableOrchestrationControl(() => client);
    await expect(control.inspect('job-1')).rejects.toBeInstanceOf(OrchestrationUnavailableError);
    await expect(control.purge('job-1')).rejects.toMatchObject({
      code: 'orchestration_unavailable',
      retryable: true,
    });
    const noClient = new DurableOrchestrationControl(() => {
      throw new Error('no durable client input');
    });
    await expect(noClient.inspect('job-1')).rejects.toBeInstanceOf(OrchestrationUnavailableError);
  });
});

describe('toInstanceInfo', () => {
  it('reads Canceled as Terminated and an unknown status as Running', () => {
    expect(
      toInstanceInfo({ runtimeStatus: 'Canceled' as never, input: {}, createdTime: new Date(0) }).state,
    ).toBe('Terminated');
    expect(
      toInstanceInfo({ runtimeStatus: 'Unknown' as never, input: {}, createdTime: new Date(0) }).state,
    ).toBe('Running');
    expect(
      toInstanceInfo({ runtimeStatus: 'Terminated' as never, input: undefined, createdTime: new Date('x') }),
    ).toEqual({
      state: 'Terminated',
    });
  });
});
