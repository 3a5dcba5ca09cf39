/**
 * The parts of `host.json` and `local.settings.json` devhost honours, read as the Functions host and
 * Core Tools read them:
 *
 * - `extensions.http.routePrefix` (default "api"; "" puts routes at the root);
 * - `extensions.durableTask.hubName` (with `%SETTING%` expanded from the environment; an unset
 *   setting is left as is and refused by `requireHubName`, i.e. only when durable support is wired) and
 *   `maxConcurrentActivityFunctions` / `maxConcurrentOrchestratorFunctions` (defaults as the
 *   extension's on a single small instance: 10 and 10), and orchestration versioning:
 *   `defaultVersion` (a string; null or absent: none), `versionMatchStrategy` (None | Strict |
 *   CurrentOrOlder, default CurrentOrOlder) and `versionFailureStrategy` (Reject | Fail, default
 *   Reject), names matched ignoring case as the extension does;
 * - `extensions.serviceBus`: `maxConcurrentCalls`, `maxMessageBatchSize`, `maxAutoLockRenewalDuration`
 *   and `clientRetryOptions` (`mode` Exponential | Fixed, `tryTimeout`, `delay`, `maxDelay` as
 *   TimeSpans, `maxRetries`; defaults and limits as the Service Bus SDK's retry options: exponential,
 *   0.8 s delay, 1 min max delay, 3 retries, 1 min try timeout);
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
    readonly clientRetryOptions: ServiceBusClientRetryOptions;
  };
  readonly durableTask: {
    readonly hubName: string;
    readonly maxConcurrentActivityFunctions: number;
    readonly maxConcurrentOrchestratorFunctions: number;
    /** The version new orchestrations get, and the one this host runs; none when absent. */
    readonly defaultVersion?: string;
    readonly versionMatchStrategy: (typeof VERSION_MATCH_STRATEGIES)[number];
    readonly versionFailureStrategy: (typeof VERSION_FAILURE_STRATEGIES)[number];
  };
}

/** host.json `extensions.serviceBus.clientRetryOptions`, times in milliseconds. */
export interface ServiceBusClientRetryOptions {
  readonly mode: 'exponential' | 'fixed';
  readonly tryTimeoutMs: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetries: number;
}

/** The Service Bus SDK's `ServiceBusRetryOptions` defaults, which the extension keeps. */
export const DEFAULT_CLIENT_RETRY_OPTIONS: ServiceBusClientRetryOptions = Object.freeze({
  mode: 'exponential',
  tryTimeoutMs: 60_000,
  delayMs: 800,
  maxDelayMs: 60_000,
  maxRetries: 3,
});

const VERSION_MATCH_STRATEGIES = ['None', 'Strict', 'CurrentOrOlder'] as const;
const VERSION_FAILURE_STRATEGIES = ['Reject', 'Fail'] as const;

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
      maxAutoLockRenewalDurationMs: timeSpanMs(
        serviceBus.maxAutoLockRenewalDuration,
        5 * 60_000,
        'serviceBus.maxAutoLockRenewalDuration',
      ),
      clientRetryOptions: clientRetryOptionsOf(serviceBus.clientRetryOptions),
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
      ...versionOf(durable.defaultVersion),
      versionMatchStrategy: oneOf(
        durable.versionMatchStrategy,
        VERSION_MATCH_STRATEGIES,
        'CurrentOrOlder',
        'versionMatchStrategy',
      ),
      versionFailureStrategy: oneOf(
        durable.versionFailureStrategy,
        VERSION_FAILURE_STRATEGIES,
        'Reject',
        'versionFailureStrategy',
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

/** `defaultVersion`: a string (a number is taken as its text); null or absent is no version. */
function versionOf(value: unknown): { defaultVersion?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') return value === '' ? {} : { defaultVersion: value };
  if (typeof value === 'number' && Number.isFinite(value)) return { defaultVersion: String(value) };
  throw new DevhostError(
    'invalid_host_json',
    'host.json durableTask.defaultVersion must be a string such as "1.0"',
  );
}

/** One of `allowed`, matched ignoring case; `fallback` when absent. */
function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined || value === null) return fallback;
  const found = allowed.find((a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase());
  if (found !== undefined) return found;
  throw new DevhostError(
    'invalid_host_json',
    `host.json durableTask.${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
  );
}

function positiveOr(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new DevhostError('invalid_host_json', `host.json extensions.${name} must be a positive integer`);
}

/**
 * A host.json TimeSpan ("00:05:00", "1.00:00:00", "00:00:00.800") in milliseconds; `name` is the
 * property under `extensions` that an error names.
 */
function timeSpanMs(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const match =
    typeof value === 'string'
      ? /^(?:(\d+)\.)?(\d{1,2}):([0-5]\d):([0-5]\d)(?:\.(\d{1,7}))?$/.exec(value.trim())
      : null;
  if (match === null) {
    throw new DevhostError(
      'invalid_host_json',
      `host.json extensions.${name} must be a TimeSpan such as "00:05:00" or "00:00:00.800" (got ${JSON.stringify(value)})`,
    );
  }
  const [, days, hours, minutes, seconds, fraction] = match;
  const wholeSeconds =
    ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return Math.round((wholeSeconds + Number(`0.${fraction ?? '0'}`)) * 1000);
}

const MAX_RETRY_DELAY_MS = 5 * 60_000;
const MAX_TRY_TIMEOUT_MS = 60 * 60_000;

/**
 * `clientRetryOptions`, each property optional, checked against the SDK's limits: maxRetries 0-100,
 * delay 1 ms-5 min, maxDelay not below delay, tryTimeout above zero and at most 1 hour.
 */
function clientRetryOptionsOf(value: unknown): ServiceBusClientRetryOptions {
  const where = 'serviceBus.clientRetryOptions';
  if (value === undefined || value === null) return DEFAULT_CLIENT_RETRY_OPTIONS;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DevhostError('invalid_host_json', `host.json extensions.${where} must be an object`);
  }
  const options = value as Record<string, unknown>;
  const defaults = DEFAULT_CLIENT_RETRY_OPTIONS;
  const mode = options.mode === undefined ? defaults.mode : retryModeOf(options.mode, `${where}.mode`);
  const maxRetries = options.maxRetries === undefined ? defaults.maxRetries : options.maxRetries;
  if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 100) {
    throw new DevhostError(
      'invalid_host_json',
      `host.json extensions.${where}.maxRetries must be an integer from 0 to 100 (got ${JSON.stringify(maxRetries)})`,
    );
  }
  const delayMs = timeSpanMs(options.delay, defaults.delayMs, `${where}.delay`);
  const maxDelayMs = timeSpanMs(options.maxDelay, defaults.maxDelayMs, `${where}.maxDelay`);
  const tryTimeoutMs = timeSpanMs(options.tryTimeout, defaults.tryTimeoutMs, `${where}.tryTimeout`);
  const refuse = (message: string): never => {
    throw new DevhostError('invalid_host_json', `host.json extensions.${where}.${message}`);
  };
  if (delayMs < 1 || delayMs > MAX_RETRY_DELAY_MS) refuse('delay must be from 1 ms to 00:05:00');
  if (maxDelayMs < delayMs) refuse('maxDelay must not be shorter than delay');
  if (tryTimeoutMs <= 0 || tryTimeoutMs > MAX_TRY_TIMEOUT_MS)
    refuse('tryTimeout must be longer than zero and at most 01:00:00');
  return { mode, tryTimeoutMs, delayMs, maxDelayMs, maxRetries };
}

function retryModeOf(value: unknown, name: string): ServiceBusClientRetryOptions['mode'] {
  if (typeof value === 'string') {
    const mode = value.toLowerCase();
    if (mode === 'exponential' || mode === 'fixed') return mode;
  }
  throw new DevhostError(
    'invalid_host_json',
    `host.json extensions.${name} must be Exponential or Fixed (got ${JSON.stringify(value)})`,
  );
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
