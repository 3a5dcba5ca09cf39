/**
 * End to end on devhost, nothing faked: THIS project's app (from its TypeScript sources, transpiled
 * on require, so `npm test` needs no build) with the `ledger` backend on the test Azurite, the real
 * durable engine on a Table store in the same Azurite, the real Durable HTTP API and the Service Bus
 * emulator with Lucius's topology. No worker runs (test/e2e runs the whole loop), so the test sees
 * admission start jobOrchestrator, which records attempt 1 and publishes its directive to the OCR
 * platform's subscription, then waits for the ACK. The app runs in `LUCIUS_AUTH_MODE=dev` with its
 * dev issuer's key in a fresh folder: the API calls carry a dev bearer token for tenant t1.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../devhost/servicebus/emulator';
import { createServiceBusSupport } from '../../../devhost/servicebus/triggers/service-bus-support';
import { luciusEmulatorConfig } from '../../../launcher/lucius-topology';
import { createDurableSupport } from '../../../devhost/durable/durable-support';
import { TableDurableStore } from '../../../devhost/durable/engine';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { readHostConfig } from '../../../devhost/common/host-config';
import { bearer, devToken } from '../../support/dev-token';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTablePrefix } from '../../support/unique';

const PROJECT_DIR = join(__dirname, '..', '..', '..');
const env = appProcessEnv();
const prefix = uniqueTablePrefix('Lucius');
const devDataDir = mkdtempSync(join(tmpdir(), 'lucius-app-auth-'));
const settings: Record<string, string> = {
  LUCIUS_AUTH_MODE: 'dev',
  LUCIUS_AUTH_DEV_DATA_DIR: devDataDir,
  LUCIUS_STORAGE_BACKEND: 'ledger',
  LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
  LUCIUS_TABLE_LEDGER: `${prefix}Ledger`,
  LUCIUS_TASK_HUB: `${prefix}Hub`,
};
const saved = Object.fromEntries(
  ['WEBSITE_HOSTNAME', 'ServiceBusConnection', ...Object.keys(settings)].map((name) => [name, env[name]]),
);
let host: DevHost | undefined;
let serviceBus: ServiceBusEmulator | undefined;
/** `authorization` with a dev token for tenant t1 (submit, read, operate). */
let auth: { authorization: string };

beforeAll(async () => {
  Object.assign(env, settings);
  serviceBus = await startServiceBusEmulator({ config: luciusEmulatorConfig(env), port: 0 });
  env.ServiceBusConnection = serviceBus.connectionString;
  const config = readHostConfig(PROJECT_DIR, env);
  const store = new TableDurableStore({
    connection: { connectionString: testTableConnectionString() },
    tablePrefix: `${prefix}Hub`,
  });
  host = await startHost({
    appDir: PROJECT_DIR,
    entry: 'src/index.ts',
    port: 0,
    log: () => undefined,
    parts: [
      createDurableSupport({ config, store, hostUrl: () => running().baseUrl }),
      createServiceBusSupport(),
    ],
  });
  auth = bearer(await devToken(devDataDir, 't1'));
});

afterAll(async () => {
  await host?.stop();
  await serviceBus?.stop();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  rmSync(devDataDir, { recursive: true, force: true });
});

const command = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'blob://in/doc.pdf',
  output_ref: 'blob://out/doc',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
  schema_version: 'v1',
};

/** The Durable HTTP API takes the durabletask_extension system key, as on Azure. */
function systemKeyHeader(): Record<string, string> {
  return { 'x-functions-key': running().keys.systemKey };
}

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

/**
 * Polls the Durable HTTP API until the instance's custom status says it waits for the ACK of its
 * first attempt (bounded by count, never asserted on time).
 */
async function awaitingAckInstance(instanceId: string): Promise<Record<string, unknown>> {
  let last: unknown;
  for (let poll = 0; poll < 400; poll += 1) {
    const response = await fetch(
      `${running().baseUrl}/runtime/webhooks/durabletask/instances/${instanceId}`,
      {
        headers: systemKeyHeader(),
      },
    );
    // 202 while the instance runs, as in the Durable HTTP API.
    if (response.status === 200 || response.status === 202) {
      const status = (await response.json()) as Record<string, unknown>;
      last = status;
      if ((status.customStatus as { state?: string } | null)?.state === 'AWAITING_ACK') return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`instance ${instanceId} did not reach AWAITING_ACK: ${JSON.stringify(last)}`);
}

describe('devhost hosting the Lucius app', () => {
  it('registers the Lucius HTTP functions next to the durable ones', () => {
    expect(running().functions.map((fn) => fn.name)).toEqual([
      'submitCommand',
      'orchestrate',
      'getJob',
      'getJobSteps',
      'listJobs',
      'cancelJob',
      'redriveJob',
      'deleteJob',
      ...Array.from({ length: 16 }, (_, lane) => `replies-p${lane}`),
      'ackReply',
      'resultReply',
      'heartbeatReply',
      'startJob',
      'acquireSlot',
      'dispatchAttempt',
      'dispatchStep',
      'settleAttempt',
      'releaseSlot',
      'recordAttempt',
      'readAttempt',
      'publishDirective',
      'recordPublishFailure',
      'resolveTimeout',
      'finishJob',
      'cancelJobRun',
      'expireJob',
      'jobOrchestrator',
      'health',
      'healthz',
      'devJwks',
      'driftSweeper',
      'leaseSweeper',
    ]);
  });

  it('answers GET /api/health anonymously and /api/healthz with the ledger on Azurite', async () => {
    expect((await fetch(`${running().apiUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${running().apiUrl}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ledger: { backend: 'ledger', status: 'ok' } });
  });

  it('needs the function key, then a bearer token, for POST /api/v1/commands', async () => {
    const response = await fetch(`${running().apiUrl}/v1/commands`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    const keyOnly = await fetch(`${running().apiUrl}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': running().keys.functionKey },
      body: JSON.stringify(command),
    });
    expect(keyOnly.status).toBe(401);
    expect(await keyOnly.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('admits a command over real HTTP and starts jobOrchestrator, whose status the Durable HTTP API shows', async () => {
    const response = await fetch(`${running().apiUrl}/v1/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-functions-key': running().keys.functionKey,
        ...auth,
      },
      body: JSON.stringify(command),
    });
    const text = await response.text();
    expect({ status: response.status, text }).toMatchObject({ status: 202 });
    const body = JSON.parse(text) as { jobId: string; status: string };
    expect(body.status).toBe('ACCEPTED');

    const instance = await awaitingAckInstance(body.jobId);
    expect(instance).toMatchObject({
      name: 'jobOrchestrator',
      instanceId: body.jobId,
      runtimeStatus: 'Running',
      input: { jobId: body.jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING' },
      customStatus: { stepId: 'ocr', stepIndex: 0, attemptNo: 1, state: 'AWAITING_ACK' },
    });

    const job = await fetch(
      `${running().apiUrl}/v1/jobs/${body.jobId}?tenant_id=t1&code=${running().keys.functionKey}`,
      { headers: auth },
    );
    expect(job.status).toBe(200);
    const view = (await job.json()) as {
      status: string;
      lane: number;
      steps: Array<Record<string, unknown>>;
    };
    expect(view.status).toBe('RUNNING');
    expect(view.steps.map((step) => [step.stepId, step.status, step.attemptNo])).toEqual([
      ['ocr', 'AWAITING_ACK', 1],
      ['embedding', 'PENDING', 0],
    ]);

    // The directive is on the OCR platform's subscription of the job's lane.
    const client = new ServiceBusClient(env.ServiceBusConnection as string);
    try {
      const receiver = client.createReceiver(`global-bus-p${view.lane}`, 'distributed-ocr', {
        receiveMode: 'receiveAndDelete',
      });
      const messages = await receiver.receiveMessages(10, { maxWaitTimeInMs: 2_000 });
      await receiver.close();
      const directive = messages
        .map((m) => m.body as Record<string, unknown>)
        .find((b) => b.job_id === body.jobId);
      expect(directive).toMatchObject({
        kind: 'directive',
        step_id: 'ocr',
        attempt_no: 1,
        lease_id: view.steps[0]?.leaseId,
        reply_to: `global-bus-replies-p${view.lane}`,
      });
    } finally {
      await client.close();
    }
  });

  it('takes nothing from a reply event raised through the Durable HTTP API: the ledger decides', async () => {
    const admitted = await fetch(`${running().apiUrl}/v1/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-functions-key': running().keys.functionKey,
        ...auth,
      },
      body: JSON.stringify({ ...command, idempotency_key: 'forged-1' }),
    });
    const { jobId } = (await admitted.json()) as { jobId: string };
    await awaitingAckInstance(jobId);
    const jobUrl = `${running().apiUrl}/v1/jobs/${jobId}?tenant_id=t1&code=${running().keys.functionKey}`;
    const before = (await (await fetch(jobUrl, { headers: auth })).json()) as {
      steps: Array<Record<string, unknown>>;
    };
    const leaseId = before.steps[0]?.leaseId as string;

    const instanceUrl = `${running().baseUrl}/runtime/webhooks/durabletask/instances/${jobId}`;
    const forged = await fetch(`${instanceUrl}/raiseEvent/${encodeURIComponent(`reply:ocr:1:${leaseId}`)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...systemKeyHeader() },
      body: JSON.stringify({
        kind: 'result',
        attempt: {
          stepId: 'ocr',
          status: 'SUCCEEDED',
          attemptNo: 1,
          leaseId,
          outputRef: 'blob://attacker/evil',
        },
      }),
    });
    expect(forged.status).toBe(202);

    // The orchestration took the event and read the attempt from the ledger (settleAttempt, which
    // dispatches nothing since the step did not succeed; bounded polling).
    let history: Array<Record<string, unknown>> = [];
    for (let poll = 0; poll < 400; poll += 1) {
      const status = (await (
        await fetch(`${instanceUrl}?showHistory=true`, { headers: systemKeyHeader() })
      ).json()) as {
        historyEvents?: Array<Record<string, unknown>>;
      };
      history = status.historyEvents ?? [];
      const raised = history.findIndex((e) => e.EventType === 'EventRaised');
      if (raised >= 0 && history.slice(raised).some((e) => e.FunctionName === 'settleAttempt')) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(history.some((e) => e.FunctionName === 'settleAttempt')).toBe(true);

    const instance = await awaitingAckInstance(jobId);
    expect(instance).toMatchObject({ runtimeStatus: 'Running', customStatus: { attemptNo: 1 } });
    const after = (await (await fetch(jobUrl, { headers: auth })).json()) as {
      status: string;
      outputRef?: string;
      steps: Array<Record<string, unknown>>;
    };
    expect(after.status).toBe('RUNNING');
    expect(after.steps[0]).toMatchObject({ stepId: 'ocr', status: 'AWAITING_ACK', attemptNo: 1 });
    expect(after.steps[0]?.outputRef).toBeUndefined();
    expect(JSON.stringify(after)).not.toContain('evil');
  });

  it('answers a resent command with the same job and does not start a second orchestration', async () => {
    const send = () =>
      fetch(`${running().apiUrl}/v1/commands`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-functions-key': running().keys.functionKey,
          ...auth,
        },
        body: JSON.stringify({ ...command, idempotency_key: 'resend-1' }),
      });
    const first = (await (await send()).json()) as { jobId: string };
    await awaitingAckInstance(first.jobId);
    const again = await send();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { jobId: string }).jobId).toBe(first.jobId);
    const listed = await fetch(
      `${running().baseUrl}/runtime/webhooks/durabletask/instances?instanceIdPrefix=${first.jobId}`,
      { headers: systemKeyHeader() },
    );
    expect(((await listed.json()) as unknown[]).length).toBe(1);
  });
});
