/**
 * GET /api/healthz on devhost, nothing faked: this project's app on the durable engine with its
 * Durable HTTP API (its store on the test Azurite) and the Service Bus emulator with Lucius's
 * topology, but with two dependencies broken for real: the ledger's table endpoint is a loopback
 * port where nothing listens (storage down), and the quarantine queue the Service Bus check peeks is
 * not in the emulator's topology. The probe answers 503 within its bound, naming both, the durable
 * task hub still answering. (lucius-app.test.ts sees the 200 with everything up.) The probe is
 * anonymous: the app runs in `LUCIUS_AUTH_MODE=dev` (as `npm start` does) and the test sends no
 * credentials. Nothing asserts on elapsed time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostConfig } from '../../devhost/common/host-config';
import { createDurableSupport } from '../../devhost/durable/durable-support';
import { TableDurableStore } from '../../devhost/durable/engine';
import { appProcessEnv } from '../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../devhost/host/host';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../devhost/servicebus/emulator';
import { createServiceBusSupport } from '../../devhost/servicebus/triggers/service-bus-support';
import { luciusEmulatorConfig } from '../../launcher/lucius-topology';
import { testTableConnectionString } from '../support/table-storage';
import { uniqueTablePrefix } from '../support/unique';

jest.setTimeout(60_000);

const PROJECT_DIR = join(__dirname, '..', '..');
const env = appProcessEnv();
const prefix = uniqueTablePrefix('Health');
const MISSING_QUEUE = 'lucius-quarantine-missing';
const VARIABLES = [
  'ServiceBusConnection',
  'LUCIUS_STORAGE_BACKEND',
  'LUCIUS_TABLE_CONNECTION',
  'LUCIUS_TASK_HUB',
  'LUCIUS_SERVICEBUS_QUARANTINE_QUEUE',
  'LUCIUS_AUTH_MODE',
  'LUCIUS_AUTH_DEV_DATA_DIR',
];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, env[name]]));
let host: DevHost | undefined;
let serviceBus: ServiceBusEmulator | undefined;
const devDataDir = mkdtempSync(join(tmpdir(), 'lucius-health-auth-'));

/** A loopback port nobody listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  env.LUCIUS_STORAGE_BACKEND = 'ledger';
  env.LUCIUS_TASK_HUB = `${prefix}Hub`;
  env.LUCIUS_AUTH_MODE = 'dev';
  env.LUCIUS_AUTH_DEV_DATA_DIR = devDataDir;
  // The emulator gets Lucius's topology with the usual quarantine queue; the app then peeks another.
  serviceBus = await startServiceBusEmulator({ config: luciusEmulatorConfig(env), port: 0 });
  env.ServiceBusConnection = serviceBus.connectionString;
  env.LUCIUS_SERVICEBUS_QUARANTINE_QUEUE = MISSING_QUEUE;
  const deadTables = `http://127.0.0.1:${await closedPort()}/devstoreaccount1`;
  env.LUCIUS_TABLE_CONNECTION = testTableConnectionString().replace(
    /TableEndpoint=[^;]+/,
    `TableEndpoint=${deadTables}`,
  );
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
      createDurableSupport({
        config: readHostConfig(PROJECT_DIR, env),
        store,
        hostUrl: () => running().baseUrl,
      }),
      createServiceBusSupport(),
    ],
  });
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

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

describe('GET /api/healthz on devhost', () => {
  it('answers 503 naming the unreachable ledger and the missing Service Bus queue; the task hub answers', async () => {
    expect(env.LUCIUS_TABLE_CONNECTION).toMatch(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/);
    const response = await fetch(`${running().apiUrl}/healthz`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('retry-after')).not.toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 503,
      code: 'ledger_unavailable',
      failing: ['ledger', 'service_bus'],
      ledger: { backend: 'ledger', status: 'unavailable', latency_ms: expect.any(Number) },
      service_bus: { queue: MISSING_QUEUE, status: 'unavailable', error: 'MessagingEntityNotFound' },
      durable_task_hub: { task_hub: `${prefix}Hub`, status: 'ok', latency_ms: expect.any(Number) },
    });
    expect(body.detail).toMatch(
      /^not ready: ledger .*; service_bus is unavailable \(MessagingEntityNotFound\)$/,
    );
  });
});
