/**
 * OrchestrationStarter over the Durable Functions client (`df.getClient(context)`): starts
 * `jobOrchestrator` with instance id = job id. When the start is refused, it asks whether the instance
 * exists (a resent command, or an earlier start that succeeded but whose answer was lost): if it does,
 * the job is started; otherwise the failure is reported as OrchestrationUnavailableError. A client
 * that cannot be had at all (no durable client binding data) is reported the same way: the job is
 * recorded and a resend starts it.
 */
import type { DurableClient } from 'durable-functions';
import { OrchestrationUnavailableError } from './errors';
import {
  JOB_ORCHESTRATOR_NAME,
  type JobOrchestrationInput,
  type OrchestrationStarter,
} from './orchestration-starter';

type StartingClient = Pick<DurableClient, 'startNew' | 'getStatus'>;

export class DurableOrchestrationStarter implements OrchestrationStarter {
  constructor(private readonly clientOf: () => StartingClient) {}

  async start(input: JobOrchestrationInput): Promise<void> {
    let client: StartingClient;
    try {
      client = this.clientOf();
    } catch (noClient) {
      throw new OrchestrationUnavailableError(input.jobId, noClient);
    }
    try {
      await client.startNew(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input });
    } catch (startError) {
      const existing = await client.getStatus(input.jobId).catch(() => undefined);
      if (existing?.runtimeStatus !== undefined) return;
      throw new OrchestrationUnavailableError(input.jobId, startError);
    }
  }
}
