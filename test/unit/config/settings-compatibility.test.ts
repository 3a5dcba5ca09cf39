/** The previous system's settings: old names honoured, conflicts named, typos and removed settings warned. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingsError } from '../../../src/config/errors';
import { loadSettings, parseSettings } from '../../../src/config/settings';

const MEMORY = { LUCIUS_STORAGE_BACKEND: 'memory' };
const EMULATOR =
  'Endpoint=sb://127.0.0.1;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';

function settingsError(env: Record<string, string>): SettingsError {
  try {
    parseSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error('expected a SettingsError');
}

describe('settings under the previous system names', () => {
  it('honours the previous table names', () => {
    const { tables } = parseSettings({
      ...MEMORY,
      LUCIUS_JOBS_TABLE: 'OldJobs',
      LUCIUS_STEPS_TABLE: 'OldSteps',
      LUCIUS_LEDGER_TABLE: 'OldLedger',
      LUCIUS_IDEMPOTENCY_TABLE: 'OldIdempotency',
      LUCIUS_JOB_INDEX_TABLE: 'OldJobIndex',
      LUCIUS_INFLIGHT_TABLE: 'OldInflight',
    }).storage;
    expect(tables).toEqual({
      jobs: 'OldJobs',
      steps: 'OldSteps',
      ledger: 'OldLedger',
      idempotency: 'OldIdempotency',
      jobIndex: 'OldJobIndex',
      inflight: 'OldInflight',
      sweep: 'LuciusSweep',
    });
  });

  it('honours the previous names that are still current', () => {
    const settings = parseSettings({
      ...MEMORY,
      LUCIUS_SERVICEBUS_REPLY_PREFIX: 'replies-p',
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: 'invoker',
      LUCIUS_MAX_ATTEMPTS: '5',
      LUCIUS_LEASE_MINUTES: '20',
      LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: '600',
      LUCIUS_MAX_INFLIGHT_PER_TENANT: '7',
    });
    expect(settings.serviceBus).toMatchObject({ replyPrefix: 'replies-p', replySubscription: 'invoker' });
    expect(settings.steps).toMatchObject({ maxAttempts: 5, leaseMinutes: 20, stepResultTimeoutSeconds: 600 });
    expect(settings.admission.maxInflightPerTenant).toBe(7);
  });

  it('accepts an old and a new name set to the same value', () => {
    expect(
      parseSettings({ ...MEMORY, LUCIUS_JOBS_TABLE: 'Jobs', LUCIUS_TABLE_JOBS: 'Jobs' }).storage.tables.jobs,
    ).toBe('Jobs');
  });

  it('fails start-up naming both when an old and a new name disagree', () => {
    const error = settingsError({ ...MEMORY, LUCIUS_JOBS_TABLE: 'OldJobs', LUCIUS_TABLE_JOBS: 'NewJobs' });
    expect(error.problems).toEqual([
      {
        variable: 'LUCIUS_TABLE_JOBS',
        message:
          'disagrees with LUCIUS_JOBS_TABLE, its previous name (LUCIUS_TABLE_JOBS="NewJobs", LUCIUS_JOBS_TABLE="OldJobs"): set one of them',
      },
    ]);
  });

  it('names the old variable when its value is bad', () => {
    expect(settingsError({ ...MEMORY, LUCIUS_STEPS_TABLE: 'bad-name' }).message).toMatch(
      /LUCIUS_STEPS_TABLE: must be a valid table name.*\(got "bad-name"\)/,
    );
  });

  it('reads the Service Bus connection under its previous name, and the triggers follow it', () => {
    const old = parseSettings({ ...MEMORY, LUCIUS_SERVICEBUS_CONNECTION: EMULATOR }).serviceBus;
    expect(old.connection).toEqual({ kind: 'connection-string', connectionString: EMULATOR });
    expect(old.connectionSetting).toBe('LUCIUS_SERVICEBUS_CONNECTION');

    const identity = parseSettings({
      ...MEMORY,
      LUCIUS_SERVICEBUS_CONNECTION__fullyQualifiedNamespace: 'old.servicebus.windows.net',
      LUCIUS_SERVICEBUS_CONNECTION__credential: 'managedidentity',
      LUCIUS_SERVICEBUS_CONNECTION__clientId: 'c',
    }).serviceBus;
    expect(identity.connection).toMatchObject({
      kind: 'identity',
      fullyQualifiedNamespace: 'old.servicebus.windows.net',
      credential: { kind: 'managed-identity', clientId: 'c' },
    });
    expect(identity.connectionSetting).toBe('LUCIUS_SERVICEBUS_CONNECTION');

    const both = parseSettings({
      ...MEMORY,
      LUCIUS_SERVICEBUS_CONNECTION: EMULATOR,
      ServiceBusConnection: EMULATOR,
    }).serviceBus;
    expect(both.connectionSetting).toBe('ServiceBusConnection');
  });

  it('fails start-up when ServiceBusConnection and LUCIUS_SERVICEBUS_CONNECTION describe different connections, without echoing secrets', () => {
    const error = settingsError({
      ...MEMORY,
      LUCIUS_SERVICEBUS_CONNECTION: EMULATOR,
      ServiceBusConnection__fullyQualifiedNamespace: 'new.servicebus.windows.net',
    });
    expect(error.problems).toEqual([
      {
        variable: 'ServiceBusConnection',
        message: expect.stringMatching(/disagrees with LUCIUS_SERVICEBUS_CONNECTION, its previous name/),
      },
    ]);
    expect(error.message).not.toContain('SAS_KEY_VALUE');
  });

  it('rejects a Service Bus connection that is neither a connection string nor a namespace', () => {
    expect(
      settingsError({ ...MEMORY, ServiceBusConnection: 'lucius.servicebus.windows.net' }).problems,
    ).toEqual([
      {
        variable: 'ServiceBusConnection',
        message: expect.stringMatching(/__fullyQualifiedNamespace instead/),
      },
    ]);
    expect(
      settingsError({
        ...MEMORY,
        ServiceBusConnection__fullyQualifiedNamespace: 'sb://x.servicebus.windows.net/',
      }).problems[0]?.variable,
    ).toBe('ServiceBusConnection__fullyQualifiedNamespace');
    expect(settingsError({ ...MEMORY, ServiceBusConnection__clientId: 'c' }).problems).toEqual([
      { variable: 'ServiceBusConnection', message: expect.stringMatching(/no namespace/) },
    ]);
  });
});

describe('start-up warnings', () => {
  it('names the closest known setting for an unknown LUCIUS_ variable', () => {
    const { warnings } = loadSettings({ ...MEMORY, LUCIUS_MAX_ATEMPTS: '5', LUCIUS_JOBS_TABLES: 'x' });
    expect(warnings).toEqual([
      {
        variable: 'LUCIUS_JOBS_TABLES',
        message:
          'LUCIUS_JOBS_TABLES is not a Lucius setting and is ignored; the closest known one is LUCIUS_JOBS_TABLE',
      },
      {
        variable: 'LUCIUS_MAX_ATEMPTS',
        message:
          'LUCIUS_MAX_ATEMPTS is not a Lucius setting and is ignored; the closest known one is LUCIUS_MAX_ATTEMPTS',
      },
    ]);
  });

  it('warns about a LUCIUS_ variable spelled in the wrong case, which Linux does not read', () => {
    expect(loadSettings({ ...MEMORY, lucius_max_attempts: '5' }).warnings).toEqual([
      {
        variable: 'lucius_max_attempts',
        message:
          'lucius_max_attempts is not a Lucius setting and is ignored; the closest known one is LUCIUS_MAX_ATTEMPTS',
      },
    ]);
  });

  it('names the closest property of a connection for an unknown one', () => {
    expect(
      loadSettings({
        ...MEMORY,
        ServiceBusConnection__fullyQualifiedNamepsace: 'x.servicebus.windows.net',
      }).warnings,
    ).toEqual([
      {
        variable: 'ServiceBusConnection__fullyQualifiedNamepsace',
        message:
          'ServiceBusConnection__fullyQualifiedNamepsace is not a property of the ServiceBusConnection connection and is ignored; the closest known one is ServiceBusConnection__fullyQualifiedNamespace',
      },
    ]);
  });

  it('says what replaced a removed Temporal setting', () => {
    const { warnings } = loadSettings({ ...MEMORY, LUCIUS_TEMPORAL_NAMESPACE: 'default' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.variable).toBe('LUCIUS_TEMPORAL_NAMESPACE');
    expect(warnings[0]?.message).toMatch(
      /previous system .* Durable Functions: the task hub is LUCIUS_TASK_HUB/,
    );
  });

  it('has nothing to say about the sample local settings or the previous names', () => {
    const sample = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', 'local.settings.sample.json'), 'utf8'),
    ) as { Values: Record<string, string> };
    expect(loadSettings(sample.Values).warnings).toEqual([]);
    expect(
      loadSettings({ ...MEMORY, LUCIUS_JOBS_TABLE: 'Jobs', LUCIUS_SERVICEBUS_CONNECTION: EMULATOR }).warnings,
    ).toEqual([]);
  });

  it('leaves variables of other software alone', () => {
    expect(loadSettings({ ...MEMORY, PATH: '/bin', FUNCTIONS_WORKER_RUNTIME: 'node' }).warnings).toEqual([]);
  });
});
