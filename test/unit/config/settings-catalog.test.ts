/** The settings catalog, and the app settings file generated from it for the infrastructure. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appSettingsDocument, appSettingsFile } from '../../../scripts/generators/app-settings';
import {
  APP_CONFIGURATION_KEYS,
  appConfigurationReference,
  SETTINGS_CATALOG,
} from '../../../src/config/settings-catalog';
import { parseSettings, SCHEMA_VARIABLES } from '../../../src/config/settings';
import { TELEMETRY_VARIABLES } from '../../../src/config/telemetry-settings';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const NAMES = new Set(SETTINGS_CATALOG.map((setting) => setting.name));

describe('SETTINGS_CATALOG', () => {
  it('lists every variable the settings schema and the telemetry settings read, once', () => {
    expect([...SCHEMA_VARIABLES, ...TELEMETRY_VARIABLES].filter((name) => !NAMES.has(name))).toEqual([]);
    expect(NAMES.size).toBe(SETTINGS_CATALOG.length);
  });

  it('keeps every name the previous system documented, as a current or a previous name', () => {
    const known = new Set(SETTINGS_CATALOG.flatMap((setting) => [setting.name, ...setting.legacyNames]));
    const previous = [
      'LUCIUS_STORAGE_BACKEND',
      'LUCIUS_TABLE_CONNECTION',
      'LUCIUS_JOBS_TABLE',
      'LUCIUS_STEPS_TABLE',
      'LUCIUS_LEDGER_TABLE',
      'LUCIUS_IDEMPOTENCY_TABLE',
      'LUCIUS_JOB_INDEX_TABLE',
      'LUCIUS_INFLIGHT_TABLE',
      'LUCIUS_SERVICEBUS_CONNECTION',
      'LUCIUS_SERVICEBUS_REPLY_PREFIX',
      'LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION',
      'LUCIUS_MAX_ATTEMPTS',
      'LUCIUS_LEASE_MINUTES',
      'LUCIUS_STEP_RESULT_TIMEOUT_SECONDS',
      'LUCIUS_MAX_INFLIGHT_PER_TENANT',
    ];
    expect(previous.filter((name) => !known.has(name))).toEqual([]);
  });

  it('states defaults the parser applies', () => {
    const settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' });
    const defaults = new Map(SETTINGS_CATALOG.map((setting) => [setting.name, setting.default]));
    expect(defaults.get('LUCIUS_TABLE_JOBS')).toBe(settings.storage.tables.jobs);
    expect(defaults.get('LUCIUS_MAX_ATTEMPTS')).toBe(String(settings.steps.maxAttempts));
    expect(defaults.get('LUCIUS_SERVICEBUS_REPLY_PREFIX')).toBe(settings.serviceBus.replyPrefix);
    expect(defaults.get('LUCIUS_TASK_HUB')).toBe(settings.taskHub);
    expect(defaults.get('LUCIUS_HEALTH_TIMEOUT_MS')).toBe(String(settings.health.timeoutMs));
  });

  it('needs no more than its required settings to run in production, with identities only', () => {
    const production = Object.fromEntries(
      SETTINGS_CATALOG.filter((setting) => setting.production === 'required').map((setting) => {
        if (setting.name.endsWith('__credential')) return [setting.name, 'managedidentity'];
        if (setting.name.endsWith('__clientId')) return [setting.name, 'identity-client-id'];
        if (setting.name.endsWith('ServiceUri'))
          return [setting.name, `https://lucius.${setting.name.slice(21, -10)}.core.windows.net`];
        if (setting.name.endsWith('__fullyQualifiedNamespace'))
          return [setting.name, 'lucius.servicebus.windows.net'];
        return [setting.name, setting.default ?? 'value'];
      }),
    );
    const settings = parseSettings(production);
    expect(settings.storage.connection).toMatchObject({
      kind: 'identity',
      endpoint: 'https://lucius.table.core.windows.net',
      credential: { kind: 'managed-identity', clientId: 'identity-client-id' },
    });
    expect(settings.serviceBus.connection).toMatchObject({
      kind: 'identity',
      credential: { kind: 'managed-identity', clientId: 'identity-client-id' },
    });
  });
});

describe('APP_CONFIGURATION_KEYS', () => {
  it("maps the previous system's keys onto the settings they fill", () => {
    expect(APP_CONFIGURATION_KEYS['Lucius:ServiceBus:Connection']).toBe('ServiceBusConnection');
    expect(APP_CONFIGURATION_KEYS['Lucius:ServiceBus:ReplyPrefix']).toBe('LUCIUS_SERVICEBUS_REPLY_PREFIX');
    expect(APP_CONFIGURATION_KEYS['Lucius:Tables:Jobs']).toBe('LUCIUS_TABLE_JOBS');
    expect(Object.values(APP_CONFIGURATION_KEYS).filter((name) => !NAMES.has(name))).toEqual([]);
  });

  it('writes App Configuration references as App Service resolves them', () => {
    expect(appConfigurationReference('https://lucius.azconfig.io', 'Lucius:Steps:MaxAttempts')).toBe(
      '@Microsoft.AppConfiguration(Endpoint=https://lucius.azconfig.io; Key=Lucius:Steps:MaxAttempts)',
    );
    expect(appConfigurationReference('https://lucius.azconfig.io', 'Lucius:Steps:MaxAttempts', 'prod')).toBe(
      '@Microsoft.AppConfiguration(Endpoint=https://lucius.azconfig.io; Key=Lucius:Steps:MaxAttempts; Label=prod)',
    );
  });
});

describe('infra/generated/app-settings.json', () => {
  it('is up to date with the settings catalog (run `npm run generate` after changing it)', () => {
    const committed = readFileSync(join(REPO_ROOT, appSettingsFile.path), 'utf8');
    expect(committed).toBe(appSettingsFile.generate());
  });

  it('lists the required settings, the defaults and the App Configuration keys', () => {
    const document = appSettingsDocument();
    expect(document.required).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'ServiceBusConnection__fullyQualifiedNamespace',
        'LUCIUS_TASK_HUB',
      ]),
    );
    expect(document.defaults).toMatchObject({ LUCIUS_MAX_ATTEMPTS: '3', LUCIUS_TABLE_JOBS: 'LuciusJobs' });
    expect(document.defaults).not.toHaveProperty('LUCIUS_DEMO_WORKERS');
    expect(document.appConfigurationKeys).toEqual(APP_CONFIGURATION_KEYS);
  });
});
