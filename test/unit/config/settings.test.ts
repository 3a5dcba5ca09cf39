import { SettingsError } from '../../../src/config/errors';
import { parseSettings } from '../../../src/config/settings';

const AZURITE = 'UseDevelopmentStorage=true';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems.map((p) => p.variable);
  }
  throw new Error('expected SettingsError');
}

describe('parseSettings', () => {
  it('applies the decided defaults', () => {
    const settings = parseSettings({ AzureWebJobsStorage: AZURITE });
    expect(settings.storage.backend).toBe('table');
    expect(settings.storage.connection).toEqual({
      kind: 'connection-string',
      connectionString: AZURITE,
      source: 'AzureWebJobsStorage',
    });
    expect(settings.admission).toEqual({
      maxInflightPerTenant: 100,
      idempotencyTtlHours: 24,
      maxBodyBytes: 262144,
      backpressureRetryAfterSeconds: 5,
      laneCount: 16,
    });
    expect(settings.steps).toEqual({
      maxAttempts: 3,
      ackTimeoutSeconds: 30,
      leaseMinutes: 15,
      stepResultTimeoutSeconds: 900,
      backoff: {
        dispatch: [30_000, 120_000, 600_000],
        reply: [60_000, 300_000, 900_000],
        notStarted: [5_000, 15_000, 30_000, 60_000],
      },
      maxNotStarted: 10,
      maxOutstandingPerLane: 32,
    });
    expect(settings.serviceBus).toEqual({
      connectionSetting: 'ServiceBusConnection',
      topicPrefix: 'global-bus-p',
      replyPrefix: 'global-bus-replies-p',
      replySubscription: 'lucius-invoker',
      quarantineQueue: 'lucius-quarantine',
    });
    expect(settings.taskHub).toBe('Lucius');
    expect(settings.health).toEqual({ timeoutMs: 1500 });
    expect(settings.storage.tables.jobs).toBe('LuciusJobs');
  });

  it('reads the health check timeout and names a bad one with its bounds', () => {
    const memory = { LUCIUS_STORAGE_BACKEND: 'memory' };
    expect(parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '250' }).health.timeoutMs).toBe(250);
    expect(parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '100' }).health.timeoutMs).toBe(100);
    expect(parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '30000' }).health.timeoutMs).toBe(30_000);
    expect(() => parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '99' })).toThrow(
      /LUCIUS_HEALTH_TIMEOUT_MS: must be at least 100 \(got "99"\)/,
    );
    expect(() => parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '30001' })).toThrow(
      /LUCIUS_HEALTH_TIMEOUT_MS: must be at most 30000/,
    );
    expect(() => parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '1.5s' })).toThrow(
      /LUCIUS_HEALTH_TIMEOUT_MS: must be a number/,
    );
    expect(() => parseSettings({ ...memory, LUCIUS_HEALTH_TIMEOUT_MS: '150.5' })).toThrow(
      /LUCIUS_HEALTH_TIMEOUT_MS: must be an integer/,
    );
  });

  it('reads overrides and treats empty values as unset', () => {
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_MAX_ATTEMPTS: '5',
      LUCIUS_LEASE_MINUTES: '',
      LUCIUS_LANE_COUNT: '4',
    });
    expect(settings.storage.backend).toBe('memory');
    expect(settings.storage.connection).toBeUndefined();
    expect(settings.steps.maxAttempts).toBe(5);
    expect(settings.steps.leaseMinutes).toBe(15);
    expect(settings.admission.laneCount).toBe(4);
  });

  it('reports every bad variable at once, by name', () => {
    const env = {
      LUCIUS_STORAGE_BACKEND: 'sql',
      LUCIUS_MAX_ATTEMPTS: 'three',
      LUCIUS_LANE_COUNT: '0',
      LUCIUS_TABLE_JOBS: 'bad-name',
    };
    expect(problemsOf(env).sort()).toEqual([
      'LUCIUS_LANE_COUNT',
      'LUCIUS_MAX_ATTEMPTS',
      'LUCIUS_STORAGE_BACKEND',
      'LUCIUS_TABLE_CONNECTION',
      'LUCIUS_TABLE_JOBS',
    ]);
    expect(() => parseSettings(env)).toThrow(/LUCIUS_MAX_ATTEMPTS: .*\(got "three"\)/);
  });

  it('requires a table connection for the table and ledger backends', () => {
    expect(problemsOf({ LUCIUS_STORAGE_BACKEND: 'ledger' })).toEqual(['LUCIUS_TABLE_CONNECTION']);
    expect(problemsOf({ LUCIUS_TABLE_CONNECTION: 'not a connection' })).toEqual(['LUCIUS_TABLE_CONNECTION']);
  });

  it('uses a managed identity when only an account name or endpoint is given', () => {
    expect(
      parseSettings({ AzureWebJobsStorage__accountName: 'luciusprod', AzureWebJobsStorage__clientId: 'abc' })
        .storage.connection,
    ).toEqual({
      kind: 'identity',
      endpoint: 'https://luciusprod.table.core.windows.net',
      credential: { kind: 'default', managedIdentityClientId: 'abc' },
      clientId: 'abc',
      source: 'AzureWebJobsStorage__accountName',
    });
    expect(
      parseSettings({ LUCIUS_TABLE_CONNECTION: 'https://x.table.core.windows.net' }).storage.connection,
    ).toMatchObject({ kind: 'identity', endpoint: 'https://x.table.core.windows.net' });
  });

  it('prefers LUCIUS_TABLE_CONNECTION over AzureWebJobsStorage', () => {
    const conn =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;';
    expect(
      parseSettings({ LUCIUS_TABLE_CONNECTION: conn, AzureWebJobsStorage: AZURITE }).storage.connection,
    ).toMatchObject({ source: 'LUCIUS_TABLE_CONNECTION' });
  });

  it('reads the Service Bus connection in either form', () => {
    expect(
      parseSettings({
        LUCIUS_STORAGE_BACKEND: 'memory',
        ServiceBusConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      }).serviceBus.connection,
    ).toEqual({
      kind: 'identity',
      fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      credential: { kind: 'default' },
    });
  });

  it('returns frozen settings', () => {
    const settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.admission)).toBe(true);
  });

  it('takes tuned backoff schedules in seconds and names a bad one', () => {
    const settings = parseSettings({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_REPLY_BACKOFF_SECONDS: '1, 2',
      LUCIUS_DISPATCH_BACKOFF_SECONDS: '0',
    });
    expect(settings.steps.backoff).toEqual({
      dispatch: [0],
      reply: [1000, 2000],
      notStarted: [5_000, 15_000, 30_000, 60_000],
    });
    expect(() =>
      parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_REPLY_BACKOFF_SECONDS: '1,x' }),
    ).toThrow(/LUCIUS_REPLY_BACKOFF_SECONDS: must be 1 to 10 comma-separated whole numbers of seconds/);
  });
});
