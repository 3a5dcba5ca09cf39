/**
 * OrchestrationStarter over the Durable Functions client (`df.getClient(context)`): starts
 * `jobOrchestrator` with instance id = job id. When the start is refused, it asks whether the instance
 * exists (a resent command, or an earlier start that succeeded but whose answer was lost): if it does,
 * the job is started; otherwise the failure is reported as OrchestrationUnavailableError.
 */
import type { DurableClient } from 'durable-functions';
import { OrchestrationUnavailableError } from './errors';
import {
  JOB_ORCHESTRATOR_NAME,
  type JobOrchestrationInput,
  type OrchestrationStarter,
} from './orchestration-starter';

export class DurableOrchestrationStarter implements OrchestrationStarter {
  constructor(private readonly client: Pick<DurableClient, 'startNew' | 'getStatus'>) {}

  async start(input: JobOrchestrationInput): Promise<void> {
    try {
      await this.client.startNew(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input });
    } catch (startError) {
      const existing = await this.client.getStatus(input.jobId).catch(() => undefined);
      if (existing?.runtimeStatus !== undefined) return;
      throw new OrchestrationUnavailableError(input.jobId, startError);
    }
  }
}
