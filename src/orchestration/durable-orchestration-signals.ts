/**
 * OrchestrationSignals over the Durable Functions client (`df.getClient(context)`). The client
 * answers a raise on an ended instance with success (410) and on an unknown one with an error
 * naming it: both mean nothing is waiting, so both resolve. Anything else is the durable backend
 * not answering: OrchestrationUnavailableError, retryable.
 */
import type { DurableClient } from 'durable-functions';
import { OrchestrationUnavailableError } from './errors';
import type { OrchestrationSignals } from '../ports/orchestration-signals';

type RaisingClient = Pick<DurableClient, 'raiseEvent'>;

export class DurableOrchestrationSignals implements OrchestrationSignals {
  constructor(private readonly clientOf: () => RaisingClient) {}

  async raise(jobId: string, eventName: string, payload: unknown): Promise<void> {
    try {
      await this.clientOf().raiseEvent(jobId, eventName, payload);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(`No instance with ID '${jobId}' found`)) return;
      throw new OrchestrationUnavailableError(jobId, error, 'signal');
    }
  }
}
