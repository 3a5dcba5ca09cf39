/**
 * A job's orchestration instance as the durable backend reports it (instance id = job id): what the
 * sweepers decide repairs from (`decideRepair`) and what the OrchestrationControl port answers.
 */

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
