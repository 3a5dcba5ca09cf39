/**
 * Jobs end to end on devhost, nothing faked: the launcher's `up` as a child process (Azurite, the Service
 * Bus emulator, the app from src/index.ts with its durable engine), real HTTP to the app, and the
 * demo workers (workers/) on real AMQP through @azure/service-bus, started by each test in the mode
 * it needs. Timings are tuned through Lucius's own settings (a 3 s ACK timeout, 1 s backoffs) so
 * retries happen within seconds; waits poll, nothing asserts on elapsed time.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { startDemoWorkers, type DemoWorkers } from '../../workers/demo-workers';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { uniqueToken } from '../support/unique';

const KEY = 'e2e-key';

/** The parts of the API's answers these tests read. */
interface StepBody {
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
interface JobBody {
  readonly jobId: string;
  readonly status: string;
  readonly lane: number;
  readonly steps: readonly StepBody[];
  readonly items?: ReadonlyArray<{ readonly jobId: string; readonly status: string }>;
  readonly code?: string;
}
interface InstanceBody {
  readonly runtimeStatus: string;
  readonly output?: Record<string, unknown>;
}
let up: Up;
let workers: DemoWorkers | undefined;

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_ACK_TIMEOUT_SECONDS: '3',
    LUCIUS_REPLY_BACKOFF_SECONDS: '1',
    LUCIUS_DISPATCH_BACKOFF_SECONDS: '1',
  });
}, 120_000);

afterEach(async () => {
  await workers?.stop();
  workers = undefined;
});

afterAll(async () => {
  await up?.stop();
});

async function runWorkers(modes: string, slowWorkMs = 3_000): Promise<DemoWorkers> {
  workers = await startDemoWorkers({
    connectionString: up.serviceBusConnection,
    modes,
    timings: { workMs: 20, slowWorkMs, heartbeatMs: 300 },
    maxConcurrentCalls: 16,
  });
  return workers;
}

const PAYLOADS: Record<string, unknown> = {
  ocr: { output_format: 'TEXT' },
  embedding: { model: 'text-embedding-3-large' },
  sis: { analysis: ['summary'] },
};

function command(requestType: string, tenant: string) {
  const steps = requestType.split('->').map((t) => t.toLowerCase());
  return {
    tenant_id: tenant,
    request_type: requestType,
    input_ref: `blob://in/${uniqueToken()}.pdf`,
    output_ref: 'blob://out/e2e',
    payload: { steps: Object.fromEntries(steps.map((s) => [s, PAYLOADS[s]])) },
    schema_version: 'v1',
  };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: JobBody }> {
  const url = `${up.apiUrl}${path}${path.includes('?') ? '&' : '?'}code=${KEY}`;
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as JobBody };
}

async function submit(
  requestType: string,
  tenant = `t-${uniqueToken()}`,
): Promise<{ jobId: string; tenant: string }> {
  const answer = await call('POST', '/v1/orchestrate', command(requestType, tenant));
  if (answer.status !== 202)
    throw new Error(`admission answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { jobId: answer.body.jobId, tenant };
}

async function job(ref: { jobId: string; tenant: string }): Promise<JobBody> {
  const answer = await call('GET', `/v1/jobs/${ref.jobId}?tenant_id=${ref.tenant}`);
  if (answer.status !== 200) throw new Error(`GET job answered ${answer.status}`);
  return answer.body;
}

/** The job's orchestration once it has completed, from the Durable HTTP API. */
function completedInstance(jobId: string): Promise<InstanceBody> {
  return eventually(`orchestration ${jobId} completing`, async () => {
    // The function key given is also the master key, which the Durable HTTP API accepts.
    const response = await fetch(`${up.baseUrl}/runtime/webhooks/durabletask/instances/${jobId}?code=${KEY}`);
    const status = (await response.json()) as InstanceBody;
    return status.runtimeStatus === 'Completed' ? status : undefined;
  });
}

function settled(ref: { jobId: string; tenant: string }, polls = 600): Promise<JobBody> {
  return eventually(
    `job ${ref.jobId} ending`,
    async () => {
      const view = await job(ref);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(view.status) ? view : undefined;
    },
    polls,
  );
}

describe('jobs on devhost', () => {
  it('runs OCR->EMBEDDING through the demo workers to SUCCEEDED', async () => {
    await runWorkers('normal');
    const ref = await submit('OCR->EMBEDDING');
    const view = await settled(ref);
    expect(view).toMatchObject({ jobId: ref.jobId, status: 'SUCCEEDED' });
    expect(view.steps).toHaveLength(2);
    for (const step of view.steps) {
      expect(step).toMatchObject({ status: 'SUCCEEDED', attemptNo: 1, lane: view.lane });
      expect(step.outputRef).toEqual(expect.stringContaining('blob://out/e2e'));
    }
    expect(view.steps[1]?.inputRef).toBe(view.steps[0]?.outputRef);
    expect(await completedInstance(ref.jobId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'SUCCEEDED', jobId: ref.jobId },
    });
  });

  it('retries a step whose worker fails transiently, then succeeds', async () => {
    await runWorkers('EMBEDDING=flaky:1');
    const ref = await submit('OCR->EMBEDDING');
    const view = await settled(ref);
    expect(view.status).toBe('SUCCEEDED');
    expect(view.steps.map((s) => [s.stepId, s.status, s.attemptNo])).toEqual([
      ['ocr', 'SUCCEEDED', 1],
      ['embedding', 'SUCCEEDED', 2],
    ]);
    expect(view.steps[1]?.failure).toMatchObject({ failureClass: 'TRANSIENT', attemptNo: 1 });
  });

  it('quarantines an invalid reply with its validation errors, and times the attempt out', async () => {
    await runWorkers('SIS=invalid');
    const ref = await submit('SIS');
    const client = new ServiceBusClient(up.serviceBusConnection);
    try {
      const receiver = client.createReceiver('lucius-quarantine', { receiveMode: 'receiveAndDelete' });
      const parked = await eventually(
        'the invalid reply reaching the quarantine',
        async () => {
          const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1_000 });
          return message;
        },
        60,
      );
      await receiver.close();
      expect(parked.applicationProperties).toMatchObject({
        reason: 'invalid_reply',
        source: expect.stringMatching(/^global-bus-replies-p\d+\/lucius-invoker$/),
        description: expect.stringContaining('result.v1'),
      });
      expect((parked.body as { job_id?: string }).job_id).toBe(ref.jobId);
    } finally {
      await client.close();
    }
    // The worker never sent a valid reply: the ACK timeout fails the attempt and it is retried.
    const retried = await eventually('a second attempt', async () => {
      const view = await job(ref);
      return (view.steps[0]?.attemptNo ?? 0) >= 2 ? view : undefined;
    });
    expect(retried.steps[0]?.failure).toMatchObject({ failureClass: 'ACK_TIMEOUT', attemptNo: 1 });
    expect((await call('POST', `/v1/jobs/${ref.jobId}/cancel?tenant_id=${ref.tenant}`)).status).toBe(202);
  });

  it('cancels a job mid-step: the ledger, the worker and the orchestration all stop', async () => {
    const cancels: string[] = [];
    const current: { ref?: { jobId: string; tenant: string } } = {};
    workers = await startDemoWorkers({
      connectionString: up.serviceBusConnection,
      modes: 'OCR=slow',
      timings: { workMs: 20, slowWorkMs: 120_000, heartbeatMs: 300 },
      onSettled: (event) => {
        // Cancels of earlier tests' jobs may still be queued: only this job's count.
        if (event.kind === 'cancel' && event.jobId === current.ref?.jobId) cancels.push(event.leaseId ?? '?');
      },
    });
    const ref = await submit('OCR->EMBEDDING');
    current.ref = ref;
    const running = await eventually('the OCR step in progress', async () => {
      const view = await job(ref);
      return view.steps[0]?.status === 'IN_PROGRESS' ? view : undefined;
    });
    const answer = await call('POST', `/v1/jobs/${ref.jobId}/cancel?tenant_id=${ref.tenant}`, {
      reason: 'e2e',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'CANCELLED' });
    expect(answer.body.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    await eventually('the worker told to stop', async () => (cancels.length > 0 ? true : undefined));
    expect(cancels).toEqual([running.steps[0]?.leaseId]);
    const instance = await completedInstance(ref.jobId);
    expect(instance.output).toMatchObject({ status: 'CANCELLED' });
    expect((await job(ref)).status).toBe('CANCELLED');
  });

  it('finishes 200 concurrent jobs across tenants, none lost and none duplicated', async () => {
    await runWorkers('instant');
    const tenants = Array.from({ length: 8 }, () => `bulk-${uniqueToken()}`);
    const refs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => submit('OCR->EMBEDDING', tenants[i % tenants.length] as string)),
    );
    expect(new Set(refs.map((r) => r.jobId)).size).toBe(200);
    // One listing per tenant per sweep (not 200 pollers) until every job has ended.
    const ended = await eventually(
      'all 200 jobs ending',
      async () => {
        const pages = await Promise.all(
          tenants.map((tenant) => call('GET', `/v1/jobs?tenant_id=${tenant}&limit=100`)),
        );
        const items = pages.flatMap((page) => page.body.items ?? []);
        return items.length === 200 &&
          items.every((item) => item.status !== 'ACCEPTED' && item.status !== 'RUNNING')
          ? items
          : undefined;
      },
      900,
      200,
    );
    expect(ended.filter((item) => item.status !== 'SUCCEEDED')).toEqual([]);
    expect(ended.map((item) => item.jobId).sort()).toEqual(refs.map((r) => r.jobId).sort());
    // Each step ran exactly once (replies may arrive twice, e.g. an ACK after its RESULT: no-ops).
    for (const ref of refs.slice(0, 40)) {
      const view = await job(ref);
      expect(view.steps.map((s) => [s.status, s.attemptNo])).toEqual([
        ['SUCCEEDED', 1],
        ['SUCCEEDED', 1],
      ]);
    }
  }, 300_000);
});
