/**
 * Settings: the only place that reads process.env. Parsed once with zod; every problem is reported
 * at once, naming the variable (SettingsError). The result is frozen and handed to the composition root.
 *
 * Names and defaults come from the settings catalog (settings-catalog.ts). The previous system's
 * names are honoured (`LUCIUS_JOBS_TABLE` for `LUCIUS_TABLE_JOBS`, `LUCIUS_SERVICEBUS_CONNECTION` for
 * `ServiceBusConnection`, ...); an old and a new name that are both set and disagree is a problem
 * naming both. Connections follow the Azure Functions rules for connection settings: the setting's
 * value is a connection string (local use), or its `__fullyQualifiedNamespace` / `__tableServiceUri` /
 * `__accountName` properties name the endpoint and `__credential` / `__clientId` / ... say which
 * identity reaches it (credential-settings.ts).
 *
 * `loadSettings` also returns warnings (unknown or removed variables) for the caller to log;
 * `parseSettings` returns the settings alone. `loadAppSettings` is what the function app starts
 * with: the same, plus its authentication (`LUCIUS_AUTH_*`, whose default mode needs settings tools
 * never use), every problem of both named in one error.
 */
import { z } from 'zod';
import {
  connectionProperty,
  credentialClientId,
  hasCredentialProperties,
  readCredentialSettings,
  type AzureCredentialSettings,
} from './credential-settings';
import { SettingsError, type SettingProblem } from './errors';
import { catalogDefault, SETTINGS_CATALOG } from './settings-catalog';
import { settingsWarnings, type SettingWarning } from './settings-warnings';
import { parseAppAuthSettings, parseSecuritySettings, type SecuritySettings } from './security-settings';
import type { AuthSettings } from './auth-settings';
import type { Env } from './env';

export type { AzureCredentialSettings } from './credential-settings';
export type { SecuritySettings } from './security-settings';
export type { SettingWarning } from './settings-warnings';

export type StorageBackend = 'memory' | 'table' | 'ledger';

/**
 * How to reach Table Storage: a connection string, or an endpoint reached with an identity.
 * `source` names the variable that supplied it.
 */
export type TableConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: string; readonly source: string }
  | {
      readonly kind: 'identity';
      readonly endpoint: string;
      readonly credential: AzureCredentialSettings;
      /** The user-assigned identity's client id when the credential names one (same as in `credential`). */
      readonly clientId?: string;
      readonly source: string;
    };

export type ServiceBusConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly fullyQualifiedNamespace: string;
      readonly credential: AzureCredentialSettings;
      /** The user-assigned identity's client id when the credential names one (same as in `credential`). */
      readonly clientId?: string;
    };

export interface TableNames {
  readonly jobs: string;
  readonly steps: string;
  readonly idempotency: string;
  readonly jobIndex: string;
  readonly inflight: string;
  /** The sweeper's work lists (active jobs by shard, finished jobs by day) and its shard leases. */
  readonly sweep: string;
  /** The single table of the `ledger` backend. */
  readonly ledger: string;
}

export interface Settings {
  readonly storage: {
    readonly backend: StorageBackend;
    /** Absent only for the memory backend. */
    readonly connection?: TableConnection;
    readonly tables: TableNames;
  };
  readonly admission: {
    readonly maxInflightPerTenant: number;
    readonly idempotencyTtlHours: number;
    readonly maxBodyBytes: number;
    readonly backpressureRetryAfterSeconds: number;
    readonly laneCount: number;
  };
  readonly steps: {
    readonly maxAttempts: number;
    readonly ackTimeoutSeconds: number;
    readonly leaseMinutes: number;
    readonly stepResultTimeoutSeconds: number;
    /** Waits before retries, in ms: after a failed publish, after ACK/lease/result failures, after a directive nobody started. */
    readonly backoff: {
      readonly dispatch: readonly number[];
      readonly reply: readonly number[];
      readonly notStarted: readonly number[];
    };
    /** ACK timeouts (directives that expired unread) a drive retries without counting them as attempts. */
    readonly maxNotStarted: number;
    /** Directives outstanding at most per lane and step type; the rest wait in the ledger. */
    readonly maxOutstandingPerLane: number;
  };
  readonly serviceBus: {
    readonly connection?: ServiceBusConnection;
    /**
     * The connection setting the Service Bus triggers name (`connection:`): `ServiceBusConnection`,
     * or `LUCIUS_SERVICEBUS_CONNECTION` when only the previous system's name is set.
     */
    readonly connectionSetting: string;
    readonly topicPrefix: string;
    readonly replyPrefix: string;
    readonly replySubscription: string;
    /** Where replies that cannot be processed (invalid, unknown job) are parked with their reason. */
    readonly quarantineQueue: string;
  };
  /** Reconciliation: the sweeper timers, their graces, job deadlines and retention. */
  readonly sweep: SweepSettings;
  readonly taskHub: string;
  /** The readiness probe (`GET /api/healthz`). */
  readonly health: {
    /** Each dependency check's bound, in ms: a check that takes longer fails as `timeout`. */
    readonly timeoutMs: number;
  };
  /**
   * The Durable Functions HTTP API (`{base}/runtime/webhooks/durabletask`) and its system key, for
   * processes outside Functions (the `lucius` CLI) that have no durable client binding.
   */
  readonly durableApi?: { readonly url: string; readonly key?: string };
  /** Path of the protocol registry; the bundled `schemas/protocols.v1.json` when absent. */
  readonly protocolRegistryPath?: string;
  /** The HTTP edge: function-key gate, rate limits, CORS, HSTS, request limits, grants (security-settings.ts). */
  readonly security: SecuritySettings;
}

export interface SweepSettings {
  /** NCRONTAB (6 fields) of the `driftSweeper` timer: orchestrations and counters (default every 60 s, at second 15). */
  readonly driftSchedule: string;
  /** NCRONTAB (6 fields) of the `leaseSweeper` timer: step deadlines and dispatches (default every 30 s). */
  readonly leaseSchedule: string;
  /** An ACCEPTED job with no orchestration instance this long after admission is started. */
  readonly acceptGraceSeconds: number;
  /** A step deadline passed by more than this while its orchestration runs: the timer was lost. */
  readonly timerGraceSeconds: number;
  /** A step still DISPATCHING this long after its attempt was recorded: the publish never confirmed. */
  readonly dispatchGraceSeconds: number;
  /** An active job with nothing due is examined at least this often (finds lost orchestrations). */
  readonly recheckSeconds: number;
  /** At most this many due jobs are examined per shard per sweep. */
  readonly batchSize: number;
  /** Restarts of a lost orchestration before the job fails with ORCHESTRATION_LOST. */
  readonly maxOrchestrationRestarts: number;
  /** A job running longer than this fails with TIMEOUT (per-command override up to the maximum). */
  readonly jobTimeoutSeconds: number;
  readonly maxJobTimeoutSeconds: number;
  /** Finished jobs older than this are purged with everything they left. */
  readonly retentionDays: number;
  /** How long a `lucius loop` process owns a shard without renewing its lease. */
  readonly shardLeaseSeconds: number;
}

const int = (min: number, max: number, fallback: string) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? fallback : v),
    z.coerce
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );

const text = (fallback: string, pattern?: RegExp, hint?: string) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? fallback : v),
    pattern === undefined
      ? z.string().min(1)
      : z.string().regex(pattern, { error: hint ?? `must match ${pattern}` }),
  );

/** A comma-separated list of 1 to 10 waits in seconds (0..86400), e.g. `30,120,600`. */
const secondsList = (fallback: string) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? fallback : v),
    z
      .string()
      .regex(/^\s*\d{1,5}(\s*,\s*\d{1,5}){0,9}\s*$/, {
        error: 'must be 1 to 10 comma-separated whole numbers of seconds, e.g. 30,120,600',
      })
      .transform((text) => text.split(',').map((part) => Number(part.trim())))
      .refine((list) => list.every((n) => n <= 86_400), { error: 'each wait must be at most 86400 seconds' }),
  );

const optional = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const TABLE_HINT = 'must be a valid table name: a letter, then letters or digits, 3-63 characters';
const ENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/;
const ENTITY_HINT =
  'must be letters, digits, ".", "_" or "-", at most 41 characters (the lane number is appended)';

/** Six NCRONTAB fields (seconds first), as Azure Functions timers take them. */
const NCRONTAB = /^\s*\S+(\s+\S+){5}\s*$/;
const NCRONTAB_HINT = 'must be an NCRONTAB expression of 6 fields, seconds first, e.g. "*/30 * * * * *"';

const d = catalogDefault;

const schema = z.object({
  LUCIUS_STORAGE_BACKEND: z.preprocess(
    (v) => (v === undefined || v === '' ? d('LUCIUS_STORAGE_BACKEND') : v),
    z.enum(['memory', 'table', 'ledger'], { error: 'must be one of memory, table, ledger' }),
  ),
  LUCIUS_TABLE_JOBS: text(d('LUCIUS_TABLE_JOBS'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_STEPS: text(d('LUCIUS_TABLE_STEPS'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_IDEMPOTENCY: text(d('LUCIUS_TABLE_IDEMPOTENCY'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_JOB_INDEX: text(d('LUCIUS_TABLE_JOB_INDEX'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_INFLIGHT: text(d('LUCIUS_TABLE_INFLIGHT'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_LEDGER: text(d('LUCIUS_TABLE_LEDGER'), TABLE_NAME, TABLE_HINT),
  LUCIUS_MAX_INFLIGHT_PER_TENANT: int(1, 1_000_000, d('LUCIUS_MAX_INFLIGHT_PER_TENANT')),
  LUCIUS_IDEMPOTENCY_TTL_HOURS: int(1, 24 * 365, d('LUCIUS_IDEMPOTENCY_TTL_HOURS')),
  LUCIUS_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024, d('LUCIUS_MAX_BODY_BYTES')),
  LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: int(1, 3600, d('LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS')),
  LUCIUS_LANE_COUNT: int(1, 64, d('LUCIUS_LANE_COUNT')),
  LUCIUS_MAX_ATTEMPTS: int(1, 100, d('LUCIUS_MAX_ATTEMPTS')),
  LUCIUS_ACK_TIMEOUT_SECONDS: int(1, 86_400, d('LUCIUS_ACK_TIMEOUT_SECONDS')),
  LUCIUS_DISPATCH_BACKOFF_SECONDS: secondsList(d('LUCIUS_DISPATCH_BACKOFF_SECONDS')),
  LUCIUS_REPLY_BACKOFF_SECONDS: secondsList(d('LUCIUS_REPLY_BACKOFF_SECONDS')),
  LUCIUS_NOT_STARTED_BACKOFF_SECONDS: secondsList(d('LUCIUS_NOT_STARTED_BACKOFF_SECONDS')),
  LUCIUS_MAX_NOT_STARTED: int(0, 1000, d('LUCIUS_MAX_NOT_STARTED')),
  LUCIUS_MAX_OUTSTANDING_PER_LANE: int(1, 100_000, d('LUCIUS_MAX_OUTSTANDING_PER_LANE')),
  LUCIUS_LEASE_MINUTES: int(1, 24 * 60, d('LUCIUS_LEASE_MINUTES')),
  LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: int(1, 7 * 86_400, d('LUCIUS_STEP_RESULT_TIMEOUT_SECONDS')),
  LUCIUS_SERVICEBUS_TOPIC_PREFIX: text(d('LUCIUS_SERVICEBUS_TOPIC_PREFIX'), ENTITY_NAME, ENTITY_HINT),
  LUCIUS_SERVICEBUS_REPLY_PREFIX: text(d('LUCIUS_SERVICEBUS_REPLY_PREFIX'), ENTITY_NAME, ENTITY_HINT),
  LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: text(
    d('LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION'),
    ENTITY_NAME,
    ENTITY_HINT,
  ),
  LUCIUS_SERVICEBUS_QUARANTINE_QUEUE: text(d('LUCIUS_SERVICEBUS_QUARANTINE_QUEUE'), ENTITY_NAME, ENTITY_HINT),
  LUCIUS_DRIFT_SWEEP_SCHEDULE: text(d('LUCIUS_DRIFT_SWEEP_SCHEDULE'), NCRONTAB, NCRONTAB_HINT),
  LUCIUS_LEASE_SWEEP_SCHEDULE: text(d('LUCIUS_LEASE_SWEEP_SCHEDULE'), NCRONTAB, NCRONTAB_HINT),
  LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS: int(1, 86_400, d('LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS')),
  LUCIUS_SWEEP_TIMER_GRACE_SECONDS: int(0, 86_400, d('LUCIUS_SWEEP_TIMER_GRACE_SECONDS')),
  LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS: int(1, 86_400, d('LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS')),
  LUCIUS_SWEEP_RECHECK_SECONDS: int(1, 86_400, d('LUCIUS_SWEEP_RECHECK_SECONDS')),
  LUCIUS_SWEEP_BATCH_SIZE: int(1, 1000, d('LUCIUS_SWEEP_BATCH_SIZE')),
  LUCIUS_MAX_ORCHESTRATION_RESTARTS: int(0, 100, d('LUCIUS_MAX_ORCHESTRATION_RESTARTS')),
  LUCIUS_JOB_TIMEOUT_SECONDS: int(1, 30 * 86_400, d('LUCIUS_JOB_TIMEOUT_SECONDS')),
  LUCIUS_MAX_JOB_TIMEOUT_SECONDS: int(1, 30 * 86_400, d('LUCIUS_MAX_JOB_TIMEOUT_SECONDS')),
  LUCIUS_RETENTION_DAYS: int(1, 3650, d('LUCIUS_RETENTION_DAYS')),
  LUCIUS_SHARD_LEASE_SECONDS: int(5, 3600, d('LUCIUS_SHARD_LEASE_SECONDS')),
  LUCIUS_TABLE_SWEEP: text(d('LUCIUS_TABLE_SWEEP'), TABLE_NAME, TABLE_HINT),
  LUCIUS_TASK_HUB: text(
    d('LUCIUS_TASK_HUB'),
    /^[A-Za-z][A-Za-z0-9]{2,44}$/,
    'must be a letter then letters or digits, 3-45 characters',
  ),
  LUCIUS_HEALTH_TIMEOUT_MS: int(100, 30_000, d('LUCIUS_HEALTH_TIMEOUT_MS')),
  LUCIUS_PROTOCOL_REGISTRY_PATH: optional,
  LUCIUS_DURABLE_API_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ),
  LUCIUS_DURABLE_API_KEY: optional,
});

/** The variables the schema reads (the connection settings are read by the functions below). */
export const SCHEMA_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** The previous names of the variables the schema reads, e.g. LUCIUS_TABLE_JOBS → [LUCIUS_JOBS_TABLE]. */
const LEGACY_NAMES: ReadonlyMap<string, readonly string[]> = new Map(
  SETTINGS_CATALOG.filter((s) => s.legacyNames.length > 0 && SCHEMA_VARIABLES.includes(s.name)).map((s) => [
    s.name,
    s.legacyNames,
  ]),
);
const SECRETS = new Set(SETTINGS_CATALOG.filter((s) => s.secret === true).map((s) => s.name));

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/**
 * The environment with each previous-system name copied to its current name, and which variable
 * each current name was read from. An old and a new name both set to different values is a problem.
 */
function applyLegacyNames(
  env: Env,
  problems: SettingProblem[],
): { readonly env: Env; readonly origin: ReadonlyMap<string, string> } {
  const resolved: Record<string, string | undefined> = { ...env };
  const origin = new Map<string, string>();
  for (const [name, legacyNames] of LEGACY_NAMES) {
    const set = [name, ...legacyNames].filter((n) => value(env, n) !== undefined);
    const [first] = set;
    if (first === undefined) continue;
    const disagreeing = set.filter((n) => value(env, n)?.trim() !== value(env, first)?.trim());
    if (disagreeing.length > 0) {
      problems.push(conflict(set, (n) => (SECRETS.has(name) ? undefined : value(env, n))));
      continue;
    }
    resolved[name] = env[first];
    origin.set(name, first);
  }
  return { env: resolved, origin };
}

function conflict(names: readonly string[], shown: (name: string) => string | undefined): SettingProblem {
  const [current, ...previous] = names;
  const values = names.map((n) => shown(n));
  const detail = values.every((v) => v !== undefined)
    ? ` (${names.map((n, i) => `${n}="${values[i]}"`).join(', ')})`
    : '';
  return {
    variable: String(current),
    message: `disagrees with ${previous.join(', ')}, its previous name${detail}: set one of them`,
  };
}

/** Parses settings from an environment; throws SettingsError naming every offending variable. */
export function parseSettings(env: Env): Settings {
  return loadSettings(env).settings;
}

/** The settings, with warnings about variables that are ignored (the caller logs them). */
export interface LoadedSettings {
  readonly settings: Settings;
  readonly warnings: readonly SettingWarning[];
}

/**
 * Parses settings from an environment and lists the variables it ignores (unknown or removed
 * `LUCIUS_*` names, unknown connection properties). Throws SettingsError naming every offending variable.
 */
export function loadSettings(env: Env): LoadedSettings {
  const problems: SettingProblem[] = [];
  const legacy = applyLegacyNames(env, problems);
  const result = schema.safeParse(legacy.env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(settings)');
      const variable = legacy.origin.get(key) ?? key;
      const got = env[variable];
      problems.push({ variable, message: `${issue.message}${got === undefined ? '' : ` (got "${got}")`}` });
    }
  }
  // The connections are checked even when other variables are bad, so one message names them all.
  const backend = result.success ? result.data.LUCIUS_STORAGE_BACKEND : env.LUCIUS_STORAGE_BACKEND || 'table';
  const connectionProblems: SettingProblem[] = [];
  const connection = resolveTableConnection(env, connectionProblems);
  if (backend !== 'memory' && connection === undefined && connectionProblems.length === 0) {
    connectionProblems.push({
      variable: 'LUCIUS_TABLE_CONNECTION',
      message: `is required for LUCIUS_STORAGE_BACKEND=${backend} (or set AzureWebJobsStorage, AzureWebJobsStorage__tableServiceUri or AzureWebJobsStorage__accountName)`,
    });
  }
  problems.push(...connectionProblems);
  const serviceBus = resolveServiceBus(env, problems);
  const security = collect(() => parseSecuritySettings(env), problems);
  if (!result.success || problems.length > 0 || security === undefined) throw new SettingsError(problems);
  const p = result.data;

  const settings: Settings = deepFreeze({
    storage: {
      backend: p.LUCIUS_STORAGE_BACKEND,
      ...(connection === undefined ? {} : { connection }),
      tables: {
        jobs: p.LUCIUS_TABLE_JOBS,
        steps: p.LUCIUS_TABLE_STEPS,
        idempotency: p.LUCIUS_TABLE_IDEMPOTENCY,
        jobIndex: p.LUCIUS_TABLE_JOB_INDEX,
        inflight: p.LUCIUS_TABLE_INFLIGHT,
        sweep: p.LUCIUS_TABLE_SWEEP,
        ledger: p.LUCIUS_TABLE_LEDGER,
      },
    },
    admission: {
      maxInflightPerTenant: p.LUCIUS_MAX_INFLIGHT_PER_TENANT,
      idempotencyTtlHours: p.LUCIUS_IDEMPOTENCY_TTL_HOURS,
      maxBodyBytes: p.LUCIUS_MAX_BODY_BYTES,
      backpressureRetryAfterSeconds: p.LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS,
      laneCount: p.LUCIUS_LANE_COUNT,
    },
    steps: {
      maxAttempts: p.LUCIUS_MAX_ATTEMPTS,
      ackTimeoutSeconds: p.LUCIUS_ACK_TIMEOUT_SECONDS,
      leaseMinutes: p.LUCIUS_LEASE_MINUTES,
      stepResultTimeoutSeconds: p.LUCIUS_STEP_RESULT_TIMEOUT_SECONDS,
      backoff: {
        dispatch: p.LUCIUS_DISPATCH_BACKOFF_SECONDS.map((seconds) => seconds * 1000),
        reply: p.LUCIUS_REPLY_BACKOFF_SECONDS.map((seconds) => seconds * 1000),
        notStarted: p.LUCIUS_NOT_STARTED_BACKOFF_SECONDS.map((seconds) => seconds * 1000),
      },
      maxNotStarted: p.LUCIUS_MAX_NOT_STARTED,
      maxOutstandingPerLane: p.LUCIUS_MAX_OUTSTANDING_PER_LANE,
    },
    serviceBus: {
      ...(serviceBus.connection === undefined ? {} : { connection: serviceBus.connection }),
      connectionSetting: serviceBus.setting,
      topicPrefix: p.LUCIUS_SERVICEBUS_TOPIC_PREFIX,
      replyPrefix: p.LUCIUS_SERVICEBUS_REPLY_PREFIX,
      replySubscription: p.LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION,
      quarantineQueue: p.LUCIUS_SERVICEBUS_QUARANTINE_QUEUE,
    },
    sweep: {
      driftSchedule: p.LUCIUS_DRIFT_SWEEP_SCHEDULE.trim(),
      leaseSchedule: p.LUCIUS_LEASE_SWEEP_SCHEDULE.trim(),
      acceptGraceSeconds: p.LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS,
      timerGraceSeconds: p.LUCIUS_SWEEP_TIMER_GRACE_SECONDS,
      dispatchGraceSeconds: p.LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS,
      recheckSeconds: p.LUCIUS_SWEEP_RECHECK_SECONDS,
      batchSize: p.LUCIUS_SWEEP_BATCH_SIZE,
      maxOrchestrationRestarts: p.LUCIUS_MAX_ORCHESTRATION_RESTARTS,
      jobTimeoutSeconds: p.LUCIUS_JOB_TIMEOUT_SECONDS,
      maxJobTimeoutSeconds: p.LUCIUS_MAX_JOB_TIMEOUT_SECONDS,
      retentionDays: p.LUCIUS_RETENTION_DAYS,
      shardLeaseSeconds: p.LUCIUS_SHARD_LEASE_SECONDS,
    },
    taskHub: p.LUCIUS_TASK_HUB,
    health: { timeoutMs: p.LUCIUS_HEALTH_TIMEOUT_MS },
    ...(p.LUCIUS_DURABLE_API_URL === undefined
      ? {}
      : {
          durableApi: {
            url: p.LUCIUS_DURABLE_API_URL.replace(/\/+$/, ''),
            ...(p.LUCIUS_DURABLE_API_KEY === undefined ? {} : { key: p.LUCIUS_DURABLE_API_KEY }),
          },
        }),
    ...(p.LUCIUS_PROTOCOL_REGISTRY_PATH === undefined
      ? {}
      : { protocolRegistryPath: p.LUCIUS_PROTOCOL_REGISTRY_PATH }),
    security,
  });
  return { settings, warnings: settingsWarnings(env) };
}

/** The function app's settings: `Settings`, its authentication, and every start-up warning. */
export interface LoadedAppSettings extends LoadedSettings {
  readonly auth: AuthSettings;
}

/**
 * The settings the function app starts with: `loadSettings` and the `LUCIUS_AUTH_*` settings
 * (auth-settings.ts), with every problem of both named in one SettingsError, and the auth mode's
 * warnings (`none`, `dev`) among the warnings logged at every start.
 */
export function loadAppSettings(env: Env): LoadedAppSettings {
  const problems: SettingProblem[] = [];
  const loaded = collect(() => loadSettings(env), problems);
  const auth = collect(() => parseAppAuthSettings(env), problems);
  if (loaded === undefined || auth === undefined) throw new SettingsError(problems);
  return { ...loaded, auth: auth.auth, warnings: [...auth.warnings, ...loaded.warnings] };
}

/** Runs a parser, moving the problems of its SettingsError into `problems` (undefined then). */
function collect<T>(parse: () => T, problems: SettingProblem[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}

function isConnectionString(value: string): boolean {
  return (
    value === 'UseDevelopmentStorage=true' ||
    /(^|;)\s*(AccountName|TableEndpoint|DefaultEndpointsProtocol)\s*=/i.test(value)
  );
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The storage connection settings, in the order they are honoured. */
const TABLE_PREFIXES = ['LUCIUS_TABLE_CONNECTION', 'AzureWebJobsStorage'] as const;

/**
 * The ledger's Table Storage: LUCIUS_TABLE_CONNECTION in any of its forms, else the host's storage
 * (AzureWebJobsStorage). Each is a connection string, or an identity-based connection whose endpoint
 * is `__tableServiceUri` or derived from `__accountName` (or, for LUCIUS_TABLE_CONNECTION, its value
 * as an https URL). An identity-based LUCIUS_TABLE_CONNECTION without credential properties of its
 * own uses AzureWebJobsStorage's, so one identity serves both.
 */
function resolveTableConnection(env: Env, problems: SettingProblem[]): TableConnection | undefined {
  for (const prefix of TABLE_PREFIXES) {
    const found = readTableConnection(env, prefix, problems);
    if (found !== 'unset') return found;
  }
  return undefined;
}

function readTableConnection(
  env: Env,
  prefix: (typeof TABLE_PREFIXES)[number],
  problems: SettingProblem[],
): TableConnection | undefined | 'unset' {
  const identity = (endpoint: string, source: string): TableConnection | undefined => {
    const credentialPrefix =
      prefix === 'LUCIUS_TABLE_CONNECTION' &&
      !hasCredentialProperties(env, prefix) &&
      hasCredentialProperties(env, 'AzureWebJobsStorage')
        ? 'AzureWebJobsStorage'
        : prefix;
    const credential = readCredentialSettings(env, credentialPrefix, problems);
    if (credential === undefined) return undefined;
    const clientId = credentialClientId(credential);
    return {
      kind: 'identity',
      endpoint,
      credential,
      ...(clientId === undefined ? {} : { clientId }),
      source,
    };
  };
  const direct = value(env, prefix)?.trim();
  if (direct !== undefined) {
    if (isConnectionString(direct))
      return { kind: 'connection-string', connectionString: direct, source: prefix };
    if (prefix === 'LUCIUS_TABLE_CONNECTION' && isHttpUrl(direct)) return identity(direct, prefix);
    problems.push({
      variable: prefix,
      message:
        prefix === 'LUCIUS_TABLE_CONNECTION'
          ? 'must be a storage connection string or the https URL of a table endpoint'
          : 'is not a storage connection string',
    });
    return undefined;
  }
  const tableServiceUri = connectionProperty(env, prefix, 'tableServiceUri');
  if (tableServiceUri !== undefined) {
    if (isHttpUrl(tableServiceUri)) return identity(tableServiceUri, `${prefix}__tableServiceUri`);
    problems.push({ variable: `${prefix}__tableServiceUri`, message: 'must be an https URL' });
    return undefined;
  }
  const accountName = connectionProperty(env, prefix, 'accountName');
  if (accountName !== undefined) {
    if (/^[a-z0-9]{3,24}$/.test(accountName))
      return identity(`https://${accountName}.table.core.windows.net`, `${prefix}__accountName`);
    problems.push({
      variable: `${prefix}__accountName`,
      message: 'must be a storage account name (3-24 lowercase letters or digits)',
    });
    return undefined;
  }
  if (prefix === 'LUCIUS_TABLE_CONNECTION' && hasCredentialProperties(env, prefix)) {
    problems.push({
      variable: prefix,
      message: `has credential properties but no endpoint: set ${prefix}__tableServiceUri or ${prefix}__accountName`,
    });
    return undefined;
  }
  return 'unset';
}

const SERVICE_BUS_SETTING = 'ServiceBusConnection';
const LEGACY_SERVICE_BUS_SETTING = 'LUCIUS_SERVICEBUS_CONNECTION';
const NAMESPACE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;

/**
 * Service Bus: `ServiceBusConnection` (a connection string, or `__fullyQualifiedNamespace` with an
 * identity), or the previous system's `LUCIUS_SERVICEBUS_CONNECTION` in the same forms. Both set to
 * different connections is a problem naming both. `setting` is the one the triggers must name.
 */
function resolveServiceBus(
  env: Env,
  problems: SettingProblem[],
): { readonly connection?: ServiceBusConnection; readonly setting: string } {
  const current = readServiceBusConnection(env, SERVICE_BUS_SETTING, problems);
  const previous = readServiceBusConnection(env, LEGACY_SERVICE_BUS_SETTING, problems);
  if (current !== 'unset' && previous !== 'unset') {
    if (current !== undefined && previous !== undefined && !sameConnection(current, previous)) {
      problems.push({
        variable: SERVICE_BUS_SETTING,
        message: `disagrees with ${LEGACY_SERVICE_BUS_SETTING}, its previous name: set one of them (with its __ properties)`,
      });
    }
    return { ...(current === undefined ? {} : { connection: current }), setting: SERVICE_BUS_SETTING };
  }
  if (previous !== 'unset')
    return {
      ...(previous === undefined ? {} : { connection: previous }),
      setting: LEGACY_SERVICE_BUS_SETTING,
    };
  return {
    ...(current === 'unset' || current === undefined ? {} : { connection: current }),
    setting: SERVICE_BUS_SETTING,
  };
}

function readServiceBusConnection(
  env: Env,
  prefix: string,
  problems: SettingProblem[],
): ServiceBusConnection | undefined | 'unset' {
  const direct = value(env, prefix)?.trim();
  if (direct !== undefined) {
    if (/(^|;)\s*Endpoint\s*=/i.test(direct)) return { kind: 'connection-string', connectionString: direct };
    problems.push({
      variable: prefix,
      message: `must be a Service Bus connection string (Endpoint=sb://...); for an identity set ${prefix}__fullyQualifiedNamespace instead`,
    });
    return undefined;
  }
  const namespace = connectionProperty(env, prefix, 'fullyQualifiedNamespace');
  if (namespace !== undefined) {
    if (!NAMESPACE.test(namespace)) {
      problems.push({
        variable: `${prefix}__fullyQualifiedNamespace`,
        message: `must be the namespace's host name, e.g. lucius.servicebus.windows.net (got "${namespace}")`,
      });
      return undefined;
    }
    const credential = readCredentialSettings(env, prefix, problems);
    if (credential === undefined) return undefined;
    const clientId = credentialClientId(credential);
    return {
      kind: 'identity',
      fullyQualifiedNamespace: namespace,
      credential,
      ...(clientId === undefined ? {} : { clientId }),
    };
  }
  if (hasCredentialProperties(env, prefix)) {
    problems.push({
      variable: prefix,
      message: `has credential properties but no namespace: set ${prefix}__fullyQualifiedNamespace`,
    });
    return undefined;
  }
  return 'unset';
}

function sameConnection(a: ServiceBusConnection, b: ServiceBusConnection): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Settings of this process (read once). */
export function settingsFromProcessEnv(): Settings {
  return parseSettings(process.env);
}

/** Settings of this process with the warnings to log at start-up. */
export function loadSettingsFromProcessEnv(): LoadedSettings {
  return loadSettings(process.env);
}

/** The function app's settings of this process (with authentication) and the warnings to log. */
export function loadAppSettingsFromProcessEnv(): LoadedAppSettings {
  return loadAppSettings(process.env);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
