import { DurableOrchestrationStarter } from '../../../src/orchestration/durable-orchestration-starter';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';
import { JOB_ORCHESTRATOR_NAME } from '../../../src/orchestration/orchestration-starter';

type Client = ReturnType<ConstructorParameters<typeof DurableOrchestrationStarter>[0]>;

/** A durable client double: a map of instances, like the durable store behind the HTTP API. */
function fakeClient(options: { refuseStarts?: boolean } = {}) {
  const instances = new Map<string, { name: string; input: unknown }>();
  const client = {
    startNew: async (name: string, opts?: { instanceId?: string; input?: unknown }) => {
      const id = opts?.instanceId ?? 'generated';
      if (options.refuseStarts === true || instances.has(id))
        throw new Error('The operation failed with an unexpected status code: 409');
      instances.set(id, { name, input: opts?.input });
      return id;
    },
    getStatus: async (id: string) => {
      if (!instances.has(id)) throw new Error('Durable Functions extension replied with HTTP 404 response.');
      return { runtimeStatus: 'Pending' };
    },
  };
  return { client: client as unknown as Client, instances };
}

const input = { jobId: 'job-1', tenantId: 't1', requestType: 'OCR' };

describe('DurableOrchestrationStarter', () => {
  it('starts jobOrchestrator with instance id = job id', async () => {
    const { client, instances } = fakeClient();
    await new DurableOrchestrationStarter(() => client).start(input);
    expect(instances.get('job-1')).toEqual({ name: JOB_ORCHESTRATOR_NAME, input });
  });

  it('treats a start of an existing instance as started', async () => {
    const { client, instances } = fakeClient();
    const starter = new DurableOrchestrationStarter(() => client);
    await starter.start(input);
    await expect(starter.start(input)).resolves.toBeUndefined();
    expect(instances.size).toBe(1);
  });

  it('reports OrchestrationUnavailableError when no durable client can be had', async () => {
    const starter = new DurableOrchestrationStarter(() => {
      throw new Error('Received input is not a valid durable client input.');
    });
    await expect(starter.start(input)).rejects.toBeInstanceOf(OrchestrationUnavailableError);
  });

  it('reports OrchestrationUnavailableError when the start fails and no instance exists', async () => {
    const { client } = fakeClient({ refuseStarts: true });
    await expect(new DurableOrchestrationStarter(() => client).start(input)).rejects.toBeInstanceOf(
      OrchestrationUnavailableError,
    );
  });
});
