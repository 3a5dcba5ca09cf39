/**
 * `npm start` end to end, nothing faked: the launcher's `up` command runs as a real child process
 * (from its TypeScript sources through test/launcher/fixtures/launcher-cli.js, so no build is needed; the app
 * is this project's `src/index.ts`) with its own Azurite and Service Bus emulator, its data in a
 * fresh temporary folder and every port picked free. The test reads the URL and the connection
 * string `up` prints, uses Lucius over HTTP and the emulator with the SDK as a developer would, then
 * stops it with SIGINT and checks that nothing is left listening. The demo workers run, as they do
 * for `npm start`, so a command goes all the way to SUCCEEDED, as in the README's quick start, with
 * the bearer token of the `npx lucius token` line `up` prints (the app runs in `LUCIUS_AUTH_MODE=dev`).
 *
 * Waits poll with a bounded number of short sleeps; nothing asserts on elapsed time.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_KEY_FILE } from '../../../src/auth/dev-issuer';
import { runLucius } from '../../cli/run-lucius';
import { eventually, sleep, startUp, type Up } from '../../support/devhost-up';
import { bearer } from '../../support/dev-token';
import { uniqueToken } from '../../support/unique';

const KEY = 'test-key';
const POLL_MS = 50;
/** Polls while it stops (Azurite gets 5 s to end before it is killed). */
const STOP_POLLS = 200;
/** Polls for a port to close once `up` exited (it waits for its children, so they should be gone). */
const CLOSE_POLLS = 40;

let up: Up | undefined;
/** The token of the printed `npx lucius token` line (tenant t1; submit, read, operate). */
let token: string | undefined;

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

/** The printed `TOKEN=$(npx lucius token ...)` line, run as a developer would (memoized). */
async function printedToken(): Promise<string> {
  if (token !== undefined) return token;
  const line = /^\s+TOKEN=\$\(npx lucius (token [^)]+)\)$/m.exec(running().output())?.[1];
  if (line === undefined) throw new Error(`up printed no token command:\n${running().output()}`);
  const minted = await runLucius(line.split(' '), {});
  if (minted.code !== 0) throw new Error(`lucius token failed: ${minted.stderr}`);
  token = minted.stdout.trim();
  return token;
}

beforeAll(async () => {
  up = await startUp([], { DEVHOST_FUNCTION_KEY: KEY });
}, 120_000);

afterAll(async () => {
  // Whatever happened, no child outlives the test (SIGINT first, so `up` stops Azurite too).
  await up?.stop();
});

const command = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'blob://in/doc.pdf',
  output_ref: 'blob://out/doc',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
  schema_version: 'v1',
};

describe('npm start (launcher up)', () => {
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

  it('prints how to get a token and the dev JWKS; the API needs a token, the health probes do not', async () => {
    const { apiUrl, dataDir } = running();
    const output = running().output();
    expect(output).toContain('Authentication:        LUCIUS_AUTH_MODE=dev');
    expect(output).toContain(
      `TOKEN=$(npx lucius token --tenant t1 --roles Lucius.Submit,Lucius.Read,Lucius.Operate --data ${dataDir})`,
    );
    expect(output).toContain(
      `curl -s -H "Authorization: Bearer $TOKEN" '${apiUrl}/v1/jobs?tenant_id=t1&code=${KEY}'`,
    );
    expect(output).toContain(`Dev JWKS:              ${apiUrl}/dev/jwks.json`);

    const anonymous = await fetch(`${apiUrl}/v1/jobs?tenant_id=t1&code=${KEY}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await anonymous.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${apiUrl}/health`)).status).toBe(200);

    const listed = await fetch(`${apiUrl}/v1/jobs?tenant_id=t1&code=${KEY}`, {
      headers: bearer(await printedToken()),
    });
    expect(listed.status).toBe(200);

    // The dev issuer's public key, served anonymously: the one whose private part is in the data folder.
    const jwks = await fetch(`${apiUrl}/dev/jwks.json`);
    expect(jwks.status).toBe(200);
    const { kid } = JSON.parse(readFileSync(join(dataDir, DEV_KEY_FILE), 'utf8')) as { kid: string };
    const keys = ((await jwks.json()) as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.map((key) => key.kid)).toEqual([kid]);
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('runs an OCR->EMBEDDING command to SUCCEEDED with the demo workers, as the quick start shows', async () => {
    const { apiUrl, baseUrl } = running();
    const auth = bearer(await printedToken());
    const response = await fetch(`${apiUrl}/v1/orchestrate?code=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(command),
    });
    const admitted = (await response.json()) as { jobId: string; status: string };
    expect({ status: response.status, job: admitted.status }).toEqual({ status: 202, job: 'ACCEPTED' });
    const job = await eventually('the job succeeding', async () => {
      const view = (await (
        await fetch(`${apiUrl}/v1/jobs/${admitted.jobId}?tenant_id=t1&code=${KEY}`, { headers: auth })
      ).json()) as { status: string; steps: Array<{ stepId: string; status: string; attemptNo: number }> };
      return view.status === 'SUCCEEDED' ? view : undefined;
    });
    expect(job.steps.map((s) => [s.stepId, s.status, s.attemptNo])).toEqual([
      ['ocr', 'SUCCEEDED', 1],
      ['embedding', 'SUCCEEDED', 1],
    ]);
    const instance = await eventually('the orchestration completing', async () => {
      const status = (await (
        await fetch(`${baseUrl}/runtime/webhooks/durabletask/instances/${admitted.jobId}?code=${KEY}`)
      ).json()) as { runtimeStatus: string; name: string };
      return status.runtimeStatus === 'Completed' ? status : undefined;
    });
    expect(instance.name).toBe('jobOrchestrator');
  });

  it('serves the Durable HTTP API with the key (the master key works too), 401 problem+json without', async () => {
    const instances = `${running().baseUrl}/runtime/webhooks/durabletask/instances`;
    const response = await fetch(`${instances}?code=${KEY}`);
    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);

    const refused = await fetch(instances);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('prints the system key, a curl line and the lucius CLI environment, also written to lucius.env', async () => {
    const output = running().output();
    const durableApi = `http://127.0.0.1:${running().ports.host}/runtime/webhooks/durabletask`;
    const systemKey = /System key: +(\S+)/.exec(output)?.[1];
    expect(systemKey).toBeDefined();
    expect(output).toContain(`/runtime/webhooks/durabletask/instances?code=${systemKey}`);
    expect(output).toMatch(
      new RegExp(
        `lucius CLI: +export LUCIUS_STORAGE_BACKEND=ledger LUCIUS_TABLE_CONNECTION=\\S+ ServiceBusConnection=\\S+ LUCIUS_DURABLE_API_URL=${durableApi} LUCIUS_DURABLE_API_KEY=${systemKey}`,
      ),
    );
    const envFile = /\(also in (\S+): set -a/.exec(output)?.[1] as string;
    const written = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [
          line.slice(0, line.indexOf('=')),
          line.slice(line.indexOf('=') + 1).replace(/^'|'$/g, ''),
        ]),
    );
    expect(written).toMatchObject({
      LUCIUS_STORAGE_BACKEND: 'ledger',
      ServiceBusConnection: running().serviceBusConnection,
      LUCIUS_DURABLE_API_URL: durableApi,
      LUCIUS_DURABLE_API_KEY: systemKey,
      LUCIUS_AUTH_MODE: 'dev',
      LUCIUS_AUTH_DEV_DATA_DIR: running().dataDir,
    });
    const status = await fetch(
      `${written.LUCIUS_DURABLE_API_URL}/instances?code=${written.LUCIUS_DURABLE_API_KEY}`,
    );
    expect(status.status).toBe(200);
  });

  it('routes directives by step type to the demo workers over the printed connection string', async () => {
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
      // The OCR worker takes it from its subscription and dead-letters it: it is no directive.
      const receiver = client.createReceiver('global-bus-p3', 'distributed-ocr', {
        subQueueType: 'deadLetter',
        receiveMode: 'receiveAndDelete',
      });
      const received = await eventually('the OCR worker dead-lettering it', async () => {
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1_000 });
        return message;
      });
      await receiver.close();
      expect({ messageId: received.messageId, reason: received.deadLetterReason }).toEqual({
        messageId,
        reason: 'invalid_directive',
      });
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
