/**
 * OrchestrationStarter over the Durable Functions client (`df.getClient(context)`): starts
 * `jobOrchestrator` with instance id = job id. When the start is refused, it asks whether the instance
 * exists (a resent command, or an earlier start that succeeded but whose answer was lost): if it does,
 * the job is started; otherwise the failure is reported as OrchestrationUnavailableError. A client
 * that cannot be had at all (no durable client binding data) is reported the same way: the job is
 * recorded and a resend starts it.
 *
 * `restart` (redrive) starts a new run over an ended instance (Durable replaces a completed,
 * failed or terminated instance started again with the same id).
 */
import type { DurableClient } from 'durable-functions';
import { OrchestrationUnavailableError } from './errors';
import type { JobOrchestrationInput, OrchestrationStarter } from '../ports/orchestration-starter';
import type { TraceCarrier } from '../ports/telemetry';
import { JOB_ORCHESTRATOR_NAME } from './job-orchestrator';

type StartingClient = Pick<DurableClient, 'startNew' | 'getStatus'>;

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

export class DurableOrchestrationStarter implements OrchestrationStarter {
  /**
   * @param currentTrace the caller's trace context, put into the orchestration input (`trace`) so
   * the run's activities continue the trace of the request that started it.
   */
  constructor(
    private readonly clientOf: () => StartingClient,
    private readonly currentTrace: () => TraceCarrier | undefined = () => undefined,
  ) {}

  async start(input: JobOrchestrationInput): Promise<void> {
    const client = this.client(input.jobId);
    try {
      await client.startNew(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input: this.traced(input) });
    } catch (startError) {
      const existing = await client.getStatus(input.jobId).catch(() => undefined);
      if (existing?.runtimeStatus !== undefined) return;
      throw new OrchestrationUnavailableError(input.jobId, startError);
    }
  }

  async restart(input: JobOrchestrationInput): Promise<void> {
    const client = this.client(input.jobId);
    let existing;
    try {
      existing = await client.getStatus(input.jobId);
    } catch {
      existing = undefined; // unknown instance (or unreachable backend: startNew tells)
    }
    if (existing !== undefined && ACTIVE.has(String(existing.runtimeStatus))) {
      const running = (existing.input as JobOrchestrationInput | undefined)?.drive ?? 0;
      if (running === (input.drive ?? 0)) return;
      throw new OrchestrationUnavailableError(
        input.jobId,
        new Error(`run ${running} of the job is still finishing; resend to start run ${input.drive ?? 0}`),
      );
    }
    try {
      await client.startNew(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input: this.traced(input) });
    } catch (startError) {
      throw new OrchestrationUnavailableError(input.jobId, startError);
    }
  }

  private traced(input: JobOrchestrationInput): JobOrchestrationInput & { readonly trace?: TraceCarrier } {
    const trace = this.currentTrace();
    return trace === undefined ? input : { ...input, trace };
  }

  private client(jobId: string): StartingClient {
    try {
      return this.clientOf();
    } catch (noClient) {
      throw new OrchestrationUnavailableError(jobId, noClient);
    }
  }
}
