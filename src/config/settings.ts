/**
 * Settings: the only place that reads process.env. Parsed once with zod; every problem is reported
 * at once, naming the variable (SettingsError). The result is frozen and handed to the composition root.
 *
 * Names keep the previous system's `LUCIUS_` variables where they still mean something, plus the
 * Azure ones (`AzureWebJobsStorage`, `ServiceBusConnection`, identity-based `__` forms).
 */
import { z } from 'zod';
import { SettingsError, type SettingProblem } from './errors';

export type StorageBackend = 'memory' | 'table' | 'ledger';

/** How to reach Table Storage: a connection string, or an endpoint reached with a managed identity. */
export type TableConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: string; readonly source: string }
  | {
      readonly kind: 'identity';
      readonly endpoint: string;
      readonly clientId?: string;
      readonly source: string;
    };

export type ServiceBusConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: string }
  | { readonly kind: 'identity'; readonly fullyQualifiedNamespace: string; readonly clientId?: string };

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
    /** Waits before retries, in ms: after a failed publish, and after ACK/lease/result failures. */
    readonly backoff: { readonly dispatch: readonly number[]; readonly reply: readonly number[] };
  };
  readonly serviceBus: {
    readonly connection?: ServiceBusConnection;
    readonly topicPrefix: string;
    readonly replyPrefix: string;
    readonly replySubscription: string;
    /** Where replies that cannot be processed (invalid, unknown job) are parked with their reason. */
    readonly quarantineQueue: string;
  };
  /** Reconciliation: the sweeper timers, their graces, job deadlines and retention. */
  readonly sweep: SweepSettings;
  readonly taskHub: string;
  /**
   * The Durable Functions HTTP API (`{base}/runtime/webhooks/durabletask`) and its system key, for
   * processes outside Functions (the `lucius` CLI) that have no durable client binding.
   */
  readonly durableApi?: { readonly url: string; readonly key?: string };
  /** Path of the protocol registry; the bundled `schemas/protocols.v1.json` when absent. */
  readonly protocolRegistryPath?: string;
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

type Env = Readonly<Record<string, string | undefined>>;

const int = (min: number, max: number, fallback: number) =>
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

const schema = z.object({
  LUCIUS_STORAGE_BACKEND: z.preprocess(
    (v) => (v === undefined || v === '' ? 'table' : v),
    z.enum(['memory', 'table', 'ledger'], { error: 'must be one of memory, table, ledger' }),
  ),
  LUCIUS_TABLE_CONNECTION: optional,
  AzureWebJobsStorage: optional,
  AzureWebJobsStorage__tableServiceUri: optional,
  AzureWebJobsStorage__accountName: optional,
  AzureWebJobsStorage__clientId: optional,
  LUCIUS_TABLE_JOBS: text('LuciusJobs', TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_STEPS: text('LuciusSteps', TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_IDEMPOTENCY: text('LuciusIdempotency', TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_JOB_INDEX: text('LuciusJobIndex', TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_INFLIGHT: text('LuciusInflight', TABLE_NAME, TABLE_HINT),
  LUCIUS_TABLE_LEDGER: text('LuciusLedger', TABLE_NAME, TABLE_HINT),
  LUCIUS_MAX_INFLIGHT_PER_TENANT: int(1, 1_000_000, 100),
  LUCIUS_IDEMPOTENCY_TTL_HOURS: int(1, 24 * 365, 24),
  LUCIUS_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024, 256 * 1024),
  LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS: int(1, 3600, 5),
  LUCIUS_LANE_COUNT: int(1, 64, 16),
  LUCIUS_MAX_ATTEMPTS: int(1, 100, 3),
  LUCIUS_ACK_TIMEOUT_SECONDS: int(1, 86_400, 30),
  LUCIUS_DISPATCH_BACKOFF_SECONDS: secondsList('30,120,600'),
  LUCIUS_REPLY_BACKOFF_SECONDS: secondsList('60,300,900'),
  LUCIUS_LEASE_MINUTES: int(1, 24 * 60, 15),
  LUCIUS_STEP_RESULT_TIMEOUT_SECONDS: int(1, 7 * 86_400, 900),
  ServiceBusConnection: optional,
  ServiceBusConnection__fullyQualifiedNamespace: optional,
  ServiceBusConnection__clientId: optional,
  LUCIUS_SERVICEBUS_TOPIC_PREFIX: text('global-bus-p', ENTITY_NAME, ENTITY_HINT),
  LUCIUS_SERVICEBUS_REPLY_PREFIX: text('global-bus-replies-p', ENTITY_NAME, ENTITY_HINT),
  LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: text('lucius-invoker', ENTITY_NAME, ENTITY_HINT),
  LUCIUS_SERVICEBUS_QUARANTINE_QUEUE: text('lucius-quarantine', ENTITY_NAME, ENTITY_HINT),
  LUCIUS_DRIFT_SWEEP_SCHEDULE: text('15 * * * * *', NCRONTAB, NCRONTAB_HINT),
  LUCIUS_LEASE_SWEEP_SCHEDULE: text('*/30 * * * * *', NCRONTAB, NCRONTAB_HINT),
  LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS: int(1, 86_400, 60),
  LUCIUS_SWEEP_TIMER_GRACE_SECONDS: int(0, 86_400, 60),
  LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS: int(1, 86_400, 60),
  LUCIUS_SWEEP_RECHECK_SECONDS: int(1, 86_400, 300),
  LUCIUS_SWEEP_BATCH_SIZE: int(1, 1000, 100),
  LUCIUS_MAX_ORCHESTRATION_RESTARTS: int(0, 100, 3),
  LUCIUS_JOB_TIMEOUT_SECONDS: int(1, 30 * 86_400, 3600),
  LUCIUS_MAX_JOB_TIMEOUT_SECONDS: int(1, 30 * 86_400, 7 * 86_400),
  LUCIUS_RETENTION_DAYS: int(1, 3650, 30),
  LUCIUS_SHARD_LEASE_SECONDS: int(5, 3600, 30),
  LUCIUS_TABLE_SWEEP: text('LuciusSweep', TABLE_NAME, TABLE_HINT),
  LUCIUS_TASK_HUB: text(
    'Lucius',
    /^[A-Za-z][A-Za-z0-9]{2,44}$/,
    'must be a letter then letters or digits, 3-45 characters',
  ),
  LUCIUS_PROTOCOL_REGISTRY_PATH: optional,
  LUCIUS_DURABLE_API_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ),
  LUCIUS_DURABLE_API_KEY: optional,
});

type Parsed = z.infer<typeof schema>;

/** The storage connection variables alone: plain optional strings, so reading them never fails. */
const connectionSchema = schema.pick({
  LUCIUS_TABLE_CONNECTION: true,
  AzureWebJobsStorage: true,
  AzureWebJobsStorage__tableServiceUri: true,
  AzureWebJobsStorage__accountName: true,
  AzureWebJobsStorage__clientId: true,
});
type ConnectionVariables = z.infer<typeof connectionSchema>;

function isConnectionString(value: string): boolean {
  return (
    value === 'UseDevelopmentStorage=true' ||
    /(^|;)\s*(AccountName|TableEndpoint|DefaultEndpointsProtocol)\s*=/i.test(value)
  );
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function resolveTableConnection(
  p: ConnectionVariables,
  problems: SettingProblem[],
): TableConnection | undefined {
  const clientId = p.AzureWebJobsStorage__clientId;
  const explicit = p.LUCIUS_TABLE_CONNECTION;
  if (explicit !== undefined) {
    if (isConnectionString(explicit))
      return { kind: 'connection-string', connectionString: explicit, source: 'LUCIUS_TABLE_CONNECTION' };
    if (isHttpsUrl(explicit))
      return {
        kind: 'identity',
        endpoint: explicit,
        ...(clientId ? { clientId } : {}),
        source: 'LUCIUS_TABLE_CONNECTION',
      };
    problems.push({
      variable: 'LUCIUS_TABLE_CONNECTION',
      message: 'must be a storage connection string or the https URL of a table endpoint',
    });
    return undefined;
  }
  if (p.AzureWebJobsStorage !== undefined) {
    if (isConnectionString(p.AzureWebJobsStorage)) {
      return {
        kind: 'connection-string',
        connectionString: p.AzureWebJobsStorage,
        source: 'AzureWebJobsStorage',
      };
    }
    problems.push({ variable: 'AzureWebJobsStorage', message: 'is not a storage connection string' });
    return undefined;
  }
  if (p.AzureWebJobsStorage__tableServiceUri !== undefined) {
    if (isHttpsUrl(p.AzureWebJobsStorage__tableServiceUri)) {
      return {
        kind: 'identity',
        endpoint: p.AzureWebJobsStorage__tableServiceUri,
        ...(clientId ? { clientId } : {}),
        source: 'AzureWebJobsStorage__tableServiceUri',
      };
    }
    problems.push({ variable: 'AzureWebJobsStorage__tableServiceUri', message: 'must be an https URL' });
    return undefined;
  }
  if (p.AzureWebJobsStorage__accountName !== undefined) {
    if (/^[a-z0-9]{3,24}$/.test(p.AzureWebJobsStorage__accountName)) {
      return {
        kind: 'identity',
        endpoint: `https://${p.AzureWebJobsStorage__accountName}.table.core.windows.net`,
        ...(clientId ? { clientId } : {}),
        source: 'AzureWebJobsStorage__accountName',
      };
    }
    problems.push({
      variable: 'AzureWebJobsStorage__accountName',
      message: 'must be a storage account name (3-24 lowercase letters or digits)',
    });
    return undefined;
  }
  return undefined;
}

function resolveServiceBus(p: Parsed): ServiceBusConnection | undefined {
  if (p.ServiceBusConnection !== undefined)
    return { kind: 'connection-string', connectionString: p.ServiceBusConnection };
  if (p.ServiceBusConnection__fullyQualifiedNamespace !== undefined) {
    return {
      kind: 'identity',
      fullyQualifiedNamespace: p.ServiceBusConnection__fullyQualifiedNamespace,
      ...(p.ServiceBusConnection__clientId ? { clientId: p.ServiceBusConnection__clientId } : {}),
    };
  }
  return undefined;
}

/** Parses settings from an environment; throws SettingsError naming every offending variable. */
export function parseSettings(env: Env): Settings {
  const result = schema.safeParse(env);
  const problems: SettingProblem[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '(settings)');
      const got = env[variable];
      problems.push({ variable, message: `${issue.message}${got === undefined ? '' : ` (got "${got}")`}` });
    }
  }
  // The connection is checked even when other variables are bad, so one message names them all.
  const connections = connectionSchema.parse(env);
  const backend = result.success ? result.data.LUCIUS_STORAGE_BACKEND : env.LUCIUS_STORAGE_BACKEND || 'table';
  const connectionProblems: SettingProblem[] = [];
  const connection = resolveTableConnection(connections, connectionProblems);
  if (backend !== 'memory' && connection === undefined && connectionProblems.length === 0) {
    connectionProblems.push({
      variable: 'LUCIUS_TABLE_CONNECTION',
      message: `is required for LUCIUS_STORAGE_BACKEND=${backend} (or set AzureWebJobsStorage / AzureWebJobsStorage__accountName)`,
    });
  }
  problems.push(...connectionProblems);
  if (!result.success || problems.length > 0) throw new SettingsError(problems);
  const p = result.data;
  const serviceBus = resolveServiceBus(p);

  return deepFreeze({
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
      },
    },
    serviceBus: {
      ...(serviceBus === undefined ? {} : { connection: serviceBus }),
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
  });
}

/** Settings of this process (read once). */
export function settingsFromProcessEnv(): Settings {
  return parseSettings(process.env);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
