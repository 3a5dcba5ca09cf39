/**
 * The port through which the sweepers, the CLI and the job API look at and act on a job's
 * orchestration (instance id = job id) beyond starting it and raising events: what the durable
 * backend says of the instance, and purging its history.
 */
import type { OrchestrationSignals } from './orchestration-signals';
import type { OrchestrationStarter } from './orchestration-starter';

/** The instance's runtime status as Durable Functions reports it; `Missing` when none exists (or it was purged). */
export const INSTANCE_STATES = [
  'Pending',
  'Running',
  'Suspended',
  'ContinuedAsNew',
  'Completed',
  'Failed',
  'Terminated',
  'Missing',
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export interface InstanceInfo {
  readonly state: InstanceState;
  /** The run (`JobOrchestrationInput.drive`) the instance was started for, when it exists. */
  readonly drive?: number;
  /** When the instance was created, when it exists. */
  readonly createdAt?: string;
}

/** An instance that still runs (or is about to): events reach it. */
export function isLiveInstance(state: InstanceState): boolean {
  return state === 'Pending' || state === 'Running' || state === 'Suspended' || state === 'ContinuedAsNew';
}

export interface OrchestrationControl extends OrchestrationStarter, OrchestrationSignals {
  /** Throws OrchestrationUnavailableError when the durable backend cannot be reached. */
  inspect(jobId: string): Promise<InstanceInfo>;
  /** Deletes the instance and its history. Resolves false when there was none. */
  purge(jobId: string): Promise<boolean>;
}
