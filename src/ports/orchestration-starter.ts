/**
 * The port through which admission (and redrive) starts a job's orchestration (instance id = job id).
 */

/** The orchestration's input: just enough to find the job; everything else is read from the ledger. */
export interface JobOrchestrationInput {
  readonly jobId: string;
  readonly tenantId: string;
  readonly requestType: string;
  /** Which run of the job this is: 0 from admission, n after the n-th redrive. */
  readonly drive?: number;
}

export interface OrchestrationStarter {
  /**
   * Starts the job's first run. Idempotent: a job whose orchestration already exists is a success.
   * Throws OrchestrationUnavailableError when the durable backend cannot take the start.
   */
  start(input: JobOrchestrationInput): Promise<void>;
  /**
   * Starts run `input.drive` of the job, replacing an ended run of the same instance id. A run of
   * this drive already running is a success; an older run still running (it is finishing) refuses
   * with OrchestrationUnavailableError, retryable.
   */
  restart(input: JobOrchestrationInput): Promise<void>;
}
