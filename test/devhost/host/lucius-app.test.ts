/**
 * devhost hosting THIS project's app from its TypeScript sources (src/index.ts, transpiled on
 * require, so `npm test` needs no build), with the memory ledger. The durable side is an in-test
 * fake (the real engine and Durable HTTP API are built elsewhere): it supplies client binding data
 * pointing at devhost's own /runtime/webhooks/durabletask/ and accepts start requests there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { DurableEngine } from '../../../devhost/durable/durable-api';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost, type DurableSupport } from '../../../devhost/host/host';

const PROJECT_DIR = join(__dirname, '..', '..', '..');
const env = appProcessEnv();
const saved = {
  backend: env.LUCIUS_STORAGE_BACKEND,
  hostname: env.WEBSITE_HOSTNAME,
  hub: env.LUCIUS_TASK_HUB,
};
const started: { orchestrator: string; instanceId: string; input: unknown }[] = [];
let host: DevHost;

function unexpected(): never {
  throw new Error('not used by this test');
}

function fakeDurable(baseUrl: () => string): DurableSupport {
  const engine: DurableEngine = {
    registerOrchestrator: () => undefined,
    registerActivity: () => undefined,
    run: async () => undefined,
    stop: async () => undefined,
    start: unexpected,
    status: unexpected,
    query: unexpected,
    raiseEvent: unexpected,
    terminate: unexpected,
    suspend: unexpected,
    resume: unexpected,
    purge: unexpected,
    purgeMany: unexpected,
  };
  const httpHandler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const found = /\/orchestrators\/([^/?]+)\/([^/?]+)/.exec(req.url ?? '');
    if (req.method !== 'POST' || found === null) return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const instanceId = decodeURIComponent(found[2] as string);
    started.push({
      orchestrator: decodeURIComponent(found[1] as string),
      instanceId,
      input: JSON.parse(text),
    });
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: instanceId }));
    return true;
  };
  return {
    engine,
    httpHandler,
    clientBindingData: () => ({
      taskHubName: 'FakeHub',
      creationUrls: {},
      managementUrls: {},
      baseUrl: `${baseUrl()}/runtime/webhooks/durabletask`,
      rpcBaseUrl: `${baseUrl()}/runtime/webhooks/durabletask/`,
      requiredQueryStringParameters: '',
    }),
  };
}

beforeAll(async () => {
  env.LUCIUS_STORAGE_BACKEND = 'memory';
  env.LUCIUS_TASK_HUB = 'LuciusTest';
  host = await startHost({
    appDir: PROJECT_DIR,
    entry: 'src/index.ts',
    port: 0,
    log: () => undefined,
    durable: fakeDurable(() => host.baseUrl),
  });
});

afterAll(async () => {
  await host.stop();
  for (const [name, value] of [
    ['LUCIUS_STORAGE_BACKEND', saved.backend],
    ['WEBSITE_HOSTNAME', saved.hostname],
    ['LUCIUS_TASK_HUB', saved.hub],
  ] as const) {
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

describe('devhost hosting the Lucius app', () => {
  it('registers the Lucius HTTP functions', () => {
    expect(host.functions.map((fn) => fn.name)).toEqual([
      'submitCommand',
      'orchestrate',
      'getJob',
      'getJobSteps',
      'listJobs',
      'health',
      'healthz',
    ]);
  });

  it('answers GET /api/health anonymously', async () => {
    const response = await fetch(`${host.apiUrl}/health`);
    expect(response.status).toBe(200);
  });

  it('needs the function key for POST /api/v1/commands', async () => {
    const response = await fetch(`${host.apiUrl}/v1/commands`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it('admits a command with 202 and starts its orchestration through the durable client', async () => {
    const response = await fetch(`${host.apiUrl}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
      body: JSON.stringify(command),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { jobId: string; status: string };
    expect(body.status).toBe('ACCEPTED');
    expect(started.map((start) => start.instanceId)).toEqual([body.jobId]);
    expect(
      (await fetch(`${host.apiUrl}/v1/jobs/${body.jobId}?tenant_id=t1&code=${host.keys.functionKey}`)).status,
    ).toBe(200);
  });
});
