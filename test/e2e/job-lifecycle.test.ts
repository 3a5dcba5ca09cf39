/**
 * Jobs end to end on devhost, nothing faked: the launcher's `up` as a child process (Azurite, the Service
 * Bus emulator, the app from src/index.ts with its durable engine), real HTTP to the app, and the
 * demo workers (workers/) on real AMQP through @azure/service-bus, started by each test in the mode
 * it needs. Timings are tuned through Lucius's own settings (a 3 s ACK timeout, 1 s backoffs) so
 * retries and ACK time-outs happen within seconds; waits poll, nothing asserts on elapsed time. Every
 * call carries a dev bearer token for its tenant (the app runs in `LUCIUS_AUTH_MODE=dev`, as
 * `npm start` does), through test/e2e/support/job-client.ts. Volume (200 concurrent jobs) is in
 * test/e2e/job-volume.test.ts, on an app with the default ACK timeout.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { startDemoWorkers, type DemoWorkers } from '../../workers/demo-workers';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { DevTokens } from '../support/dev-token';
import { jobClient, runDemoWorkers, type JobClient, type JobRef } from './support/job-client';

const KEY = 'e2e-key';

let up: Up;
let api: JobClient;
let workers: DemoWorkers | undefined;

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_ACK_TIMEOUT_SECONDS: '3',
    LUCIUS_NOT_STARTED_BACKOFF_SECONDS: '1',
    LUCIUS_REPLY_BACKOFF_SECONDS: '1',
    LUCIUS_DISPATCH_BACKOFF_SECONDS: '1',
  });
  api = jobClient(up, await DevTokens.open(up.dataDir), KEY);
}, 120_000);

afterEach(async () => {
  await workers?.stop();
  workers = undefined;
});

afterAll(async () => {
  await up?.stop();
});

async function runWorkers(modes: string): Promise<DemoWorkers> {
  workers = await runDemoWorkers(up, modes);
  return workers;
}

describe('jobs on devhost', () => {
  it('runs OCR->EMBEDDING through the demo workers to SUCCEEDED', async () => {
    await runWorkers('normal');
    const ref = await api.submit('OCR->EMBEDDING');
    const view = await api.settled(ref);
    expect(view).toMatchObject({ jobId: ref.jobId, status: 'SUCCEEDED' });
    expect(view.steps).toHaveLength(2);
    for (const step of view.steps) {
      expect(step).toMatchObject({ status: 'SUCCEEDED', attemptNo: 1, lane: view.lane });
      expect(step.outputRef).toEqual(expect.stringContaining('blob://out/e2e'));
    }
    expect(view.steps[1]?.inputRef).toBe(view.steps[0]?.outputRef);
    expect(await api.completedInstance(ref.jobId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'SUCCEEDED', jobId: ref.jobId },
    });
  });

  it('retries a step whose worker fails transiently, then succeeds', async () => {
    await runWorkers('EMBEDDING=flaky:1');
    const ref = await api.submit('OCR->EMBEDDING');
    const view = await api.settled(ref);
    expect(view.status).toBe('SUCCEEDED');
    expect(view.steps.map((s) => [s.stepId, s.status, s.attemptNo])).toEqual([
      ['ocr', 'SUCCEEDED', 1],
      ['embedding', 'SUCCEEDED', 2],
    ]);
    expect(view.steps[1]?.failure).toMatchObject({ failureClass: 'TRANSIENT', attemptNo: 1 });
  });

  it('quarantines an invalid reply with its validation errors, and times the attempt out', async () => {
    await runWorkers('SIS=invalid');
    const ref = await api.submit('SIS');
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
    // The worker never sent a valid reply: the ACK timeout ends the attempt as not started (it did
    // not count) and it is retried.
    const retried = await eventually('a second attempt', async () => {
      const view = await api.job(ref);
      return (view.steps[0]?.attemptNo ?? 0) >= 2 ? view : undefined;
    });
    expect(retried.steps[0]?.failure).toMatchObject({ failureClass: 'NOT_STARTED', attemptNo: 1 });
    expect(
      (await api.call('POST', `/v1/jobs/${ref.jobId}/cancel?tenant_id=${ref.tenant}`, ref.tenant)).status,
    ).toBe(202);
  });

  it('cancels a job mid-step: the ledger, the worker and the orchestration all stop', async () => {
    const cancels: string[] = [];
    const current: { ref?: JobRef } = {};
    workers = await startDemoWorkers({
      connectionString: up.serviceBusConnection,
      modes: 'OCR=slow',
      timings: { workMs: 20, slowWorkMs: 120_000, heartbeatMs: 300 },
      onSettled: (event) => {
        // Cancels of earlier tests' jobs may still be queued: only this job's count.
        if (event.kind === 'cancel' && event.jobId === current.ref?.jobId) cancels.push(event.leaseId ?? '?');
      },
    });
    const ref = await api.submit('OCR->EMBEDDING');
    current.ref = ref;
    const running = await eventually('the OCR step in progress', async () => {
      const view = await api.job(ref);
      return view.steps[0]?.status === 'IN_PROGRESS' ? view : undefined;
    });
    const answer = await api.call(
      'POST',
      `/v1/jobs/${ref.jobId}/cancel?tenant_id=${ref.tenant}`,
      ref.tenant,
      {
        reason: 'e2e',
      },
    );
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'CANCELLED' });
    expect(answer.body.steps.map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    await eventually('the worker told to stop', async () => (cancels.length > 0 ? true : undefined));
    expect(cancels).toEqual([running.steps[0]?.leaseId]);
    const instance = await api.completedInstance(ref.jobId);
    expect(instance.output).toMatchObject({ status: 'CANCELLED' });
    expect((await api.job(ref)).status).toBe('CANCELLED');
  });
});
