import { DurableOrchestrationStarter } from '../../../src/orchestration/durable-orchestration-starter';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';
import { JOB_ORCHESTRATOR_NAME } from '../../../src/orchestration/job-orchestrator';

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

type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'Suspended';

/**
 * A durable store double for restarts: instances with a runtime status and the input of their
 * current run. startNew replaces an ended instance and refuses an active one, as Durable does.
 */
function durableStore(
  seed: Record<string, { runtimeStatus: RuntimeStatus; input: unknown }> = {},
  options: { refuseStarts?: boolean; statusDown?: boolean } = {},
) {
  const instances = new Map(Object.entries(seed));
  const runs: unknown[] = [];
  const client = {
    startNew: async (name: string, opts?: { instanceId?: string; input?: unknown }) => {
      const id = opts?.instanceId ?? 'generated';
      const current = instances.get(id)?.runtimeStatus;
      if (options.refuseStarts === true || current === 'Pending' || current === 'Running')
        throw new Error('The operation failed with an unexpected status code: 409');
      instances.set(id, { runtimeStatus: 'Pending', input: opts?.input });
      runs.push({ name, input: opts?.input });
      return id;
    },
    getStatus: async (id: string) => {
      if (options.statusDown === true) throw new Error('connect ECONNREFUSED 127.0.0.1:7071');
      const found = instances.get(id);
      if (found === undefined)
        throw new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.');
      return found;
    },
  };
  return { client: client as unknown as Client, instances, runs };
}

describe('DurableOrchestrationStarter.restart', () => {
  const run1 = { ...input, drive: 1 };

  it('starts the new run over an ended instance', async () => {
    for (const ended of ['Completed', 'Failed', 'Terminated'] as const) {
      const { client, instances, runs } = durableStore({ 'job-1': { runtimeStatus: ended, input } });
      await new DurableOrchestrationStarter(() => client).restart(run1);
      expect(runs).toEqual([{ name: JOB_ORCHESTRATOR_NAME, input: run1 }]);
      expect(instances.get('job-1')).toEqual({ runtimeStatus: 'Pending', input: run1 });
    }
  });

  it('starts the run when the instance is unknown', async () => {
    const { client, runs } = durableStore();
    await new DurableOrchestrationStarter(() => client).restart(run1);
    expect(runs).toEqual([{ name: JOB_ORCHESTRATOR_NAME, input: run1 }]);
  });

  it('leaves a run of the same drive that is already active alone', async () => {
    for (const active of ['Pending', 'Running', 'Suspended'] as const) {
      const { client, runs } = durableStore({ 'job-1': { runtimeStatus: active, input: run1 } });
      await expect(new DurableOrchestrationStarter(() => client).restart(run1)).resolves.toBeUndefined();
      expect(runs).toEqual([]);
    }
  });

  it('counts a first run started without a drive as drive 0', async () => {
    const { client, runs } = durableStore({ 'job-1': { runtimeStatus: 'Running', input } });
    await expect(
      new DurableOrchestrationStarter(() => client).restart({ ...input, drive: 0 }),
    ).resolves.toBeUndefined();
    expect(runs).toEqual([]);
  });

  it('refuses with a retryable OrchestrationUnavailableError while an older run is still finishing', async () => {
    const { client, instances, runs } = durableStore({ 'job-1': { runtimeStatus: 'Running', input } });
    const refused = new DurableOrchestrationStarter(() => client).restart(run1);
    await expect(refused).rejects.toBeInstanceOf(OrchestrationUnavailableError);
    await expect(refused).rejects.toMatchObject({ retryable: true });
    expect(runs).toEqual([]);
    expect(instances.get('job-1')?.input).toEqual(input);
  });

  it('reports OrchestrationUnavailableError when the backend refuses the start or cannot be reached', async () => {
    const refusing = durableStore({ 'job-1': { runtimeStatus: 'Completed', input } }, { refuseStarts: true });
    await expect(new DurableOrchestrationStarter(() => refusing.client).restart(run1)).rejects.toBeInstanceOf(
      OrchestrationUnavailableError,
    );
    const down = durableStore({}, { statusDown: true, refuseStarts: true });
    await expect(new DurableOrchestrationStarter(() => down.client).restart(run1)).rejects.toBeInstanceOf(
      OrchestrationUnavailableError,
    );
    const noClient = new DurableOrchestrationStarter(() => {
      throw new Error('Received input is not a valid durable client input.');
    });
    await expect(noClient.restart(run1)).rejects.toBeInstanceOf(OrchestrationUnavailableError);
  });
});
