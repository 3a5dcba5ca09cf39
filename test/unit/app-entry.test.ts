/**
 * The app entry (package.json `main`) as a Functions host loads it: the host supplies the module
 * `@azure/functions-core`, and every `app.http` registration reaches its `registerFunction` with the
 * binding metadata. Bad settings stop the load with the offending variables named; so does the
 * default LUCIUS_AUTH_MODE (entra) without its directory and audience.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Settings every load below shares: no authentication, and a callback key (no key file is written). */
const BASE: Record<string, string> = {
  LUCIUS_AUTH_MODE: 'none',
  LUCIUS_CALLBACK_KEY: `test:${Buffer.alloc(32, 7).toString('base64')}`,
};

interface Registration {
  readonly name: string;
  readonly bindings: Record<
    string,
    { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string }
  >;
}

function loadEntry(env: Record<string, string>, options: { readonly bare?: boolean } = {}): Registration[] {
  return loadApp(env, options).registrations;
}

/** Loads the entry; `services` are the loaded app's (its own module registry). */
function loadApp(
  env: Record<string, string>,
  options: { readonly bare?: boolean } = {},
): { registrations: Registration[]; services?: import('../../src/services').Services } {
  const registrations: Registration[] = [];
  let services: import('../../src/services').Services | undefined;
  const saved = { ...process.env };
  for (const key of Object.keys(process.env))
    if (key.startsWith('LUCIUS_') || key.startsWith('AzureWebJobs')) delete process.env[key];
  Object.assign(process.env, options.bare === true ? {} : BASE, env);
  try {
    jest.isolateModules(() => {
      jest.doMock(
        '@azure/functions-core',
        () => ({
          setProgrammingModel: () => undefined,
          registerHook: () => ({ dispose: () => undefined }),
          registerFunction: (metadata: Registration) => {
            registrations.push(metadata);
            return { dispose: () => undefined };
          },
        }),
        { virtual: true },
      );
      // The host loads the entry with require; isolateModules needs it synchronous.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../src/index');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      services = (require('../../src/composition') as typeof import('../../src/composition')).getServices();
    });
  } finally {
    process.env = saved;
  }
  return { registrations, ...(services === undefined ? {} : { services }) };
}

function httpTrigger(registration: Registration) {
  return Object.values(registration.bindings).find((b) => b.type === 'httpTrigger');
}

describe('app entry', () => {
  it('registers the HTTP functions with their routes, methods and auth levels', () => {
    const registrations = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).filter(
      (r) => httpTrigger(r) !== undefined,
    );
    const table = registrations.map((r) => [
      r.name,
      httpTrigger(r)?.route,
      httpTrigger(r)?.methods?.join(','),
      httpTrigger(r)?.authLevel,
    ]);
    expect(table).toEqual([
      ['submitCommand', 'v1/commands', 'POST,OPTIONS', 'function'],
      ['orchestrate', 'v1/orchestrate', 'POST,OPTIONS', 'function'],
      ['getJob', 'v1/jobs/{jobId}', 'GET,OPTIONS', 'function'],
      ['getJobSteps', 'v1/jobs/{jobId}/steps', 'GET,OPTIONS', 'function'],
      ['listJobs', 'v1/jobs', 'GET,OPTIONS', 'function'],
      ['cancelJob', 'v1/jobs/{jobId}/cancel', 'POST,OPTIONS', 'function'],
      ['redriveJob', 'v1/jobs/{jobId}/redrive', 'POST,OPTIONS', 'function'],
      // OPTIONS of v1/jobs/{jobId} is getJob's: one function per route and method.
      ['deleteJob', 'v1/jobs/{jobId}', 'DELETE', 'function'],
      ['ackReply', 'v1/jobs/{jobId}/steps/{stepId}/ack', 'POST,OPTIONS', 'function'],
      ['resultReply', 'v1/jobs/{jobId}/steps/{stepId}/result', 'POST,OPTIONS', 'function'],
      ['heartbeatReply', 'v1/jobs/{jobId}/steps/{stepId}/heartbeat', 'POST,OPTIONS', 'function'],
      ['health', 'health', 'GET', 'anonymous'],
      ['healthz', 'healthz', 'GET', 'anonymous'],
    ]);
  });

  it('registers the API anonymous with LUCIUS_HTTP_AUTH_LEVEL=anonymous (bearer tokens only)', () => {
    const levels = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_HTTP_AUTH_LEVEL: 'anonymous' })
      .filter((r) => httpTrigger(r) !== undefined)
      .map((r) => httpTrigger(r)?.authLevel);
    expect(new Set(levels)).toEqual(new Set(['anonymous']));
  });

  it('serves the dev JWKS anonymously only with LUCIUS_AUTH_MODE=dev', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lucius-entry-dev-'));
    try {
      const dev = loadApp({
        LUCIUS_STORAGE_BACKEND: 'memory',
        LUCIUS_AUTH_MODE: 'dev',
        LUCIUS_AUTH_DEV_DATA_DIR: dataDir,
      });
      const jwks = dev.registrations.find((r) => r.name === 'devJwks');
      expect(jwks === undefined ? undefined : httpTrigger(jwks)).toMatchObject({
        route: 'dev/jwks.json',
        methods: ['GET'],
        authLevel: 'anonymous',
      });
      // The entry prepares the authenticator (the dev issuer's key) at once; wait for it before cleaning up.
      await dev.services?.security.authenticator();
      const document = (await dev.services?.security.devJwks?.()) as { keys: Array<Record<string, unknown>> };
      expect(document.keys).toHaveLength(1);
      expect(document.keys[0]).not.toHaveProperty('d');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const none = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' });
    expect(none.map((r) => r.name)).not.toContain('devJwks');
  });

  it('warns at every start that LUCIUS_AUTH_MODE=none accepts every request', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' });
      expect(warn.mock.calls.map((call) => String(call[0]))).toContainEqual(
        expect.stringContaining('LUCIUS_AUTH_MODE=none'),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('stops loading without LUCIUS_AUTH_MODE when the default (entra) has no directory or audience', () => {
    expect(() => loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }, { bare: true })).toThrow(
      /LUCIUS_AUTH_TENANT_ID: is required with LUCIUS_AUTH_MODE=entra.*LUCIUS_AUTH_AUDIENCE: is required/,
    );
  });

  it('registers a Service Bus trigger per reply lane, named from settings', () => {
    const triggers = loadEntry({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_LANE_COUNT: '3',
      LUCIUS_SERVICEBUS_REPLY_PREFIX: 'replies-',
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: 'me',
    }).flatMap((r) =>
      Object.values(r.bindings)
        .filter((b) => b.type === 'serviceBusTrigger')
        .map((b) => [
          r.name,
          (b as Record<string, unknown>).topicName,
          (b as Record<string, unknown>).subscriptionName,
        ]),
    );
    expect(triggers).toEqual([
      ['replies-p0', 'replies-0', 'me'],
      ['replies-p1', 'replies-1', 'me'],
      ['replies-p2', 'replies-2', 'me'],
    ]);
  });

  it('registers jobOrchestrator and its activities', () => {
    const kinds = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).flatMap((r) =>
      Object.values(r.bindings)
        .filter((b) => b.type === 'orchestrationTrigger' || b.type === 'activityTrigger')
        .map((b) => `${b.type}:${r.name}`),
    );
    expect(kinds).toEqual([
      'activityTrigger:startJob',
      'activityTrigger:acquireSlot',
      'activityTrigger:dispatchAttempt',
      'activityTrigger:dispatchStep',
      'activityTrigger:settleAttempt',
      'activityTrigger:releaseSlot',
      'activityTrigger:recordAttempt',
      'activityTrigger:readAttempt',
      'activityTrigger:publishDirective',
      'activityTrigger:recordPublishFailure',
      'activityTrigger:resolveTimeout',
      'activityTrigger:finishJob',
      'activityTrigger:cancelJobRun',
      'activityTrigger:expireJob',
      'orchestrationTrigger:jobOrchestrator',
    ]);
  });

  it('registers the sweeper timers on their schedules, with the durable client input', () => {
    const timers = loadEntry({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_DRIFT_SWEEP_SCHEDULE: '*/20 * * * * *',
    }).flatMap((r) => {
      const bindings = Object.values(r.bindings);
      return bindings
        .filter((b) => b.type === 'timerTrigger')
        .map((b) => [
          r.name,
          (b as Record<string, unknown>).schedule,
          bindings.some((input) => input.type === 'durableClient' && input.direction === 'in'),
        ]);
    });
    expect(timers).toEqual([
      ['driftSweeper', '*/20 * * * * *', true],
      ['leaseSweeper', '*/30 * * * * *', true],
    ]);
  });

  it('gives the admission functions the durable client input binding', () => {
    const submit = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).find((r) => r.name === 'submitCommand');
    expect(Object.values(submit?.bindings ?? {}).map((b) => [b.type, b.direction])).toContainEqual([
      'durableClient',
      'in',
    ]);
  });

  it('stops loading with every bad setting named', () => {
    expect(() => loadEntry({ LUCIUS_STORAGE_BACKEND: 'ledger', LUCIUS_MAX_ATTEMPTS: '0' })).toThrow(
      /Invalid settings \(2\): LUCIUS_MAX_ATTEMPTS: must be at least 1 \(got "0"\); LUCIUS_TABLE_CONNECTION: is required/,
    );
  });
});
