/**
 * The infra sets every app setting the app requires in production: infra/app/api.bicep keeps the
 * settings it derives from the deployment's resources in one delimited object, and
 * infra/generated/app-settings.json (generated from src/config/settings-catalog.ts) lists the
 * required ones.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { appSettingsDocument } from '../../../scripts/generators/app-settings';
import { serviceBusTopologyDocument } from '../../../scripts/generators/servicebus-topology';
import { SETTINGS_CATALOG } from '../../../src/config/settings-catalog';
import { infraAppSettings, readRepoFile } from './bicep-text';
import { REPO_ROOT } from './generated-files';

interface AppSettingsFile {
  readonly required: readonly string[];
  readonly defaults: Readonly<Record<string, string>>;
  readonly appConfigurationKeys: Readonly<Record<string, string>>;
}

/** Settings the Functions host or an SDK reads rather than Lucius's settings code. */
const HOST_SETTINGS = [
  /^AzureFunctionsJobHost__/,
  /^DURABLE_TASK_SCHEDULER_CONNECTION_STRING$/,
  /^AZURE_CLIENT_ID$/,
  /^APPLICATIONINSIGHTS_(CONNECTION|AUTHENTICATION)_STRING$/,
];

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

  it('sets every setting the settings catalog marks required, as the generator writes them', () => {
    const set = new Set(infraAppSettings().keys());
    expect(appSettingsDocument().required.filter((name) => !set.has(name))).toEqual([]);
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

  it('authenticates callers with Entra ID tokens of this directory, for the audience the deployment names', () => {
    const settings = infraAppSettings();
    expect(settings.get('LUCIUS_AUTH_MODE')).toBe("'entra'");
    expect(settings.get('LUCIUS_AUTH_TENANT_ID')).toBe('authTenantId');
    expect(settings.get('LUCIUS_AUTH_AUDIENCE')).toBe('authAudience');
    const main = readRepoFile('infra/main.bicep');
    expect(main).toContain('    authTenantId: tenant().tenantId\n');
    expect(main).toContain('    authAudience: createEntraApp ? entraApp.outputs.audience : authAudience\n');
  });

  it('reads the worker callback key from Key Vault with the app identity, never as a value', () => {
    const settings = infraAppSettings();
    expect(settings.get('LUCIUS_CALLBACK_KEY')).toBe(
      "'@Microsoft.KeyVault(SecretUri=${callbackKeySecretUri})'",
    );
    expect(settings.get('LUCIUS_CALLBACK_KEY_PREVIOUS')).toBe(
      "empty(previousCallbackKeySecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${previousCallbackKeySecretUri})'",
    );
    const api = readRepoFile('infra/app/api.bicep');
    // The platform resolves Key Vault references with the user-assigned identity (not a system one).
    expect(api).toMatch(/^ {4}keyVaultReferenceIdentity: identityId$/m);
    const main = readRepoFile('infra/main.bicep');
    expect(main).toContain('    callbackKeySecretUri: keyVault.outputs.callbackKeySecretUri\n');
    expect(main).toContain(
      "    previousCallbackKeySecretUri: callbackKeyRotation ? keyVault.outputs.previousCallbackKeySecretUri : ''\n",
    );
    // Versionless: the reference follows the secret's latest version, so a rotation needs no redeployment.
    expect(readRepoFile('infra/app/keyvault.bicep')).toContain(
      "output callbackKeySecretUri string = '${vault.properties.vaultUri}secrets/${callbackKeySecretName}/'",
    );
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
