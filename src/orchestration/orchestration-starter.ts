/**
 * The port through which admission starts a job's orchestration (instance id = job id).
 * `start` is idempotent: starting a job whose orchestration already exists is a success.
 */
export const JOB_ORCHESTRATOR_NAME = 'jobOrchestrator';

/** The orchestration's input: just enough to find the job; everything else is read from the ledger. */
export interface JobOrchestrationInput {
  readonly jobId: string;
  readonly tenantId: string;
  readonly requestType: string;
}

export interface OrchestrationStarter {
  /** Throws OrchestrationUnavailableError when the durable backend cannot take the start. */
  start(input: JobOrchestrationInput): Promise<void>;
}
