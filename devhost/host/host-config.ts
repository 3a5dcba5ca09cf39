/**
 * The parts of `host.json` and `local.settings.json` devhost honours, read as the Functions host and
 * Core Tools read them:
 *
 * - `extensions.http.routePrefix` (default "api"; "" puts routes at the root);
 * - `extensions.durableTask.hubName` (with `%SETTING%` expanded from the environment; an unset
 *   setting is left as is and refused by `requireHubName`, i.e. only when durable support is wired) and
 *   `maxConcurrentActivityFunctions` / `maxConcurrentOrchestratorFunctions` (defaults as the
 *   extension's on a single small instance: 10 and 10);
 * - `local.settings.json` `Values` are copied into the environment without overriding variables that
 *   are already set (Core Tools does the same), before the app loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevhostError } from './errors';

export interface HostConfig {
  readonly routePrefix: string;
  /** host.json `extensions.serviceBus` (defaults as the extension's: 16 concurrent calls, 5 min lock renewal). */
  readonly serviceBus: {
    readonly maxConcurrentCalls: number;
    readonly maxAutoLockRenewalDurationMs: number;
    readonly maxMessageBatchSize: number;
  };
  readonly durableTask: {
    readonly hubName: string;
    readonly maxConcurrentActivityFunctions: number;
    readonly maxConcurrentOrchestratorFunctions: number;
  };
}

const DEFAULT_HUB_NAME = 'TestHubName';
const DEFAULT_CONCURRENCY = 10;

/** Replaces every `%NAME%` with the environment variable NAME (left as is when unset). */
export function expandSettings(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (whole, name: string) => env[name] ?? whole);
}

export function readHostConfig(appDir: string, env: NodeJS.ProcessEnv = process.env): HostConfig {
  const path = join(appDir, 'host.json');
  let json: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new DevhostError('invalid_host_json', `${path} is not valid JSON`, { cause: error });
    }
  }
  const extensions = asObject(json.extensions);
  const http = asObject(extensions.http);
  const durable = asObject(extensions.durableTask);
  const serviceBus = asObject(extensions.serviceBus);
  const routePrefix =
    typeof http.routePrefix === 'string' ? http.routePrefix.replace(/^\/+|\/+$/g, '') : 'api';
  const hubName =
    typeof durable.hubName === 'string' ? expandSettings(durable.hubName, env) : DEFAULT_HUB_NAME;
  return {
    routePrefix,
    serviceBus: {
      maxConcurrentCalls: positiveOr(serviceBus.maxConcurrentCalls, 16, 'serviceBus.maxConcurrentCalls'),
      maxMessageBatchSize: positiveOr(serviceBus.maxMessageBatchSize, 1000, 'serviceBus.maxMessageBatchSize'),
      maxAutoLockRenewalDurationMs: timeSpanMs(serviceBus.maxAutoLockRenewalDuration, 5 * 60_000),
    },
    durableTask: {
      hubName,
      maxConcurrentActivityFunctions: positive(
        durable.maxConcurrentActivityFunctions,
        'maxConcurrentActivityFunctions',
      ),
      maxConcurrentOrchestratorFunctions: positive(
        durable.maxConcurrentOrchestratorFunctions,
        'maxConcurrentOrchestratorFunctions',
      ),
    },
  };
}

/** Copies `Values` into `env` where not already set; returns the names it set. */
export function applyLocalSettings(appDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const path = join(appDir, 'local.settings.json');
  if (!existsSync(path)) return [];
  let values: Record<string, unknown>;
  try {
    values = asObject((JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).Values);
  } catch (error) {
    throw new DevhostError('invalid_host_json', `${path} is not valid JSON`, { cause: error });
  }
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined || value === null || value === undefined) continue;
    env[name] = String(value);
    applied.push(name);
  }
  return applied;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function positive(value: unknown, name: string): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new DevhostError('invalid_host_json', `host.json durableTask.${name} must be a positive integer`);
}

function positiveOr(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new DevhostError('invalid_host_json', `host.json extensions.${name} must be a positive integer`);
}

/** A host.json TimeSpan ("00:05:00", "1.00:00:00") in milliseconds. */
function timeSpanMs(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const match = typeof value === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(value) : null;
  if (match === null) {
    throw new DevhostError(
      'invalid_host_json',
      `host.json extensions.serviceBus.maxAutoLockRenewalDuration must be a TimeSpan such as "00:05:00"`,
    );
  }
  const [, days, hours, minutes, seconds] = match;
  return (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}

/** The task hub name, refusing one that still names an unset setting. */
export function requireHubName(config: HostConfig): string {
  const hubName = config.durableTask.hubName;
  if (/%[^%]+%/.test(hubName)) {
    throw new DevhostError(
      'invalid_host_json',
      `host.json durableTask.hubName "${hubName}" names a setting that is not set`,
    );
  }
  return hubName;
}
