/**
 * `npm start` end to end, nothing faked: devhost's `up` command runs as a real child process (from
 * its TypeScript sources through test/devhost/fixtures/devhost-cli.js, so no build is needed; the app
 * is this project's `src/index.ts`) with its own Azurite and Service Bus emulator, its data in a
 * fresh temporary folder and every port picked free. The test reads the URL and the connection
 * string `up` prints, uses Lucius over HTTP and the emulator with the SDK as a developer would, then
 * stops it with SIGINT and checks that nothing is left listening.
 *
 * Waits poll with a bounded number of short sleeps; nothing asserts on elapsed time.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueToken } from '../../support/unique';

const CLI = join(__dirname, '..', 'fixtures', 'devhost-cli.js');
const KEY = 'test-key';
const POLL_MS = 50;
/** Polls while `up` starts (Azurite, the emulator, the app). */
const START_POLLS = 400;
/** Polls while it stops (Azurite gets 5 s to end before it is killed). */
const STOP_POLLS = 200;
/** Polls for a port to close once `up` exited (it waits for its children, so they should be gone). */
const CLOSE_POLLS = 40;

interface Up {
  readonly child: ChildProcess;
  /** `http://localhost:<port>/api`, as printed. */
  readonly apiUrl: string;
  /** `http://localhost:<port>` */
  readonly baseUrl: string;
  readonly serviceBusConnection: string;
  readonly ports: { readonly host: number; readonly azurite: number; readonly serviceBus: number };
  /** Everything the child printed so far (for failure messages). */
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const dataDir = mkdtempSync(join(tmpdir(), 'lucius-npm-start-'));
let up: Up | undefined;
let child: ChildProcess | undefined;

/** Starts `up` and resolves once it printed the line that says Lucius is running. */
async function startUp(): Promise<Up> {
  const started = spawn(
    process.execPath,
    [CLI, 'up', '--entry', 'src/index.ts', '--port', '0', '--servicebus-port', '0', '--data', dataDir],
    // No demo workers: the routing check below reads the OCR subscription they would consume.
    {
      env: { ...process.env, DEVHOST_FUNCTION_KEY: KEY, LUCIUS_DEMO_WORKERS: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child = started;
  let output = '';
  started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    started.once('exit', (code, signal) => resolve({ code, signal })),
  );
  for (let poll = 0; poll < START_POLLS; poll += 1) {
    const apiUrl = /^Lucius is running at (http:\/\/localhost:(\d+)\/api)\b/m.exec(output);
    if (apiUrl !== null) {
      const serviceBus = /^Service Bus emulator:\s+(\S+)$/m.exec(output)?.[1];
      const azurite = /^Azurite Table service: http:\/\/127\.0\.0\.1:(\d+)\//m.exec(output)?.[1];
      const serviceBusPort = /Endpoint=sb:\/\/[^:;]+:(\d+);/.exec(serviceBus ?? '')?.[1];
      if (serviceBus === undefined || azurite === undefined || serviceBusPort === undefined) {
        throw new Error(`up printed no emulator connection string or Azurite endpoint:\n${output}`);
      }
      const hostPort = Number(apiUrl[2]);
      return {
        child: started,
        apiUrl: apiUrl[1] as string,
        baseUrl: `http://localhost:${hostPort}`,
        serviceBusConnection: serviceBus,
        ports: { host: hostPort, azurite: Number(azurite), serviceBus: Number(serviceBusPort) },
        output: () => output,
        exited,
      };
    }
    if (started.exitCode !== null || started.signalCode !== null) {
      throw new Error(
        `up exited before Lucius was running (${started.exitCode ?? started.signalCode}):\n${output}`,
      );
    }
    await sleep(POLL_MS);
  }
  throw new Error(`up did not say Lucius is running:\n${output}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Polls until nothing accepts connections on `port` (bounded); says whether it got there. */
async function closed(port: number): Promise<boolean> {
  for (let poll = 0; poll < CLOSE_POLLS; poll += 1) {
    if (!(await accepts(port))) return true;
    await sleep(POLL_MS);
  }
  return false;
}

function running(): Up {
  if (up === undefined) throw new Error('up did not start');
  return up;
}

beforeAll(async () => {
  up = await startUp();
});

afterAll(async () => {
  // Whatever happened, no child outlives the test. SIGINT first: `up` then stops Azurite, its own
  // child, which a SIGKILLed `up` could not do; SIGKILL only if it lingers.
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const command = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'blob://in/doc.pdf',
  output_ref: 'blob://out/doc',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
  schema_version: 'v1',
};

describe('npm start (devhost up)', () => {
  it('prints the ports it actually uses', () => {
    const { ports } = running();
    expect(ports.host).toBeGreaterThan(0);
    expect(ports.serviceBus).toBeGreaterThan(0);
    expect(ports.azurite).toBeGreaterThan(0);
    expect(running().output()).toContain(`Function key: ${KEY}`);
  });

  it('answers GET /api/health, and /api/healthz with the ledger backend', async () => {
    const { apiUrl } = running();
    expect((await fetch(`${apiUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${apiUrl}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ledger: { backend: 'ledger' } });
  });

  it('records an OCR->EMBEDDING command in the ledger', async () => {
    const { apiUrl } = running();
    const response = await fetch(`${apiUrl}/v1/commands?code=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(command),
    });
    // Lucius has no jobOrchestrator yet: the job is recorded, its orchestration cannot start. Once
    // the orchestrator exists this answers 202 with { jobId, status: 'ACCEPTED' }: assert that here
    // instead, and that the instance shows up in the Durable HTTP API.
    expect({ status: response.status, body: await response.json() }).toMatchObject({
      status: 503,
      body: { code: 'orchestration_unavailable' },
    });

    const listed = await fetch(`${apiUrl}/v1/jobs?tenant_id=t1&code=${KEY}`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({
      items: [{ tenantId: 't1', requestType: 'OCR->EMBEDDING', status: 'ACCEPTED' }],
    });
  });

  it('serves the Durable HTTP API', async () => {
    const response = await fetch(`${running().baseUrl}/runtime/webhooks/durabletask/instances`);
    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);
  });

  it('runs the Service Bus emulator with the Lucius topology at the printed connection string', async () => {
    const client = new ServiceBusClient(running().serviceBusConnection);
    try {
      const messageId = `npm-start-${uniqueToken()}`;
      const sender = client.createSender('global-bus-p3');
      await sender.sendMessages({
        messageId,
        body: { hello: 'ocr' },
        applicationProperties: { step_type: 'OCR' },
      });
      await sender.close();
      const receiver = client.createReceiver('global-bus-p3', 'distributed-ocr', {
        receiveMode: 'receiveAndDelete',
      });
      const received = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
      await receiver.close();
      expect(received.map((m) => ({ messageId: m.messageId, body: m.body as unknown }))).toEqual([
        { messageId, body: { hello: 'ocr' } },
      ]);
    } finally {
      await client.close();
    }
  });

  it('stops everything on SIGINT and exits 0', async () => {
    const current = running();
    current.child.kill('SIGINT');
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void current.exited.then((info) => (exit = info));
    for (let poll = 0; poll < STOP_POLLS && exit === undefined; poll += 1) await sleep(POLL_MS);
    expect({ exit, output: exit?.code === 0 ? '' : current.output() }).toEqual({
      exit: { code: 0, signal: null },
      output: '',
    });
    expect(current.output()).toContain('SIGINT: stopping devhost');
    // Azurite (a grandchild), the emulator and the host no longer listen.
    expect({
      azurite: await closed(current.ports.azurite),
      serviceBus: await closed(current.ports.serviceBus),
      host: await closed(current.ports.host),
    }).toEqual({ azurite: true, serviceBus: true, host: true });
  });
});
