/**
 * What the job end-to-end tests (test/e2e/job-*.test.ts) share: a small client of the app started by
 * `startUp`, calling its API as each tenant's own caller (a dev bearer token for that tenant, minted by
 * test/support/dev-token.ts, one caller per tenant as separate clients would be, each with its own
 * per-caller rate limit), and the demo workers (workers/) on the app's Service Bus emulator. Waits
 * poll through `eventually`; nothing asserts on elapsed time.
 */
import { startDemoWorkers, type DemoWorkers } from '../../../workers/demo-workers';
import { eventually, type Up } from '../../support/devhost-up';
import type { DevTokens } from '../../support/dev-token';
import { uniqueToken } from '../../support/unique';

/** The parts of the API's answers these tests read. */
export interface StepBody {
  readonly stepId: string;
  readonly status: string;
  readonly attemptNo: number;
  readonly lane: number;
  readonly leaseId?: string;
  readonly inputRef?: string;
  readonly outputRef?: string;
  readonly duplicateReplies?: number;
  readonly failure?: Record<string, unknown>;
}
export interface JobBody {
  readonly jobId: string;
  readonly status: string;
  readonly lane: number;
  readonly steps: readonly StepBody[];
  readonly items?: ReadonlyArray<{ readonly jobId: string; readonly status: string }>;
  readonly code?: string;
}
export interface InstanceBody {
  readonly runtimeStatus: string;
  readonly output?: Record<string, unknown>;
}

/** A submitted job and the tenant it belongs to. */
export interface JobRef {
  readonly jobId: string;
  readonly tenant: string;
}

export interface JobClient {
  /** An orchestrate command for `requestType` (e.g. `OCR->EMBEDDING`) with a unique input. */
  command(requestType: string, tenant: string): Record<string, unknown>;
  /** A call to the API as the tenant's own caller (a dev token with submit, read and operate for it). */
  call(
    method: string,
    path: string,
    tenant: string,
    body?: unknown,
  ): Promise<{ status: number; body: JobBody }>;
  /** Submits a job (to a fresh tenant unless one is given); throws unless it is admitted. */
  submit(requestType: string, tenant?: string): Promise<JobRef>;
  /** The job as the API shows it now. */
  job(ref: JobRef): Promise<JobBody>;
  /** The job once it has ended (SUCCEEDED, FAILED or CANCELLED). */
  settled(ref: JobRef, polls?: number): Promise<JobBody>;
  /** The job's orchestration once it has completed, from the Durable HTTP API. */
  completedInstance(jobId: string): Promise<InstanceBody>;
}

const PAYLOADS: Record<string, unknown> = {
  ocr: { output_format: 'TEXT' },
  embedding: { model: 'text-embedding-3-large' },
  sis: { analysis: ['summary'] },
};

const ENDED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** A client of the app `up` runs, its calls authorized by `tokens` and its function key `key`. */
export function jobClient(up: Up, tokens: DevTokens, key: string): JobClient {
  const command = (requestType: string, tenant: string) => {
    const steps = requestType.split('->').map((t) => t.toLowerCase());
    return {
      tenant_id: tenant,
      request_type: requestType,
      input_ref: `blob://in/${uniqueToken()}.pdf`,
      output_ref: 'blob://out/e2e',
      payload: { steps: Object.fromEntries(steps.map((s) => [s, PAYLOADS[s]])) },
      schema_version: 'v1',
    };
  };

  const call = async (method: string, path: string, tenant: string, body?: unknown) => {
    const url = `${up.apiUrl}${path}${path.includes('?') ? '&' : '?'}code=${key}`;
    const auth = await tokens.headers(tenant, { subject: `e2e-${tenant}` });
    const response = await fetch(url, {
      method,
      ...(body === undefined
        ? { headers: auth }
        : { headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as JobBody };
  };

  const submit = async (requestType: string, tenant = `t-${uniqueToken()}`) => {
    const answer = await call('POST', '/v1/orchestrate', tenant, command(requestType, tenant));
    if (answer.status !== 202)
      throw new Error(`admission answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return { jobId: answer.body.jobId, tenant };
  };

  const job = async (ref: JobRef) => {
    const answer = await call('GET', `/v1/jobs/${ref.jobId}?tenant_id=${ref.tenant}`, ref.tenant);
    if (answer.status !== 200) throw new Error(`GET job answered ${answer.status}`);
    return answer.body;
  };

  const settled = (ref: JobRef, polls = 600) =>
    eventually(
      `job ${ref.jobId} ending`,
      async () => {
        const view = await job(ref);
        return ENDED.includes(view.status) ? view : undefined;
      },
      polls,
    );

  const completedInstance = (jobId: string) =>
    eventually(`orchestration ${jobId} completing`, async () => {
      // The function key given is also the master key, which the Durable HTTP API accepts.
      const response = await fetch(
        `${up.baseUrl}/runtime/webhooks/durabletask/instances/${jobId}?code=${key}`,
      );
      const status = (await response.json()) as InstanceBody;
      return status.runtimeStatus === 'Completed' ? status : undefined;
    });

  return { command, call, submit, job, settled, completedInstance };
}

/** The demo workers on `up`'s Service Bus emulator in `modes`, quick (20 ms of work) unless slow. */
export function runDemoWorkers(up: Up, modes: string, slowWorkMs = 3_000): Promise<DemoWorkers> {
  return startDemoWorkers({
    connectionString: up.serviceBusConnection,
    modes,
    timings: { workMs: 20, slowWorkMs, heartbeatMs: 300 },
    maxConcurrentCalls: 16,
  });
}
