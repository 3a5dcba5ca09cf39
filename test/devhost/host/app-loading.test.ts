/**
 * Loading apps: package.json main (file or glob), refusals, host.json and local.settings.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEntry } from '../../../devhost/host/app-loader';
import { applyLocalSettings, readHostConfig, requireHubName } from '../../../devhost/common/host-config';
import { startHost } from '../../../devhost/host/host';
import { createServiceBusSupport } from '../../../devhost/servicebus/triggers/service-bus-support';

const APP_DIR = join(__dirname, '..', 'fixtures', 'http-app');

function start(entry: string) {
  return startHost({
    appDir: APP_DIR,
    entry,
    port: 0,
    log: () => undefined,
    env: { ...process.env, FIXTURE_HUB: 'h' },
    parts: [createServiceBusSupport()],
  });
}

describe('devhost app loading', () => {
  it('loads every module a glob main matches', async () => {
    const host = await start('functions/*.js');
    try {
      expect(host.functions.map((fn) => fn.name)).toEqual(['fromA', 'fromB']);
      expect(await (await fetch(`${host.apiUrl}/b`)).text()).toBe('B');
    } finally {
      await host.stop();
    }
  });

  it('resolves globs with ** and braces to sorted files', () => {
    expect(resolveEntry(APP_DIR, '**/{a,b}.js').map((file) => file.slice(APP_DIR.length + 1))).toEqual([
      'functions/a.js',
      'functions/b.js',
    ]);
  });

  it('refuses a main that matches nothing, naming it', async () => {
    await expect(start('missing/*.js')).rejects.toThrow(/main glob "missing\/\*\.js" matches no file/);
    await expect(start('nope.js')).rejects.toThrow(/main "nope.js" does not exist/);
  });

  it('refuses two functions with one name', async () => {
    await expect(start('duplicate.js')).rejects.toMatchObject({
      code: 'duplicate_function',
      message: expect.stringContaining('two functions are named "Same"'),
    });
  });

  it('refuses a Service Bus trigger whose connection setting is not set, naming the setting', async () => {
    await expect(start('servicebus.js')).rejects.toMatchObject({
      code: 'invalid_function',
      message: expect.stringContaining(
        'function "onMessage": the Service Bus connection setting ServiceBusConnection is not set',
      ),
    });
  });

  it('refuses other unsupported trigger kinds', async () => {
    await expect(start('storage-queue.js')).rejects.toThrow(
      /"onQueue" uses a queueTrigger, which devhost does not host yet \(supported: httpTrigger, timerTrigger, orchestrationTrigger, activityTrigger, serviceBusTrigger\)/,
    );
  });

  it('refuses a schedule naming an unset setting', async () => {
    await expect(
      startHost({ appDir: APP_DIR, port: 0, log: () => undefined, env: { FIXTURE_HUB: 'h' } }),
    ).rejects.toThrow(
      /timer function "warmup": schedule "%WARMUP_SCHEDULE%" names a setting that is not set/,
    );
  });
});

describe('host config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devhost-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults the route prefix to api and the hub to TestHubName without a host.json', () => {
    expect(readHostConfig(dir, {})).toEqual({
      routePrefix: 'api',
      serviceBus: {
        maxConcurrentCalls: 16,
        maxMessageBatchSize: 1000,
        clientRetryOptions: {
          mode: 'exponential',
          delayMs: 800,
          maxDelayMs: 60_000,
          maxRetries: 3,
          tryTimeoutMs: 60_000,
        },
        maxAutoLockRenewalDurationMs: 300_000,
      },
      durableTask: {
        hubName: 'TestHubName',
        maxConcurrentActivityFunctions: 10,
        maxConcurrentOrchestratorFunctions: 10,
        versionMatchStrategy: 'CurrentOrOlder',
        versionFailureStrategy: 'Reject',
      },
    });
  });

  it('reads an empty route prefix and refuses an unset hub setting', () => {
    writeFileSync(
      join(dir, 'host.json'),
      JSON.stringify({ extensions: { http: { routePrefix: '' }, durableTask: { hubName: '%HUB%' } } }),
    );
    expect(readHostConfig(dir, { HUB: 'Mine' })).toMatchObject({
      routePrefix: '',
      durableTask: { hubName: 'Mine' },
    });
    expect(() => requireHubName(readHostConfig(dir, {}))).toThrow(
      /hubName "%HUB%" names a setting that is not set/,
    );
  });

  it('copies local.settings.json Values without overriding set variables', () => {
    writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ Values: { A: '1', B: '2' } }));
    const env: NodeJS.ProcessEnv = { B: 'kept' };
    expect(applyLocalSettings(dir, env)).toEqual(['A']);
    expect(env).toEqual({ A: '1', B: 'kept' });
  });
});
