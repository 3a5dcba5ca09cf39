/**
 * The infra sets every app setting the app requires in production: infra/app/api.bicep keeps the
 * settings it derives from the deployment's resources in one delimited object, and
 * infra/generated/app-settings.json (generated from src/config/settings-catalog.ts) lists the
 * required ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceBusTopologyDocument } from '../../../scripts/generators/servicebus-topology';
import { SETTINGS_CATALOG } from '../../../src/config/settings-catalog';
import { REPO_ROOT } from './generated-files';

interface AppSettingsFile {
  readonly required: readonly string[];
  readonly defaults: Readonly<Record<string, string>>;
  readonly appConfigurationKeys: Readonly<Record<string, string>>;
}

const BEGIN = '// <lucius-app-settings>';
const END = '// </lucius-app-settings>';

/** Settings the Functions host or an SDK reads rather than Lucius's settings code. */
const HOST_SETTINGS = [
  /^AzureFunctionsJobHost__/,
  /^DURABLE_TASK_SCHEDULER_CONNECTION_STRING$/,
  /^AZURE_CLIENT_ID$/,
  /^APPLICATIONINSIGHTS_(CONNECTION|AUTHENTICATION)_STRING$/,
];

function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** `NAME: value` lines of the delimited object, with their value expressions. */
function infraAppSettings(): Map<string, string> {
  const bicep = readRepoFile('infra/app/api.bicep');
  const start = bicep.indexOf(BEGIN);
  const end = bicep.indexOf(END);
  if (start < 0 || end < start) throw new Error(`infra/app/api.bicep has no ${BEGIN} ... ${END} block`);
  const block = bicep.slice(start, end);
  const open = block.indexOf('var luciusAppSettings = {');
  const close = block.lastIndexOf('}');
  if (open < 0 || close < open)
    throw new Error('the app settings block holds no `var luciusAppSettings = { ... }`');
  const settings = new Map<string, string>();
  for (const line of block.slice(open, close).split('\n').slice(1)) {
    const match = /^ {2}([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$/.exec(line);
    if (match !== null) settings.set(match[1]!, match[2]!.trim());
  }
  return settings;
}

function generatedAppSettings(): AppSettingsFile {
  return JSON.parse(readRepoFile('infra/generated/app-settings.json')) as AppSettingsFile;
}

describe('infra app settings', () => {
  it('parses the delimited settings object of infra/app/api.bicep', () => {
    const settings = infraAppSettings();
    expect(settings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(settings.get('ServiceBusConnection__credential')).toBe("'managedidentity'");
    expect(settings.size).toBeGreaterThan(10);
  });

  it('sets every setting the app requires in production', () => {
    const set = new Set(infraAppSettings().keys());
    const { required } = generatedAppSettings();
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !set.has(name))).toEqual([]);
  });

  it('sets only settings Lucius or the Functions host knows', () => {
    const known = new Set(SETTINGS_CATALOG.map((setting) => setting.name));
    const unknown = [...infraAppSettings().keys()].filter(
      (name) => !known.has(name) && !HOST_SETTINGS.some((pattern) => pattern.test(name)),
    );
    expect(unknown).toEqual([]);
  });

  it('connects with the managed identity: every connection names the identity, none carries a secret', () => {
    const settings = infraAppSettings();
    for (const connection of ['AzureWebJobsStorage', 'ServiceBusConnection']) {
      expect(settings.get(`${connection}__credential`)).toBe("'managedidentity'");
      expect(settings.get(`${connection}__clientId`)).toBe('identityClientId');
    }
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "'Authorization=AAD;ClientId=${identityClientId}'",
    );
    for (const file of readdirSync(join(REPO_ROOT, 'infra', 'app')).filter((name) =>
      name.endsWith('.bicep'),
    )) {
      const bicep = readRepoFile(`infra/app/${file}`);
      expect({ file, secrets: bicep.match(/listKeys\(|AccountKey=|SharedAccessKey/g) ?? [] }).toEqual({
        file,
        secrets: [],
      });
    }
  });

  it('takes the messaging settings from the generated topology, so the app uses the entities deployed', () => {
    const settings = infraAppSettings();
    const topology = serviceBusTopologyDocument();
    for (const name of Object.keys(topology.settings)) {
      expect(settings.get(name)).toBe(`topology.settings.${name}`);
    }
  });

  it('maps App Configuration keys only onto settings the app knows', () => {
    const known = new Set(SETTINGS_CATALOG.map((setting) => setting.name));
    const { appConfigurationKeys } = generatedAppSettings();
    expect(Object.keys(appConfigurationKeys).length).toBeGreaterThan(0);
    for (const [key, setting] of Object.entries(appConfigurationKeys)) {
      expect({ key, known: known.has(setting) }).toEqual({ key, known: true });
    }
  });
});
