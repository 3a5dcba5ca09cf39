/**
 * The port through which the sweepers, the CLI and the job API look at and act on a job's
 * orchestration (instance id = job id) beyond starting it and raising events: what the durable
 * backend says of the instance (domain/instance.ts), and purging its history.
 */
import type { InstanceInfo } from '../domain/instance';
import type { OrchestrationSignals } from './orchestration-signals';
import type { OrchestrationStarter } from './orchestration-starter';

export interface OrchestrationControl extends OrchestrationStarter, OrchestrationSignals {
  /** Throws OrchestrationUnavailableError when the durable backend cannot be reached. */
  inspect(jobId: string): Promise<InstanceInfo>;
  /** Deletes the instance and its history. Resolves false when there was none. */
  purge(jobId: string): Promise<boolean>;
}
