/**
 * OrchestrationControl over the Durable Functions client (`df.getClient(context)`), for the
 * sweepers and the job API. Starting and raising are the starter's and the signals' (same rules:
 * see DurableOrchestrationStarter and DurableOrchestrationSignals); this adds:
 *
 * - `inspect`: the instance's runtime status, its run (`JobOrchestrationInput.drive`) and creation
 *   time; `Missing` when the backend knows no such instance (never started, or purged). A status
 *   this code does not know (a newer extension) reads as `Running`: a sweeper then leaves the
 *   instance alone rather than replace it.
 * - `purge`: deletes the instance and its history; false when there was none.
 *
 * Anything else the backend answers (unreachable, 5xx, no client binding) is
 * OrchestrationUnavailableError, retryable.
 */
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { DurableOrchestrationSignals } from './durable-orchestration-signals';
import { DurableOrchestrationStarter } from './durable-orchestration-starter';
import { OrchestrationUnavailableError } from './errors';
import { INSTANCE_STATES, type InstanceInfo, type InstanceState } from '../domain/instance';
import type { OrchestrationControl } from '../ports/orchestration-control';
import type { JobOrchestrationInput } from '../ports/orchestration-starter';

type ControlClient = Pick<DurableClient, 'startNew' | 'getStatus' | 'raiseEvent' | 'purgeInstanceHistory'>;

/** The client's answer to a status request for an instance it does not know. */
const NOT_FOUND = /replied with HTTP 404 response/;

export class DurableOrchestrationControl implements OrchestrationControl {
  private readonly starter: DurableOrchestrationStarter;
  private readonly signals: DurableOrchestrationSignals;

  constructor(private readonly clientOf: () => ControlClient) {
    this.starter = new DurableOrchestrationStarter(clientOf);
    this.signals = new DurableOrchestrationSignals(clientOf);
  }

  start(input: JobOrchestrationInput): Promise<void> {
    return this.starter.start(input);
  }

  restart(input: JobOrchestrationInput): Promise<void> {
    return this.starter.restart(input);
  }

  raise(jobId: string, eventName: string, payload: unknown): Promise<void> {
    return this.signals.raise(jobId, eventName, payload);
  }

  async inspect(jobId: string): Promise<InstanceInfo> {
    let status: DurableOrchestrationStatus;
    try {
      status = await this.client(jobId).getStatus(jobId, { showInput: true });
    } catch (error) {
      if (error instanceof Error && NOT_FOUND.test(error.message)) return { state: 'Missing' };
      throw new OrchestrationUnavailableError(jobId, error, 'control');
    }
    return toInstanceInfo(status);
  }

  async purge(jobId: string): Promise<boolean> {
    try {
      const result = await this.client(jobId).purgeInstanceHistory(jobId);
      return result.instancesDeleted > 0;
    } catch (error) {
      throw new OrchestrationUnavailableError(jobId, error, 'control');
    }
  }

  private client(jobId: string): ControlClient {
    try {
      return this.clientOf();
    } catch (noClient) {
      throw new OrchestrationUnavailableError(jobId, noClient, 'control');
    }
  }
}

/** The status as the port shows it (`Canceled`, which Durable never sets for orchestrations, reads as Terminated). */
export function toInstanceInfo(
  status: Pick<DurableOrchestrationStatus, 'runtimeStatus' | 'input' | 'createdTime'>,
): InstanceInfo {
  const drive = (status.input as Partial<JobOrchestrationInput> | undefined)?.drive;
  const created = new Date((status.createdTime as Date | string | undefined) ?? Number.NaN);
  return {
    state: toInstanceState(String(status.runtimeStatus)),
    ...(typeof drive === 'number' ? { drive } : {}),
    ...(Number.isNaN(created.getTime()) ? {} : { createdAt: created.toISOString() }),
  };
}

function toInstanceState(runtimeStatus: string): InstanceState {
  if (runtimeStatus === 'Canceled') return 'Terminated';
  const known = INSTANCE_STATES.find((state) => state === runtimeStatus && state !== 'Missing');
  return known ?? 'Running';
}
