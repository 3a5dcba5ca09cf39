/**
 * Volume end to end on devhost, nothing faked: 200 jobs submitted at once across 8 tenants to the
 * launcher's `up` as a child process (Azurite, the Service Bus emulator, the app from src/index.ts
 * with its durable engine), run by the demo workers (workers/) on real AMQP, and none is lost or
 * duplicated. The app keeps its default ACK timeout (a short one would let directives published
 * under this load expire unread and be retried, which test/e2e/job-lifecycle.test.ts covers); backoffs
 * are 1 s so any retry happens within seconds. Calls go through test/e2e/support/job-client.ts, one
 * dev bearer token per tenant; waits poll, nothing asserts on elapsed time.
 */
import type { DemoWorkers } from '../../workers/demo-workers';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { DevTokens } from '../support/dev-token';
import { uniqueToken } from '../support/unique';
import { jobClient, runDemoWorkers, type JobClient, type StepBody } from './support/job-client';

const KEY = 'e2e-key';
const JOBS = 200;
const TENANTS = 8;

let up: Up;
let api: JobClient;
let workers: DemoWorkers | undefined;

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_NOT_STARTED_BACKOFF_SECONDS: '1',
    LUCIUS_REPLY_BACKOFF_SECONDS: '1',
    LUCIUS_DISPATCH_BACKOFF_SECONDS: '1',
  });
  api = jobClient(up, await DevTokens.open(up.dataDir), KEY);
}, 120_000);

afterAll(async () => {
  await workers?.stop();
  await up?.stop();
});

describe('jobs on devhost under volume', () => {
  it('finishes 200 concurrent jobs across tenants, none lost and none duplicated', async () => {
    workers = await runDemoWorkers(up, 'instant');
    const tenants = Array.from({ length: TENANTS }, () => `bulk-${uniqueToken()}`);
    const refs = await Promise.all(
      Array.from({ length: JOBS }, (_, i) => api.submit('OCR->EMBEDDING', tenants[i % TENANTS] as string)),
    );
    expect(new Set(refs.map((r) => r.jobId)).size).toBe(JOBS);
    // One listing per tenant per sweep (not 200 pollers) until every job has ended.
    const ended = await eventually(
      `all ${JOBS} jobs ending`,
      async () => {
        const pages = await Promise.all(
          tenants.map((tenant) => api.call('GET', `/v1/jobs?tenant_id=${tenant}&limit=100`, tenant)),
        );
        const items = pages.flatMap((page) => page.body.items ?? []);
        return items.length === JOBS &&
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
    // An attempt whose directive expired unread never ran: the attempts that ran are the step's
    // attempts less its not-started ones.
    const ran = (s: StepBody) => s.attemptNo - Number(s.failure?.['notStarted'] ?? 0);
    for (const ref of refs.slice(0, 40)) {
      const view = await api.job(ref);
      expect(view.steps.map((s) => [s.status, ran(s)])).toEqual([
        ['SUCCEEDED', 1],
        ['SUCCEEDED', 1],
      ]);
    }
  }, 300_000);
});
