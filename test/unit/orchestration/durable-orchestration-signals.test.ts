import { DurableOrchestrationSignals } from '../../../src/orchestration/durable-orchestration-signals';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';

type Client = ReturnType<ConstructorParameters<typeof DurableOrchestrationSignals>[0]>;

/**
 * A durable client double answering raiseEvent as durable-functions' DurableClient does: an ended
 * instance (410) resolves, an unknown one (404) rejects with "No instance with ID '…' found.",
 * anything else rejects with the client's generic error.
 */
function fakeClient(instances: Record<string, 'Running' | 'Completed'>, options: { down?: boolean } = {}) {
  const inbox: Array<{ instanceId: string; eventName: string; eventData: unknown }> = [];
  const client = {
    raiseEvent: async (instanceId: string, eventName: string, eventData: unknown) => {
      await Promise.resolve();
      if (options.down === true) throw new Error('connect ECONNREFUSED 127.0.0.1:7071');
      const state = instances[instanceId];
      if (state === undefined) throw new Error(`No instance with ID '${instanceId}' found.`);
      if (state === 'Running') inbox.push({ instanceId, eventName, eventData });
    },
  };
  return { client: client as unknown as Client, inbox };
}

describe('DurableOrchestrationSignals', () => {
  it('delivers the event with its payload to the job’s running orchestration', async () => {
    const { client, inbox } = fakeClient({ 'job-1': 'Running' });
    await new DurableOrchestrationSignals(() => client).raise('job-1', 'cancel', { reason: 'stop' });
    expect(inbox).toEqual([{ instanceId: 'job-1', eventName: 'cancel', eventData: { reason: 'stop' } }]);
  });

  it('resolves for an orchestration that has ended or never existed: nothing is waiting', async () => {
    const { client, inbox } = fakeClient({ 'job-1': 'Completed' });
    const signals = new DurableOrchestrationSignals(() => client);
    await expect(signals.raise('job-1', 'cancel', {})).resolves.toBeUndefined();
    await expect(signals.raise('job-2', 'cancel', {})).resolves.toBeUndefined();
    expect(inbox).toEqual([]);
  });

  it('reports OrchestrationUnavailableError, retryable, when the durable backend does not answer', async () => {
    const { client } = fakeClient({ 'job-1': 'Running' }, { down: true });
    const failure = new DurableOrchestrationSignals(() => client).raise('job-1', 'cancel', {});
    await expect(failure).rejects.toBeInstanceOf(OrchestrationUnavailableError);
    await expect(failure).rejects.toMatchObject({
      code: 'orchestration_unavailable',
      retryable: true,
      details: { job_id: 'job-1' },
    });
  });

  it('reports OrchestrationUnavailableError when no durable client can be had', async () => {
    const signals = new DurableOrchestrationSignals(() => {
      throw new Error('Received input is not a valid durable client input.');
    });
    await expect(signals.raise('job-1', 'cancel', {})).rejects.toBeInstanceOf(OrchestrationUnavailableError);
  });
});
