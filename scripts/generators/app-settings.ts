/**
 * `infra/generated/app-settings.json`, from the settings catalog (src/config/settings-catalog.ts):
 *
 *   required              the settings a production deployment must set (the bicep sets each one)
 *   defaults              every default, as app settings spell them
 *   appConfigurationKeys  App Configuration key → the app setting it fills; the bicep writes
 *                         `@Microsoft.AppConfiguration(Endpoint=...; Key=...)` references from it
 *                         when an App Configuration store is given
 */
import {
  APP_CONFIGURATION_KEYS,
  SETTINGS_CATALOG,
  type SettingDefinition,
} from '../../src/config/settings-catalog';
import { jsonFileContent, type GeneratedFile } from './generated-file';

export const APP_SETTINGS_PATH = 'infra/generated/app-settings.json';

export interface AppSettingsDocument {
  readonly $comment: string;
  readonly required: readonly string[];
  readonly defaults: Readonly<Record<string, string>>;
  readonly appConfigurationKeys: Readonly<Record<string, string>>;
}

export function appSettingsDocument(
  catalog: readonly SettingDefinition[] = SETTINGS_CATALOG,
  appConfigurationKeys: Readonly<Record<string, string>> = APP_CONFIGURATION_KEYS,
): AppSettingsDocument {
  const deployed = catalog.filter((setting) => setting.readBy !== 'tools');
  return {
    $comment:
      'Generated from src/config/settings-catalog.ts by scripts/generators/app-settings.ts (npm run generate). Do not edit.',
    required: deployed.filter((setting) => setting.production === 'required').map((setting) => setting.name),
    defaults: Object.fromEntries(
      deployed
        .filter((setting) => setting.default !== undefined)
        .map((setting) => [setting.name, setting.default as string]),
    ),
    appConfigurationKeys: { ...appConfigurationKeys },
  };
}

export const appSettingsFile: GeneratedFile = {
  path: APP_SETTINGS_PATH,
  generate: () => jsonFileContent(appSettingsDocument()),
};
