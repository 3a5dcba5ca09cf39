/**
 * Every setting Lucius reads, as data: its name, the previous system's names for it, what it
 * means, its default, and whether a production deployment must set it. The catalog is the source
 * of the defaults settings.ts applies, of the start-up warnings for unknown `LUCIUS_*` variables,
 * of the App Configuration key mapping, and of `infra/generated/app-settings.json` (`npm run generate`),
 * which the bicep loads.
 *
 * `production: 'required'` means the app cannot run in Azure without it (identity-based storage and
 * Service Bus connections, the task hub name that host.json reads); everything else has a working
 * default or is optional. `readBy` says who reads it: the app, the Functions host (from host.json or
 * its own storage), or only Lucius's tools (the `lucius` CLI, the demo workers, the tests).
 */

export interface SettingDefinition {
  readonly name: string;
  /** The previous system's names; honoured, and a start-up error when one disagrees with `name`. */
  readonly legacyNames: readonly string[];
  readonly description: string;
  /** The value used when the setting is unset (as the app setting would spell it). */
  readonly default?: string;
  readonly production: 'required' | 'optional';
  readonly readBy: 'app' | 'host' | 'tools';
  /** The Azure App Configuration key holding it (`Lucius:...`), when it can live there. */
  readonly appConfigurationKey?: string;
  /** A secret (connection strings, keys): never echoed in messages, kept out of App Configuration. */
  readonly secret?: boolean;
}

/** A family of settings that no longer exists, and what replaced it. */
export interface RemovedSetting {
  readonly prefix: string;
  readonly replacement: string;
}

const setting = (
  name: string,
  description: string,
  extra: Partial<Omit<SettingDefinition, 'name' | 'description'>> = {},
): SettingDefinition => ({
  name,
  legacyNames: [],
  description,
  production: 'optional',
  readBy: 'app',
  ...extra,
});

/** The identity-based forms of a connection setting, as the Functions runtime reads them. */
const identitySettings = (
  prefix: string,
  what: string,
  endpoints: readonly { readonly property: string; readonly description: string }[],
  extra: Partial<Omit<SettingDefinition, 'name' | 'description' | 'legacyNames'>> & {
    readonly legacyPrefix?: string;
    readonly keyPrefix?: string;
  } = {},
): SettingDefinition[] => {
  const { legacyPrefix, keyPrefix, ...rest } = extra;
  const entry = (property: string, description: string): SettingDefinition =>
    setting(`${prefix}__${property}`, description, {
      ...rest,
      legacyNames: legacyPrefix === undefined ? [] : [`${legacyPrefix}__${property}`],
      ...(keyPrefix === undefined ? {} : { appConfigurationKey: `${keyPrefix}:${property}` }),
    });
  return [
    ...endpoints.map((e) => entry(e.property, e.description)),
    entry(
      'credential',
      `${what} with an identity: \`managedidentity\` (production: the user-assigned identity of __clientId), \`workloadidentity\`, or unset for DefaultAzureCredential (also __tenantId, __clientSecret, __managedIdentityResourceId, __managedIdentityObjectId)`,
    ),
    entry('clientId', `the client id of the user-assigned managed identity that reaches ${what}`),
  ];
};

const TABLE_NAMES: readonly (readonly [string, string, string, string])[] = [
  ['LUCIUS_TABLE_JOBS', 'LUCIUS_JOBS_TABLE', 'LuciusJobs', 'jobs (table backend)'],
  ['LUCIUS_TABLE_STEPS', 'LUCIUS_STEPS_TABLE', 'LuciusSteps', 'steps (table backend)'],
  [
    'LUCIUS_TABLE_IDEMPOTENCY',
    'LUCIUS_IDEMPOTENCY_TABLE',
    'LuciusIdempotency',
    'idempotency records (table backend)',
  ],
  [
    'LUCIUS_TABLE_JOB_INDEX',
    'LUCIUS_JOB_INDEX_TABLE',
    'LuciusJobIndex',
    "a tenant's jobs, newest first (table backend)",
  ],
  ['LUCIUS_TABLE_INFLIGHT', 'LUCIUS_INFLIGHT_TABLE', 'LuciusInflight', 'in-flight counters (table backend)'],
  ['LUCIUS_TABLE_LEDGER', 'LUCIUS_LEDGER_TABLE', 'LuciusLedger', 'the single table of the ledger backend'],
];

const STORAGE_ENDPOINTS = (forWhat: string) => [
  {
    property: 'tableServiceUri',
    description: `${forWhat}: the table endpoint, https://<account>.table.core.windows.net`,
  },
  {
    property: 'accountName',
    description: `${forWhat}: the storage account name (its table endpoint is derived)`,
  },
];

export const SETTINGS_CATALOG: readonly SettingDefinition[] = [
  // Storage: the ledger, and the Functions host's own storage (which also holds the durable task hub).
  setting('LUCIUS_STORAGE_BACKEND', 'ledger backend: memory, table (separate tables) or ledger (one table)', {
    default: 'table',
    appConfigurationKey: 'Lucius:Storage:Backend',
  }),
  setting(
    'LUCIUS_TABLE_CONNECTION',
    "the ledger's Table Storage: a connection string (local), or the https table endpoint reached with an identity; AzureWebJobsStorage's storage when unset",
    { secret: true, appConfigurationKey: 'Lucius:Storage:TableConnection' },
  ),
  ...identitySettings('LUCIUS_TABLE_CONNECTION', "the ledger's Table Storage", STORAGE_ENDPOINTS('ledger'), {
    keyPrefix: 'Lucius:Storage:TableConnection',
  }),
  setting(
    'AzureWebJobsStorage',
    "the Functions host's storage as a connection string (local only; Azurite: UseDevelopmentStorage=true); also the ledger's when LUCIUS_TABLE_CONNECTION is unset",
    { secret: true },
  ),
  setting(
    'AzureWebJobsStorage__blobServiceUri',
    "the host's storage, blob endpoint (identity-based; the durable task hub's blobs)",
    { production: 'required', readBy: 'host' },
  ),
  setting(
    'AzureWebJobsStorage__queueServiceUri',
    "the host's storage, queue endpoint (identity-based; the durable task hub's queues)",
    { production: 'required', readBy: 'host' },
  ),
  setting(
    'AzureWebJobsStorage__tableServiceUri',
    "the host's storage, table endpoint (identity-based; the durable task hub's history, and the ledger's tables when LUCIUS_TABLE_CONNECTION is unset)",
    { production: 'required' },
  ),
  setting(
    'AzureWebJobsStorage__accountName',
    "the host's storage account name, instead of the three endpoints (identity-based)",
  ),
  setting(
    'AzureWebJobsStorage__credential',
    "how the host's storage (and the ledger, unless LUCIUS_TABLE_CONNECTION says otherwise) is reached: managedidentity in production",
    { production: 'required' },
  ),
  setting(
    'AzureWebJobsStorage__clientId',
    "the client id of the user-assigned managed identity that reaches the host's storage and the task hub",
    { production: 'required' },
  ),
  ...TABLE_NAMES.map(([name, legacy, fallback, what]) =>
    setting(name, `table name: ${what}`, {
      legacyNames: [legacy],
      default: fallback,
      appConfigurationKey: `Lucius:Tables:${fallback.replace(/^Lucius/, '')}`,
    }),
  ),
  setting('LUCIUS_TABLE_SWEEP', "table name: the sweepers' work lists and shard leases (table backend)", {
    default: 'LuciusSweep',
    appConfigurationKey: 'Lucius:Tables:Sweep',
  }),

  // Admission.
  setting(
    'LUCIUS_MAX_INFLIGHT_PER_TENANT',
    'jobs a tenant may have not yet finished; admission beyond answers 429',
    { default: '100', appConfigurationKey: 'Lucius:Admission:MaxInflightPerTenant' },
  ),
  setting('LUCIUS_IDEMPOTENCY_TTL_HOURS', 'window in which a resent command is a duplicate', {
    default: '24',
    appConfigurationKey: 'Lucius:Admission:IdempotencyTtlHours',
  }),
  setting('LUCIUS_MAX_BODY_BYTES', 'largest accepted request body', {
    default: '262144',
    appConfigurationKey: 'Lucius:Admission:MaxBodyBytes',
  }),
  setting('LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS', 'Retry-After on 429 and 503', {
    default: '5',
    appConfigurationKey: 'Lucius:Admission:BackpressureRetryAfterSeconds',
  }),
  setting('LUCIUS_LANE_COUNT', 'lanes 0..N-1 (lane = hash of the routing key mod N)', {
    default: '16',
    appConfigurationKey: 'Lucius:ServiceBus:LaneCount',
  }),

  // Steps.
  setting('LUCIUS_MAX_ATTEMPTS', 'attempts per step, the first included', {
    default: '3',
    appConfigurationKey: 'Lucius:Steps:MaxAttempts',
  }),
  setting('LUCIUS_ACK_TIMEOUT_SECONDS', 'time for a worker to ACK a directive', {
    default: '30',
    appConfigurationKey: 'Lucius:Steps:AckTimeoutSeconds',
  }),
  setting('LUCIUS_LEASE_MINUTES', 'in-progress lease, extendable by heartbeat', {
    default: '15',
    appConfigurationKey: 'Lucius:Steps:LeaseMinutes',
  }),
  setting('LUCIUS_STEP_RESULT_TIMEOUT_SECONDS', "time for a step's RESULT after its ACK", {
    default: '900',
    appConfigurationKey: 'Lucius:Steps:StepResultTimeoutSeconds',
  }),
  setting('LUCIUS_DISPATCH_BACKOFF_SECONDS', 'waits before retrying after a failed publish', {
    default: '30,120,600',
    appConfigurationKey: 'Lucius:Steps:DispatchBackoffSeconds',
  }),
  setting(
    'LUCIUS_REPLY_BACKOFF_SECONDS',
    'waits before retrying after ACK timeouts, lease expiries, result timeouts and retryable failures',
    { default: '60,300,900', appConfigurationKey: 'Lucius:Steps:ReplyBackoffSeconds' },
  ),
  setting(
    'LUCIUS_NOT_STARTED_BACKOFF_SECONDS',
    'waits before retrying a directive that expired unread (no ACK by its ACK deadline)',
    { default: '5,15,30,60', appConfigurationKey: 'Lucius:Steps:NotStartedBackoffSeconds' },
  ),
  setting(
    'LUCIUS_MAX_NOT_STARTED',
    'ACK timeouts (directives that expired unread) a step retries without counting them as attempts; then they count as ACK_TIMEOUT',
    { default: '10', appConfigurationKey: 'Lucius:Steps:MaxNotStarted' },
  ),
  setting(
    'LUCIUS_MAX_OUTSTANDING_PER_LANE',
    'directives outstanding at most per lane and step type (published, not yet ended); further steps wait in the ledger, served round-robin by tenant',
    { default: '32', appConfigurationKey: 'Lucius:Steps:MaxOutstandingPerLane' },
  ),

  // Service Bus.
  setting(
    'ServiceBusConnection',
    'Service Bus as a connection string (local only: the emulator); directive publishing, the reply triggers, quarantine',
    {
      legacyNames: ['LUCIUS_SERVICEBUS_CONNECTION'],
      secret: true,
      appConfigurationKey: 'Lucius:ServiceBus:Connection',
    },
  ),
  ...identitySettings(
    'ServiceBusConnection',
    'Service Bus',
    [
      {
        property: 'fullyQualifiedNamespace',
        description: 'Service Bus namespace host, e.g. lucius.servicebus.windows.net (identity-based)',
      },
    ],
    {
      production: 'required',
      legacyPrefix: 'LUCIUS_SERVICEBUS_CONNECTION',
      keyPrefix: 'Lucius:ServiceBus:Connection',
    },
  ),
  setting('LUCIUS_SERVICEBUS_TOPIC_PREFIX', 'directive topics {prefix}{lane}', {
    default: 'global-bus-p',
    appConfigurationKey: 'Lucius:ServiceBus:TopicPrefix',
  }),
  setting('LUCIUS_SERVICEBUS_REPLY_PREFIX', 'reply topics {prefix}{lane}', {
    default: 'global-bus-replies-p',
    appConfigurationKey: 'Lucius:ServiceBus:ReplyPrefix',
  }),
  setting('LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION', "Lucius's subscription on each reply topic", {
    default: 'lucius-invoker',
    appConfigurationKey: 'Lucius:ServiceBus:ReplySubscription',
  }),
  setting(
    'LUCIUS_SERVICEBUS_QUARANTINE_QUEUE',
    'queue where replies that can never be processed are parked with their reason',
    { default: 'lucius-quarantine', appConfigurationKey: 'Lucius:ServiceBus:QuarantineQueue' },
  ),

  // Reconciliation.
  setting('LUCIUS_DRIFT_SWEEP_SCHEDULE', 'NCRONTAB (6 fields) of the driftSweeper timer', {
    default: '15 * * * * *',
    appConfigurationKey: 'Lucius:Sweep:DriftSchedule',
  }),
  setting('LUCIUS_LEASE_SWEEP_SCHEDULE', 'NCRONTAB (6 fields) of the leaseSweeper timer', {
    default: '*/30 * * * * *',
    appConfigurationKey: 'Lucius:Sweep:LeaseSchedule',
  }),
  setting(
    'LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS',
    'an ACCEPTED job with no orchestration this long after admission is started',
    { default: '60', appConfigurationKey: 'Lucius:Sweep:AcceptGraceSeconds' },
  ),
  setting(
    'LUCIUS_SWEEP_TIMER_GRACE_SECONDS',
    'a deadline passed by more than this while the orchestration runs is a lost timer',
    { default: '60', appConfigurationKey: 'Lucius:Sweep:TimerGraceSeconds' },
  ),
  setting('LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS', 'a step still DISPATCHING this long is published again', {
    default: '60',
    appConfigurationKey: 'Lucius:Sweep:DispatchGraceSeconds',
  }),
  setting('LUCIUS_SWEEP_RECHECK_SECONDS', 'an active job with nothing due is examined at least this often', {
    default: '300',
    appConfigurationKey: 'Lucius:Sweep:RecheckSeconds',
  }),
  setting('LUCIUS_SWEEP_BATCH_SIZE', 'due jobs examined per shard per sweep', {
    default: '100',
    appConfigurationKey: 'Lucius:Sweep:BatchSize',
  }),
  setting(
    'LUCIUS_MAX_ORCHESTRATION_RESTARTS',
    'restarts of a lost orchestration before the job fails with ORCHESTRATION_LOST',
    { default: '3', appConfigurationKey: 'Lucius:Sweep:MaxOrchestrationRestarts' },
  ),
  setting('LUCIUS_JOB_TIMEOUT_SECONDS', 'a job running longer fails with TIMEOUT', {
    default: '3600',
    appConfigurationKey: 'Lucius:Jobs:TimeoutSeconds',
  }),
  setting('LUCIUS_MAX_JOB_TIMEOUT_SECONDS', 'the largest timeout_seconds a command may ask for', {
    default: '604800',
    appConfigurationKey: 'Lucius:Jobs:MaxTimeoutSeconds',
  }),
  setting('LUCIUS_RETENTION_DAYS', 'finished jobs older than this are purged', {
    default: '30',
    appConfigurationKey: 'Lucius:Jobs:RetentionDays',
  }),
  setting('LUCIUS_SHARD_LEASE_SECONDS', 'how long a sweeper owns a shard without renewing its lease', {
    default: '30',
    appConfigurationKey: 'Lucius:Sweep:ShardLeaseSeconds',
  }),

  // Durable Functions, protocols, telemetry.
  setting(
    'LUCIUS_TASK_HUB',
    'the Durable Functions task hub (host.json reads %LUCIUS_TASK_HUB%, so Azure needs it set)',
    { default: 'Lucius', production: 'required', appConfigurationKey: 'Lucius:Durable:TaskHub' },
  ),
  setting(
    'LUCIUS_HEALTH_TIMEOUT_MS',
    '/api/healthz: how long each dependency check (ledger, Service Bus, task hub) may take before it fails as timeout, in ms (100-30000)',
    { default: '1500', appConfigurationKey: 'Lucius:Health:TimeoutMs' },
  ),
  setting('LUCIUS_PROTOCOL_REGISTRY_PATH', 'another protocol registry file (the bundled one when unset)', {
    appConfigurationKey: 'Lucius:Protocols:RegistryPath',
  }),
  setting('APPLICATIONINSIGHTS_CONNECTION_STRING', 'Application Insights; telemetry is on when set', {}),
  setting(
    'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    'Entra ID authentication to Application Insights, e.g. ClientId=<identity client id>;Authorization=AAD',
    {},
  ),

  setting(
    'LUCIUS_LOG_FORMAT',
    'lifecycle events in the log: text (one readable line each), json, or off; off when Application Insights is on, json otherwise',
    { appConfigurationKey: 'Lucius:Telemetry:LogFormat' },
  ),
  setting('OTEL_SERVICE_NAME', 'the service name on spans and metrics (the cloud role name)', {
    default: 'lucius',
  }),

  // Security of the HTTP API (README "Security"): who may call, for which tenant, how often.
  setting(
    'LUCIUS_AUTH_MODE',
    'how callers authenticate: entra (Entra ID bearer tokens), easyauth (App Service Authentication), dev (tokens of the local dev issuer, `npx lucius token`; local only) or none (no authentication: every caller has every role and tenant; warned at every start; never in a deployment)',
    { default: 'entra' },
  ),
  setting(
    'LUCIUS_AUTH_TENANT_ID',
    'entra: the directory (tenant) id whose tokens are accepted (one directory, not common/organizations)',
    { production: 'required' },
  ),
  setting(
    'LUCIUS_AUTH_AUDIENCE',
    "the accepted token audiences, comma-separated: entra (required): the app registration's client id and/or Application ID URI; dev: api://lucius-dev when unset (also what `lucius token` puts in dev tokens)",
    { production: 'required' },
  ),
  setting('LUCIUS_AUTH_AUTHORITY', 'entra: the Entra ID authority (sovereign clouds use their own)', {
    default: 'https://login.microsoftonline.com',
  }),
  setting('LUCIUS_AUTH_ALGORITHMS', 'entra: the accepted signature algorithms (asymmetric only)', {
    default: 'RS256',
  }),
  setting(
    'LUCIUS_AUTH_CLOCK_SKEW_SECONDS',
    "tolerated clock difference when checking a token's exp and nbf (0-300)",
    { default: '60' },
  ),
  setting(
    'LUCIUS_AUTH_TENANTS_CLAIM',
    'the token claim listing the tenants a caller may act for (without it, the grants decide); also the claim `lucius token` writes',
    { default: 'lucius_tenants' },
  ),
  setting(
    'LUCIUS_AUTH_JWKS_CACHE_MINUTES',
    "entra: how long the directory's signing keys are cached (1-1440)",
    {
      default: '10',
    },
  ),
  setting(
    'LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS',
    'entra: least time between two fetches of the signing keys when a token names an unknown key (0-3600)',
    { default: '30' },
  ),
  setting(
    'LUCIUS_AUTH_EASYAUTH_TRUSTED',
    'easyauth: must be true, saying App Service Authentication is on and requires authentication, so x-ms-client-principal comes from the platform only',
    { default: 'false' },
  ),
  setting(
    'WEBSITE_AUTH_ENABLED',
    'set by App Service when App Service Authentication is on; easyauth refuses to start without it',
  ),
  setting(
    'LUCIUS_AUTH_DEV_DATA_DIR',
    "dev: the folder holding the dev issuer's signing key (and, without LUCIUS_CALLBACK_KEY, the local callback key); `lucius token` reads it too",
    { default: '.azurite' },
  ),
  setting(
    'LUCIUS_AUTH_GRANTS_CACHE_SECONDS',
    'how long each instance caches the tenants granted to a principal (`lucius grants`); 0 turns the cache off (0-86400)',
    { default: '60' },
  ),
  setting(
    'LUCIUS_TABLE_GRANTS',
    'table name: the tenants granted to principals whose tokens carry no tenants claim (table and ledger backends)',
    { default: 'LuciusGrants' },
  ),
  setting(
    'LUCIUS_HTTP_AUTH_LEVEL',
    'the Functions authLevel of the API: function (the function key is an extra gate besides the bearer token) or anonymous (bearer tokens only, e.g. behind API Management); health probes are always anonymous',
    { default: 'function' },
  ),
  setting(
    'LUCIUS_CALLBACK_KEY',
    'the key that signs worker callback tokens, <key id>:<base64 secret of at least 32 bytes> (openssl rand -base64 32); required with entra and easyauth; with dev and none, a local key file in LUCIUS_AUTH_DEV_DATA_DIR when unset',
    { production: 'required', secret: true },
  ),
  setting(
    'LUCIUS_CALLBACK_KEY_PREVIOUS',
    'the previous callback key, still accepted while a rotation is under way (same form)',
    { secret: true },
  ),
  setting(
    'LUCIUS_RATE_LIMITS',
    'per-process rate limits of the API per principal and per tenant: on or off',
    {
      default: 'on',
    },
  ),
  setting('LUCIUS_RATE_LIMIT_TENANT_BURST', "a tenant's burst: requests beyond it answer 429", {
    default: '100',
  }),
  setting('LUCIUS_RATE_LIMIT_TENANT_PER_SECOND', "requests per second a tenant's burst refills at", {
    default: '20',
  }),
  setting(
    'LUCIUS_RATE_LIMIT_PRINCIPAL_BURST',
    "a caller's (principal's) burst: requests beyond it answer 429",
    {
      default: '50',
    },
  ),
  setting('LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND', "requests per second a caller's burst refills at", {
    default: '10',
  }),
  setting('LUCIUS_RATE_LIMIT_MAX_KEYS', 'principals (and tenants) each instance tracks at most', {
    default: '10000',
  }),
  setting(
    'LUCIUS_CORS_ALLOWED_ORIGINS',
    'browser origins allowed to call the API, exact and comma-separated (https://portal.example.com), or *; unset: no CORS',
  ),
  setting(
    'LUCIUS_CORS_ALLOW_CREDENTIALS',
    'whether browsers may send credentials cross-origin (true/false; refused with the origin *)',
    { default: 'false' },
  ),
  setting('LUCIUS_CORS_MAX_AGE_SECONDS', 'how long browsers may cache a preflight answer (0-86400)', {
    default: '600',
  }),
  setting(
    'LUCIUS_HSTS_MAX_AGE_SECONDS',
    'Strict-Transport-Security max-age on every answer; 0 leaves the header out',
    { default: '31536000' },
  ),
  setting('LUCIUS_MAX_HEADER_COUNT', 'header fields a request may have; more answer 431', { default: '100' }),
  setting('LUCIUS_MAX_HEADER_BYTES', "bytes of a request's header fields; more answer 431", {
    default: '16384',
  }),
  setting('LUCIUS_MAX_QUERY_BYTES', "bytes of a request's query string; more answer 414", {
    default: '2048',
  }),

  // Lucius's tools, outside the function app.
  setting(
    'LUCIUS_TELEMETRY_TEST_FILE',
    'the tests: a file the app appends its finished spans and metrics to (never set in production)',
    { readBy: 'tools' },
  ),
  setting(
    'LUCIUS_DURABLE_API_URL',
    'the `lucius` CLI: the Durable Functions HTTP API base ({base}/runtime/webhooks/durabletask)',
    { readBy: 'tools' },
  ),
  setting('LUCIUS_DURABLE_API_KEY', "the `lucius` CLI: the durable extension's system key", {
    readBy: 'tools',
    secret: true,
  }),
  setting('LUCIUS_TOKEN', '`lucius smoke`: the bearer token it calls the API with (`--token`)', {
    readBy: 'tools',
    secret: true,
  }),
  setting('LUCIUS_DEMO_WORKERS', 'the demo workers: modes per step type, e.g. OCR=flaky:2,EMBEDDING=slow', {
    readBy: 'tools',
  }),
  setting(
    'LUCIUS_DEMO_ACK_AFTER_MS',
    'the demo workers: lazy ACK, the ms of work after which a worker ACKs (unset: ACK before the work)',
    { readBy: 'tools' },
  ),
  setting('LUCIUS_FUNCTION_KEY', "`lucius smoke`: the function key for the deployment's API (or --key)", {
    readBy: 'tools',
    secret: true,
  }),
  setting(
    'LUCIUS_TEST_TABLE_CONNECTION',
    "the tests: a Table Storage connection instead of the tests' own Azurite",
    {
      readBy: 'tools',
      secret: true,
    },
  ),
];

/** Settings of the previous system that have no meaning any more. */
export const REMOVED_SETTINGS: readonly RemovedSetting[] = [
  {
    prefix: 'LUCIUS_TEMPORAL_',
    replacement:
      'Temporal was replaced by Durable Functions: the task hub is LUCIUS_TASK_HUB (host.json durableTask.hubName), its storage is the host storage (AzureWebJobsStorage, or AzureWebJobsStorage__blobServiceUri / __queueServiceUri / __tableServiceUri with __credential and __clientId); the workflow timeout is LUCIUS_JOB_TIMEOUT_SECONDS',
  },
];

/** Connection settings whose `__<property>` forms are read (identity-based connections). */
export const CONNECTION_PREFIXES = [
  'AzureWebJobsStorage',
  'LUCIUS_TABLE_CONNECTION',
  'ServiceBusConnection',
  'LUCIUS_SERVICEBUS_CONNECTION',
] as const;

/** Endpoint properties of connection settings (credential properties are in credential-settings.ts). */
export const CONNECTION_ENDPOINT_PROPERTIES = [
  'fullyQualifiedNamespace',
  'serviceUri',
  'tableServiceUri',
  'blobServiceUri',
  'queueServiceUri',
  'accountName',
] as const;

/**
 * App Configuration keys and the app setting each one fills. The previous system's keys keep their
 * meaning (`Lucius:ServiceBus:Connection` filled LUCIUS_SERVICEBUS_CONNECTION, today's
 * ServiceBusConnection), so its App Configuration store keeps working; the settings it did not have
 * follow the same `Lucius:<Area>:<Name>` scheme. A secret kept there should be an App Configuration
 * Key Vault reference (or, better, an identity).
 */
export const APP_CONFIGURATION_KEYS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    SETTINGS_CATALOG.filter((s) => s.appConfigurationKey !== undefined).map((s) => [
      s.appConfigurationKey as string,
      s.name,
    ]),
  ),
);

/**
 * The app setting value that makes App Service / Azure Functions read a setting from App
 * Configuration: `@Microsoft.AppConfiguration(Endpoint=https://<store>.azconfig.io; Key=<key>)`.
 */
export function appConfigurationReference(endpoint: string, key: string, label?: string): string {
  return `@Microsoft.AppConfiguration(Endpoint=${endpoint}; Key=${key}${label === undefined ? '' : `; Label=${label}`})`;
}

const BY_NAME = new Map(SETTINGS_CATALOG.map((s) => [s.name, s]));

/** The catalog entry of `name` (a current name). */
export function settingDefinition(name: string): SettingDefinition {
  const found = BY_NAME.get(name);
  if (found === undefined) throw new RangeError(`${name} is not in the settings catalog`);
  return found;
}

/** The catalog default of `name`; throws if it has none (a programming error). */
export function catalogDefault(name: string): string {
  const fallback = settingDefinition(name).default;
  if (fallback === undefined) throw new RangeError(`${name} has no default in the settings catalog`);
  return fallback;
}
