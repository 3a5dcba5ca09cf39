/**
 * Settings for processes started outside the Functions host (the `lucius` CLI): the environment,
 * completed by the `Values` of a `local.settings.json` in the working directory when there is one,
 * as Core Tools does for `func start`. A variable set in the environment wins over the file.
 * A file that is not JSON, or whose `Values` are not strings, is a SettingsError naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingsError } from './errors';
import { loadSettings, type LoadedSettings, type Settings } from './settings';

export const LOCAL_SETTINGS_FILE = 'local.settings.json';

export function readLocalSettingsValues(directory: string): Record<string, string> {
  const path = join(directory, LOCAL_SETTINGS_FILE);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SettingsError([{ variable: LOCAL_SETTINGS_FILE, message: `is not JSON: ${String(error)}` }]);
  }
  const values = (parsed as { Values?: unknown } | null)?.Values ?? {};
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new SettingsError([{ variable: LOCAL_SETTINGS_FILE, message: '"Values" must be an object' }]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string')
      throw new SettingsError([
        { variable: `${LOCAL_SETTINGS_FILE} Values.${name}`, message: 'must be a string' },
      ]);
    out[name] = value;
  }
  return out;
}

/** The process's settings: its environment over the working directory's local.settings.json. */
export function settingsForTool(directory: string = process.cwd()): Settings {
  return loadSettingsForTool(directory).settings;
}

/** The same, with the warnings about variables it ignores (for a tool to print). */
export function loadSettingsForTool(directory: string = process.cwd()): LoadedSettings {
  const fromFile = readLocalSettingsValues(directory);
  const env: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  return loadSettings(env);
}
