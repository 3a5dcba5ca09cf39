/** Errors of the orchestration layer. */
import { LuciusError } from '../domain/errors';

/**
 * The durable backend did not take a start (the job is recorded and a resend starts it) or an
 * event (the ledger has the change; a resend raises it again).
 */
export class OrchestrationUnavailableError extends LuciusError {
  constructor(jobId: string, cause?: unknown, operation: 'start' | 'signal' | 'control' = 'start') {
    super(
      'orchestration_unavailable',
      operation === 'start'
        ? `the orchestration of job ${jobId} could not be started; the job is recorded, resend the command to start it`
        : operation === 'signal'
          ? `the orchestration of job ${jobId} could not be reached; the change is recorded, resend to deliver it`
          : `the durable backend did not answer about the orchestration of job ${jobId}; try again`,
      {
        fault: 'system',
        retryable: true,
        details: { job_id: jobId },
        cause,
      },
    );
  }
}
