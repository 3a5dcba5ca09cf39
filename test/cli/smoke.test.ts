/**
 * `lucius smoke` as an operator runs it (a child process, from sources) against Lucius on devhost:
 * the launcher's `up` with its own Azurite, Service Bus emulator and demo workers (OCR normal,
 * EMBEDDING failing, SIS silent), reached only over HTTP with the function key and a bearer token
 * (the app runs in `LUCIUS_AUTH_MODE=dev`): minted by smoke itself with --dev-token from `up`'s data
 * folder, or given with --token / LUCIUS_TOKEN. One job succeeds, one fails, one does not finish
 * within --timeout; a missing key, a missing token and a token for another tenant are told apart, as
 * are bad options and an unreachable URL. Nothing asserts on elapsed time.
 */
import { createServer } from 'node:net';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { devToken } from '../support/dev-token';
import { uniqueTenantId } from '../support/unique';
import { runLucius } from './run-lucius';

jest.setTimeout(180_000);

const KEY = 'smoke-key';
let up: Up | undefined;

beforeAll(async () => {
  up = await startUp(['--workers', 'EMBEDDING=failing,SIS=silent'], { DEVHOST_FUNCTION_KEY: KEY });
  // The first readiness answer opens the connections (tables, AMQP): on a loaded machine it can take
  // longer than a check's bound, so the tests start once the app is ready, as an operator would.
  const { apiUrl } = up;
  await eventually('readiness', async () =>
    (await fetch(`${apiUrl}/healthz`)).status === 200 ? true : undefined,
  );
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

function running(): Up {
  if (up === undefined) throw new Error('up did not start');
  return up;
}

function baseUrl(): string {
  return running().baseUrl;
}

/** A token as an operator would hold for a smoke run: submit and read for `tenant`. */
function smokeToken(tenant: string): Promise<string> {
  return devToken(running().dataDir, tenant, { roles: ['Lucius.Submit', 'Lucius.Read'] });
}

function smoke(args: readonly string[], env: Record<string, string> = {}) {
  return runLucius(['smoke', '--url', baseUrl(), '--interval', '100', ...args], env);
}

describe('lucius smoke (on devhost)', () => {
  it('runs a job to SUCCEEDED, printing readiness, each status change and the timings, and exits 0', async () => {
    const result = await smoke(
      ['--tenant', uniqueTenantId(), '--request-type', 'OCR', '--dev-token', '--data', running().dataDir],
      { LUCIUS_FUNCTION_KEY: KEY },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^\s*\+\d+\.\d\ds {2}health ok {2}ledger \d+ ms, service_bus \d+ ms, durable_task_hub \d+ ms$/,
    );
    expect(lines[1]).toMatch(/submit ACCEPTED {2}job [0-9a-f-]{36} on lane \d+$/);
    expect(lines).toContainEqual(expect.stringMatching(/ step ocr SUCCEEDED {2}attempt 1$/));
    expect(lines.at(-2)).toMatch(/ job SUCCEEDED$/);
    expect(lines.at(-1)).toMatch(
      /^SUCCEEDED after \d+\.\d\d s: job [0-9a-f-]{36} ran \d+\.\d\d s; ocr SUCCEEDED in \d+\.\d\d s \(1 attempt\)$/,
    );
  });

  it('prints one JSON document with --json', async () => {
    const tenant = uniqueTenantId();
    const result = await smoke(['--tenant', tenant, '--request-type', 'OCR', '--key', KEY, '--json'], {
      LUCIUS_TOKEN: await smokeToken(tenant),
    });
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(outcome).toMatchObject({
      succeeded: true,
      outcome: 'SUCCEEDED',
      jobId: expect.any(String),
      lane: expect.any(Number),
      jobDurationMs: expect.any(Number),
      steps: [{ stepId: 'ocr', status: 'SUCCEEDED', attempts: 1, durationMs: expect.any(Number) }],
    });
    const events = outcome.events as Array<{ subject: string; status: string }>;
    expect(events[0]).toMatchObject({ subject: 'health', status: 'ok' });
    expect(events.at(-1)).toMatchObject({ subject: 'job', status: 'SUCCEEDED' });
  });

  it('exits 1 naming the failed step, its class and message when the job FAILED', async () => {
    const result = await smoke(['--tenant', uniqueTenantId(), '--key', KEY, '--dev-token'], {
      LUCIUS_AUTH_DEV_DATA_DIR: running().dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ step ocr SUCCEEDED/);
    expect(result.stdout).toMatch(/ job FAILED$/m);
    expect(result.stderr).toMatch(/^lucius smoke: job FAILED: step embedding PERMANENT: .+\n$/);
  });

  it('exits 1 when the job has not finished within --timeout, saying where it waits', async () => {
    const tenant = uniqueTenantId();
    const result = await smoke([
      '--tenant',
      tenant,
      '--request-type',
      'SIS',
      '--key',
      KEY,
      '--timeout',
      '2',
      '--token',
      await smokeToken(tenant),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^lucius smoke: the job did not finish within 2 s \(last seen (ACCEPTED|RUNNING)(, step sis \w+( attempt 1)?)?\); it is left running: cancel it with POST \/api\/v1\/jobs\/[0-9a-f-]{36}\/cancel\?tenant_id=/,
    );
  });

  it('exits 1 with a hint when the function key is missing', async () => {
    const result = await smoke(['--tenant', uniqueTenantId(), '--request-type', 'OCR', '--no-health']);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/health/);
    expect(result.stderr).toMatch(
      /the command was refused: 401.*pass the function key with --key or LUCIUS_FUNCTION_KEY/,
    );
  });

  it('exits 1 with a hint when the bearer token is missing, and when it is for another tenant', async () => {
    const missing = await smoke(['--tenant', uniqueTenantId(), '--key', KEY, '--no-health']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /the command was refused: 401: unauthenticated: .*\(pass a bearer token: --token or LUCIUS_TOKEN, --scope api:\/\/<app id>\/\.default, or --dev-token against npm start\)\n$/,
    );
    const tenant = uniqueTenantId();
    const elsewhere = await smoke(['--tenant', tenant, '--key', KEY, '--no-health'], {
      LUCIUS_TOKEN: await smokeToken(uniqueTenantId()),
    });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(
      new RegExp(
        `the command was refused: 403: tenant_forbidden: .*\\(the token needs the roles Lucius.Submit and Lucius.Read and the tenant ${tenant}\\)\\n$`,
      ),
    );
  });
});

describe('lucius smoke (options and reachability)', () => {
  it('exits 2 for a bad --url, a bad --timeout and a request type without a sample payload', async () => {
    for (const args of [
      ['--url', 'not a url'],
      ['--url', 'http://127.0.0.1:1', '--timeout', '0'],
      ['--url', 'http://127.0.0.1:1', '--request-type', 'TRANSLATE'],
      ['--url', 'http://127.0.0.1:1', '--payload', '[1]'],
      ['--url', 'http://127.0.0.1:1', '--token', 'a.b.c', '--dev-token'],
      ['--url', 'https://lucius.example.com', '--dev-token'],
      ['--url', 'http://127.0.0.1:1', '--scope', 'api://lucius'],
    ]) {
      const result = await runLucius(['smoke', ...args], {});
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(
        /^lucius: (--(url|timeout|payload|dev-token|scope)|give one of)|give --payload/,
      );
    }
  });

  it('exits 1 before sending anything when --dev-token finds no dev issuer key', async () => {
    const result = await runLucius(
      ['smoke', '--url', 'http://127.0.0.1:1', '--dev-token', '--data', '/nonexistent-lucius-data'],
      {},
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^lucius: --dev-token: no dev issuer key at \/nonexistent-lucius-data\/dev-issuer-key\.json/,
    );
  });

  it('exits 1 saying it cannot reach an app where nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await runLucius(['smoke', '--url', `http://127.0.0.1:${port}`], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^lucius smoke: cannot reach http://127\\.0\\.0\\.1:${port}/api/healthz: `),
    );
  });
});
