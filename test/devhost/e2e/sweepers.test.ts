/**
 * The sweepers end to end on devhost, nothing faked: the launcher's `up` as a child process (Azurite, the
 * Service Bus emulator, the app from src/index.ts with its durable engine, the demo workers: OCR
 * slow so a job is caught mid-step, SIS silent so an attempt waits on a far timer). Each drift is
 * produced for real (through the Durable HTTP API, or by writing the ledger directly as a process
 * dying half-way would leave it) and repaired by a sweeper run through the admin API
 * (POST /admin/functions/{name} with the master key). The timers' own schedules are once a year, so
 * only these runs sweep. The app runs in `LUCIUS_AUTH_MODE=dev` (as `npm start` does): every call
 * to its API carries a dev bearer token for the tenant. Waits poll with bounded counts; nothing
 * asserts on elapsed time.
 */
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { devTableConnectionString } from '../../../devhost/azurite';
import { loadProtocolRegistry } from '../../../src/config/protocol-registry';
import { parseSettings, type Settings } from '../../../src/config/settings';
import type { CommandEnvelope } from '../../../src/contracts/command-envelope';
import { validateStepPayload } from '../../../src/contracts/step-payloads';
import { planAdmission } from '../../../src/domain/admission';
import { createJobLedger } from '../../../src/ledger/create-job-ledger';
import type { JobLedger } from '../../../src/ports/job-ledger';
import { eventually, sleep, startUp, type Up } from '../../support/devhost-up';
import { DevTokens } from '../../support/dev-token';
import { uniqueToken } from '../../support/unique';

const KEY = 'sweep-key';
const MASTER = 'sweep-master';
const SYSTEM = 'sweep-system';
const NEVER = '0 0 0 1 1 *';
/** Sweeper runs tried before a repair must have shown (each followed by short polls). */
const SWEEP_ROUNDS = 30;

const ENV = {
  DEVHOST_FUNCTION_KEY: KEY,
  DEVHOST_MASTER_KEY: MASTER,
  DEVHOST_SYSTEM_KEY: SYSTEM,
  LUCIUS_DRIFT_SWEEP_SCHEDULE: NEVER,
  LUCIUS_LEASE_SWEEP_SCHEDULE: NEVER,
  LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS: '1',
  LUCIUS_SWEEP_TIMER_GRACE_SECONDS: '1',
  LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS: '60',
  LUCIUS_SWEEP_RECHECK_SECONDS: '1',
  LUCIUS_ACK_TIMEOUT_SECONDS: '600',
  // No not-started retries: an ACK timeout counts at once (ACK_TIMEOUT), as the recheck case expects.
  LUCIUS_MAX_NOT_STARTED: '0',
  LUCIUS_MAX_ATTEMPTS: '1',
  LUCIUS_RETENTION_DAYS: '1',
};

interface StepBody {
  readonly stepId: string;
  readonly status: string;
  readonly attemptNo: number;
  readonly failure?: { readonly failureClass: string };
}
interface RepairBody {
  readonly kind: string;
  readonly by: string;
  readonly reason: string;
}
interface JobBody {
  readonly jobId: string;
  readonly status: string;
  readonly orchestrationRestarts: number;
  readonly repairs: readonly RepairBody[];
  readonly failure?: { readonly failureClass: string };
  readonly steps: readonly StepBody[];
}

let up: Up;
let tokens: DevTokens;
let settings: Settings;
let ledger: JobLedger;
let ledgerTable: TableClient;

beforeAll(async () => {
  up = await startUp(['--workers', 'OCR=slow,SIS=silent'], ENV);
  tokens = await DevTokens.open(up.dataDir);
  const connection = devTableConnectionString(`http://127.0.0.1:${up.ports.azurite}/devstoreaccount1`);
  settings = parseSettings({
    ...ENV,
    LUCIUS_STORAGE_BACKEND: 'ledger',
    LUCIUS_TABLE_CONNECTION: connection,
  });
  ledger = createJobLedger(settings.storage);
  ledgerTable = TableClient.fromConnectionString(connection, settings.storage.tables.ledger, {
    allowInsecureConnection: true,
  });
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

function envelope(
  tenantId: string,
  requestType = 'OCR->EMBEDDING',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const steps: Record<string, unknown> =
    requestType === 'SIS'
      ? { sis: { analysis: ['summary'] } }
      : { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } };
  return {
    tenant_id: tenantId,
    request_type: requestType,
    input_ref: 'blob://in/doc.pdf',
    output_ref: 'blob://out/doc',
    payload: { steps },
    schema_version: 'v1',
    idempotency_key: `k-${uniqueToken()}`,
    ...extra,
  };
}

/** The Lucius API (`/api<path>`, function key added) as the tenant's caller, with a dev token. */
async function api(tenantId: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${up.apiUrl}${path}${path.includes('?') ? '&' : '?'}code=${KEY}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), ...(await tokens.headers(tenantId)) },
  });
}

async function submit(
  tenantId: string,
  requestType?: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await api(tenantId, '/v1/commands', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(envelope(tenantId, requestType, extra)),
  });
  const body = (await response.json()) as { jobId: string };
  if (response.status !== 202)
    throw new Error(`admission answered ${response.status}: ${JSON.stringify(body)}`);
  return body.jobId;
}

async function jobView(tenantId: string, jobId: string): Promise<JobBody> {
  const response = await api(tenantId, `/v1/jobs/${jobId}?tenant_id=${tenantId}`);
  if (response.status !== 200) throw new Error(`GET job answered ${response.status}`);
  return (await response.json()) as JobBody;
}

function until(
  tenantId: string,
  jobId: string,
  what: string,
  test: (job: JobBody) => boolean,
): Promise<JobBody> {
  return eventually(what, async () => {
    const job = await jobView(tenantId, jobId);
    return test(job) ? job : undefined;
  });
}

/**
 * Waits until the tenant holds no in-flight slot: the slot is released by a follow-up write just
 * after the job's terminal write, so a read right after the job shows its end may still see it; a
 * slot that is never released fails the wait.
 */
async function slotsReleased(tenantId: string): Promise<void> {
  await eventually(`tenant ${tenantId} holding no in-flight slot`, async () =>
    (await ledger.inflightCount(tenantId)) === 0 ? true : undefined,
  );
  expect(await ledger.inflightCount(tenantId)).toBe(0);
}

/** The Durable HTTP API, with the durabletask_extension system key it requires. */
function durable(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${up.baseUrl}/runtime/webhooks/durabletask/${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), 'x-functions-key': SYSTEM },
  });
}

async function instanceStatus(jobId: string): Promise<string | undefined> {
  const response = await durable(`instances/${jobId}`);
  if (response.status === 404) return undefined;
  return ((await response.json()) as { runtimeStatus: string }).runtimeStatus;
}

/** Runs a sweeper now, as an operator would (the admin API answers 202 and runs it in the background). */
async function runSweeper(name: 'driftSweeper' | 'leaseSweeper'): Promise<void> {
  const response = await fetch(`${up.baseUrl}/admin/functions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': MASTER },
    body: '{}',
  });
  if (response.status !== 202) throw new Error(`admin run of ${name} answered ${response.status}`);
}

/** Runs the sweeper until `probe` answers (bounded); a sweep that finds nothing yet is run again. */
async function sweepUntil<T>(
  name: 'driftSweeper' | 'leaseSweeper',
  what: string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
    await runSweeper(name);
    for (let poll = 0; poll < 10; poll += 1) {
      await sleep(150);
      const value = await probe();
      if (value !== undefined) return value;
    }
  }
  throw new Error(`${what} did not happen after ${SWEEP_ROUNDS} ${name} runs:\n${up.output().slice(-4000)}`);
}

async function repaired(tenantId: string, jobId: string, kind: string): Promise<JobBody | undefined> {
  const job = await jobView(tenantId, jobId);
  return job.repairs.some((r) => r.kind === kind) ? job : undefined;
}

/** A job admitted with the OCR step running on the slow worker. */
async function midStep(tenantId: string): Promise<string> {
  const jobId = await submit(tenantId);
  await until(tenantId, jobId, 'the OCR step running', (job) => job.steps[0]?.status === 'IN_PROGRESS');
  return jobId;
}

async function terminate(jobId: string): Promise<void> {
  const response = await durable(`instances/${jobId}/terminate?reason=sweeper-e2e`, { method: 'POST' });
  expect(response.status).toBe(202);
  await eventually('the instance terminated', async () =>
    (await instanceStatus(jobId)) === 'Terminated' ? true : undefined,
  );
}

describe('sweepers on devhost', () => {
  it('restarts an orchestration terminated mid-step, and the job succeeds with an exact in-flight count', async () => {
    const tenant = `t-${uniqueToken()}`;
    const jobId = await midStep(tenant);
    await terminate(jobId);

    const restarted = await sweepUntil('driftSweeper', 'the restart', () =>
      repaired(tenant, jobId, 'ORCHESTRATION_RESTARTED'),
    );
    expect(restarted.repairs.at(-1)).toMatchObject({ kind: 'ORCHESTRATION_RESTARTED', by: 'driftSweeper' });
    const done = await until(tenant, jobId, 'the job succeeding', (job) => job.status === 'SUCCEEDED');
    expect(done.orchestrationRestarts).toBe(1);
    expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // The new run adopted the OCR attempt in flight instead of dispatching it again: one attempt
    // per step, none applied twice.
    expect(done.steps.map((s) => s.attemptNo)).toEqual([1, 1]);
    await slotsReleased(tenant);
    await eventually('the sweep logged', async () =>
      /"event":"sweep\.completed","kind":"drift"/.test(up.output()) ? true : undefined,
    );
  }, 120_000);

  it('restarts an orchestration whose instance was purged', async () => {
    const tenant = `t-${uniqueToken()}`;
    const jobId = await midStep(tenant);
    await terminate(jobId);
    expect((await durable(`instances/${jobId}`, { method: 'DELETE' })).status).toBe(200);
    expect(await instanceStatus(jobId)).toBeUndefined();

    await sweepUntil('driftSweeper', 'the restart', () => repaired(tenant, jobId, 'ORCHESTRATION_RESTARTED'));
    const done = await until(tenant, jobId, 'the job succeeding', (job) => job.status === 'SUCCEEDED');
    expect(done.repairs.map((r) => r.reason).join(' ')).toContain('missing');
    await slotsReleased(tenant);
  }, 120_000);

  it('starts the orchestration of a job recorded without one, then corrects a wrong in-flight counter', async () => {
    const tenant = `t-${uniqueToken()}`;
    const now = new Date();
    const plan = planAdmission({
      envelope: envelope(tenant) as unknown as CommandEnvelope,
      jobId: randomUUID(),
      now,
      registry: loadProtocolRegistry(),
      validateStepPayload,
      laneCount: settings.admission.laneCount,
      jobTimeoutSeconds: settings.sweep.jobTimeoutSeconds,
    });
    await ledger.admit(plan, { ...settings.admission, orphanGraceSeconds: 1 }, now);
    const jobId = plan.job.jobId;
    expect(await instanceStatus(jobId)).toBeUndefined();

    await sweepUntil('driftSweeper', 'the start', () => repaired(tenant, jobId, 'ORCHESTRATION_STARTED'));
    await until(tenant, jobId, 'the job succeeding', (job) => job.status === 'SUCCEEDED');
    await slotsReleased(tenant);

    const counter = (await ledger.listInflightCounters()).find((c) => c.tenantId === tenant);
    if (counter === undefined) throw new Error('the tenant has no in-flight counter');
    expect(await ledger.correctInflight(tenant, counter.version, 7)).toBe(true);
    await sweepUntil('driftSweeper', 'the counter correction', async () =>
      (await ledger.inflightCount(tenant)) === 0 ? true : undefined,
    );
    // The correction's log line reaches the host's output just after the counter write.
    await eventually('the correction logged', async () =>
      up.output().includes('"kind":"INFLIGHT_CORRECTED"') ? true : undefined,
    );
  }, 120_000);

  it('makes an orchestration waiting on a far timer re-check a step deadline that passed', async () => {
    const tenant = `t-${uniqueToken()}`;
    const jobId = await submit(tenant, 'SIS');
    await until(
      tenant,
      jobId,
      'the SIS directive published',
      (job) => job.steps[0]?.status === 'AWAITING_ACK',
    );
    // The ACK timer is 600 s away; the ledger says the deadline passed (as after a lost timer).
    const rows = ledgerTable.listEntities({
      queryOptions: { filter: `jobId eq '${jobId}' and stepId eq 'sis'` },
    });
    let edited = 0;
    for await (const row of rows) {
      await ledgerTable.updateEntity(
        {
          partitionKey: row.partitionKey as string,
          rowKey: row.rowKey as string,
          ackDeadline: new Date(Date.now() - 10_000).toISOString(),
        },
        'Merge',
      );
      edited += 1;
    }
    expect(edited).toBe(1);

    const deleting = await api(tenant, `/v1/jobs/${jobId}?tenant_id=${tenant}`, { method: 'DELETE' });
    expect(deleting.status).toBe(409);
    expect(deleting.headers.get('content-type')).toContain('application/problem+json');

    await sweepUntil('leaseSweeper', 'the recheck', () => repaired(tenant, jobId, 'TIMER_RECHECKED'));
    const failed = await until(tenant, jobId, 'the attempt timing out', (job) => job.status === 'FAILED');
    expect(failed.steps[0]?.failure?.failureClass).toBe('ACK_TIMEOUT');
    await slotsReleased(tenant);
  }, 120_000);

  it('fails a job that runs past its own deadline with TIMEOUT, and frees its slot', async () => {
    const tenant = `t-${uniqueToken()}`;
    // The SIS worker never answers; the step's ACK timer is far away, the job's deadline is not.
    const jobId = await submit(tenant, 'SIS', { timeout_seconds: 2 });
    // The job row ends first (a read shows FAILED at once), then its unfinished steps.
    const failed = await until(
      tenant,
      jobId,
      'the job deadline',
      (job) => job.status === 'FAILED' && job.steps[0]?.status === 'CANCELLED',
    );
    expect(failed.failure?.failureClass).toBe('TIMEOUT');
    await slotsReleased(tenant);
    // The orchestration ends once the worker has been told (a cancel directive).
    await eventually('the orchestration ending', async () =>
      (await instanceStatus(jobId)) === 'Completed' ? true : undefined,
    );
  }, 120_000);

  it('purges a finished job older than the retention window with its history, and keeps recent and running jobs', async () => {
    const tenant = `t-${uniqueToken()}`;
    const longAgo = new Date(Date.now() - 3 * 86_400_000);
    const plan = planAdmission({
      envelope: envelope(tenant) as unknown as CommandEnvelope,
      jobId: randomUUID(),
      now: longAgo,
      registry: loadProtocolRegistry(),
      validateStepPayload,
      laneCount: settings.admission.laneCount,
      jobTimeoutSeconds: settings.sweep.jobTimeoutSeconds,
    });
    const oldJob = plan.job.jobId;
    await ledger.admit(plan, { ...settings.admission, orphanGraceSeconds: 1 }, longAgo);
    await ledger.applyJobEvent(
      oldJob,
      { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'long ago' } },
      new Date(longAgo.getTime() + 1000),
    );
    // Its orchestration ran (and ended): its history is there to purge.
    const started = await durable(`orchestrators/jobOrchestrator/${oldJob}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId: oldJob, tenantId: tenant, requestType: 'OCR->EMBEDDING' }),
    });
    expect(started.status).toBe(202);
    await eventually('the old orchestration ending', async () => {
      const status = await instanceStatus(oldJob);
      return status === 'Completed' || status === 'Failed' ? status : undefined;
    });
    const recent = await submit(tenant);
    await until(tenant, recent, 'the recent job succeeding', (job) => job.status === 'SUCCEEDED');
    const running = await midStep(tenant);

    await sweepUntil('driftSweeper', 'the retention purge', async () =>
      (await ledger.getJob(oldJob)) === undefined ? true : undefined,
    );
    expect(await instanceStatus(oldJob)).toBeUndefined();
    expect((await jobView(tenant, recent)).status).toBe('SUCCEEDED');
    expect(['RUNNING', 'SUCCEEDED']).toContain((await jobView(tenant, running)).status);

    // DELETE removes a finished job (and its history) at once.
    const deleted = await api(tenant, `/v1/jobs/${recent}?tenant_id=${tenant}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await api(tenant, `/v1/jobs/${recent}?tenant_id=${tenant}`)).status).toBe(404);
    expect(await instanceStatus(recent)).toBeUndefined();
  }, 120_000);
});
