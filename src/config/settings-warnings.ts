/**
 * Start-up warnings about variables Lucius will not read, so a typo is never silently ignored:
 * an unknown `LUCIUS_*` variable (names are case-sensitive) names the closest known setting
 * (Levenshtein distance over the settings catalog, ignoring case); an unknown `__property` of a connection setting
 * (`ServiceBusConnection__fullyQualifiedNamepsace`) names the closest property; a removed setting
 * (`LUCIUS_TEMPORAL_*`) says what replaced it. Pure: the caller logs them.
 */
import { closest } from 'fastest-levenshtein';
import { CREDENTIAL_PROPERTIES } from './credential-settings';
import {
  CONNECTION_ENDPOINT_PROPERTIES,
  CONNECTION_PREFIXES,
  REMOVED_SETTINGS,
  SETTINGS_CATALOG,
} from './settings-catalog';
import type { Env } from './env';

export interface SettingWarning {
  readonly variable: string;
  readonly message: string;
}

const PROPERTIES: readonly string[] = [...CONNECTION_ENDPOINT_PROPERTIES, ...CREDENTIAL_PROPERTIES];
const PROPERTY_BY_UPPER = new Map(PROPERTIES.map((p) => [p.toUpperCase(), p]));

/** Every `LUCIUS_*` name Lucius reads, in its catalog spelling. */
const KNOWN_LUCIUS: readonly string[] = [
  ...new Set([
    ...SETTINGS_CATALOG.flatMap((s) => [s.name, ...s.legacyNames]),
    ...CONNECTION_PREFIXES.flatMap((prefix) => PROPERTIES.map((p) => `${prefix}__${p}`)),
  ]),
].filter(isLucius);
const KNOWN_EXACT = new Set(KNOWN_LUCIUS);
const KNOWN_UPPER = new Map(KNOWN_LUCIUS.map((name) => [name.toUpperCase(), name]));

export function settingsWarnings(env: Env): SettingWarning[] {
  const warnings: SettingWarning[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (env[variable] === undefined) continue;
    const removed = REMOVED_SETTINGS.find((r) => variable.toUpperCase().startsWith(r.prefix));
    if (removed !== undefined) {
      warnings.push({
        variable,
        message: `${variable} is a setting of the previous system and is ignored. ${removed.replacement}`,
      });
      continue;
    }
    const connection = connectionPropertyOf(variable);
    if (connection !== undefined) {
      if (!PROPERTY_BY_UPPER.has(connection.property.toUpperCase())) {
        const suggestion = closest(connection.property, [...PROPERTIES]);
        warnings.push({
          variable,
          message: `${variable} is not a property of the ${connection.prefix} connection and is ignored; the closest known one is ${connection.prefix}__${suggestion}`,
        });
      }
      continue;
    }
    // Exact spelling: environment variable names are case-sensitive on Linux, where Functions runs.
    if (isLucius(variable) && !KNOWN_EXACT.has(variable)) {
      const suggestion = KNOWN_UPPER.get(closest(variable.toUpperCase(), [...KNOWN_UPPER.keys()]));
      warnings.push({
        variable,
        message: `${variable} is not a Lucius setting and is ignored; the closest known one is ${suggestion}`,
      });
    }
  }
  return warnings;
}

function connectionPropertyOf(variable: string): { prefix: string; property: string } | undefined {
  for (const prefix of CONNECTION_PREFIXES) {
    if (variable.startsWith(`${prefix}__`) && variable.length > prefix.length + 2)
      return { prefix, property: variable.slice(prefix.length + 2) };
  }
  return undefined;
}

function isLucius(name: string): boolean {
  return name.toUpperCase().startsWith('LUCIUS_');
}
