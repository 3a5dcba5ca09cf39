/**
 * The port through which replies and the cancel API reach a job's running orchestration: raising
 * an external event on instance id = job id.
 */
export interface OrchestrationSignals {
  /**
   * Raises `eventName` with `payload` on the job's orchestration. An orchestration that has ended
   * (or never started) ignores it: that is not an error, the ledger already holds the truth.
   * Throws OrchestrationUnavailableError (retryable) when the durable backend cannot be reached.
   */
  raise(jobId: string, eventName: string, payload: unknown): Promise<void>;
}
