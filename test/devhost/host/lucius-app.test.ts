/**
 * End to end on devhost, nothing faked: THIS project's app (from its TypeScript sources, transpiled
 * on require, so `npm test` needs no build) with the `ledger` backend on the test Azurite, the real
 * durable engine on a Table store in the same Azurite, and the real Durable HTTP API. A probe
 * `jobOrchestrator` (test/devhost/fixtures/lucius-probe) stands in for the orchestrator of a later
 * issue, so the test sees admission start a real orchestration that runs to completion.
 */
import { join } from 'node:path';
import { createDurableSupport } from '../../../devhost/durable/durable-support';
import { TableDurableStore } from '../../../devhost/durable/engine';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { readHostConfig } from '../../../devhost/host/host-config';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTablePrefix } from '../../support/unique';

const PROJECT_DIR = join(__dirname, '..', '..', '..');
const env = appProcessEnv();
const prefix = uniqueTablePrefix('Lucius');
const settings: Record<string, string> = {
  LUCIUS_STORAGE_BACKEND: 'ledger',
  LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
  LUCIUS_TABLE_LEDGER: `${prefix}Ledger`,
  LUCIUS_TASK_HUB: `${prefix}Hub`,
};
const saved = Object.fromEntries(
  ['WEBSITE_HOSTNAME', ...Object.keys(settings)].map((name) => [name, env[name]]),
);
let host: DevHost;

beforeAll(async () => {
  Object.assign(env, settings);
  const config = readHostConfig(PROJECT_DIR, env);
  const store = new TableDurableStore({
    connection: { connectionString: testTableConnectionString() },
    tablePrefix: `${prefix}Hub`,
  });
  host = await startHost({
    appDir: PROJECT_DIR,
    entry: 'test/devhost/fixtures/lucius-probe/index.ts',
    port: 0,
    log: () => undefined,
    durable: createDurableSupport({ config, store, hostUrl: () => host.baseUrl }),
  });
});

afterAll(async () => {
  await host.stop();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
});

const command = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'blob://in/doc.pdf',
  output_ref: 'blob://out/doc',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
  schema_version: 'v1',
};

/** Polls the Durable HTTP API until the instance finishes (bounded by count, never asserted on time). */
async function finishedInstance(instanceId: string): Promise<Record<string, unknown>> {
  for (let poll = 0; poll < 200; poll += 1) {
    const response = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${instanceId}`);
    if (response.status === 200) return (await response.json()) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`instance ${instanceId} did not finish`);
}

describe('devhost hosting the Lucius app', () => {
  it('registers the Lucius HTTP functions next to the durable ones', () => {
    expect(host.functions.map((fn) => fn.name)).toEqual([
      'submitCommand',
      'orchestrate',
      'getJob',
      'getJobSteps',
      'listJobs',
      'health',
      'healthz',
      'probeDescribeJob',
      'jobOrchestrator',
    ]);
  });

  it('answers GET /api/health anonymously and /api/healthz with the ledger on Azurite', async () => {
    expect((await fetch(`${host.apiUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${host.apiUrl}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ledger: { backend: 'ledger', status: 'ok' } });
  });

  it('needs the function key for POST /api/v1/commands', async () => {
    const response = await fetch(`${host.apiUrl}/v1/commands`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it('admits a command over real HTTP and starts a real orchestration whose status the Durable HTTP API shows', async () => {
    const response = await fetch(`${host.apiUrl}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
      body: JSON.stringify(command),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { jobId: string; status: string };
    expect(body.status).toBe('ACCEPTED');

    const instance = await finishedInstance(body.jobId);
    expect(instance).toMatchObject({
      name: 'jobOrchestrator',
      instanceId: body.jobId,
      runtimeStatus: 'Completed',
      output: {
        input: { jobId: body.jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING' },
        described: { seenJobId: body.jobId },
      },
    });

    const job = await fetch(
      `${host.apiUrl}/v1/jobs/${body.jobId}?tenant_id=t1&code=${host.keys.functionKey}`,
    );
    expect(job.status).toBe(200);
    expect(await job.json()).toMatchObject({
      jobId: body.jobId,
      steps: [{ stepId: 'ocr' }, { stepId: 'embedding' }],
    });
  });

  it('answers a resent command with the same job and does not start a second orchestration', async () => {
    const send = () =>
      fetch(`${host.apiUrl}/v1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
        body: JSON.stringify({ ...command, idempotency_key: 'resend-1' }),
      });
    const first = (await (await send()).json()) as { jobId: string };
    await finishedInstance(first.jobId);
    const again = await send();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { jobId: string }).jobId).toBe(first.jobId);
    const listed = await fetch(
      `${host.baseUrl}/runtime/webhooks/durabletask/instances?instanceIdPrefix=${first.jobId}`,
    );
    expect(((await listed.json()) as unknown[]).length).toBe(1);
  });
});
