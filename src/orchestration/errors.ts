/** Errors of the orchestration layer. */
import { LuciusError } from '../domain/errors';

/** The durable backend did not accept the start; the job is recorded and a resend starts it. */
export class OrchestrationUnavailableError extends LuciusError {
  constructor(jobId: string, cause?: unknown) {
    super(
      'orchestration_unavailable',
      `the orchestration of job ${jobId} could not be started; the job is recorded, resend the command to start it`,
      {
        fault: 'system',
        retryable: true,
        details: { job_id: jobId },
        cause,
      },
    );
  }
}
