/**
 * Telemetry settings, read from the environment once at start-up (as settings.ts reads the rest):
 *
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING`: turns Application Insights on (traces, metrics and
 *   lifecycle events exported through the `applicationinsights` package, OpenTelemetry based).
 * - `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`: `Authorization=AAD` (system-assigned identity) or
 *   `Authorization=AAD;ClientId=<client id>` (user-assigned): telemetry is sent with a managed
 *   identity token (Entra ID), for a resource with local authentication disabled.
 * - `LUCIUS_LOG_FORMAT`: `text` (one readable line per lifecycle event), `json` (one JSON object
 *   per line) or `off`. Default: `off` when Application Insights is on (the events go there),
 *   `json` otherwise; `npm start` sets `text`.
 * - `LUCIUS_TELEMETRY_TEST_FILE`: a file the app appends its finished spans and metrics to, one
 *   JSON object a line (tests read it to check a job's trace; never set in production).
 * - `OTEL_SERVICE_NAME`: the service name on spans and metrics (default `lucius`; the cloud role
 *   name in Application Insights).
 *
 * Throws SettingsError naming each offending variable.
 */
import { z } from 'zod';
import { SettingsError, type SettingProblem } from './errors';
import { present, type Env } from './env';

export const LOG_FORMATS = ['text', 'json', 'off'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How to authenticate to Application Insights ingestion. */
export type TelemetryAuthentication =
  { readonly kind: 'key' } | { readonly kind: 'managed-identity'; readonly clientId?: string };

export interface TelemetrySettings {
  /** Application Insights, when on. */
  readonly applicationInsights?: {
    readonly connectionString: string;
    readonly authentication: TelemetryAuthentication;
  };
  readonly logFormat: LogFormat;
  readonly testFile?: string;
  readonly serviceName: string;
}

/** The variables this module reads (for the settings catalog). */
export const TELEMETRY_VARIABLES = [
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'LUCIUS_LOG_FORMAT',
  'LUCIUS_TELEMETRY_TEST_FILE',
  'OTEL_SERVICE_NAME',
] as const;

export function parseTelemetrySettings(env: Env): TelemetrySettings {
  const problems: SettingProblem[] = [];
  const connectionString = present(env.APPLICATIONINSIGHTS_CONNECTION_STRING);
  if (
    connectionString !== undefined &&
    !/(^|;)\s*(InstrumentationKey|IngestionEndpoint)=/i.test(connectionString)
  )
    problems.push({
      variable: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
      message:
        'must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)',
    });
  const authentication = readAuthentication(present(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING), problems);
  if (authentication.kind === 'managed-identity' && connectionString === undefined)
    problems.push({
      variable: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      message: 'is set but APPLICATIONINSIGHTS_CONNECTION_STRING is not: set both, or neither',
    });
  const format = z.enum(LOG_FORMATS).optional().safeParse(present(env.LUCIUS_LOG_FORMAT)?.toLowerCase());
  if (!format.success)
    problems.push({ variable: 'LUCIUS_LOG_FORMAT', message: `must be one of ${LOG_FORMATS.join(', ')}` });
  if (problems.length > 0) throw new SettingsError(problems);

  const testFile = present(env.LUCIUS_TELEMETRY_TEST_FILE);
  return Object.freeze({
    ...(connectionString === undefined ? {} : { applicationInsights: { connectionString, authentication } }),
    logFormat: format.data ?? (connectionString === undefined ? 'json' : 'off'),
    ...(testFile === undefined ? {} : { testFile }),
    serviceName: present(env.OTEL_SERVICE_NAME) ?? 'lucius',
  });
}

/** `Authorization=AAD[;ClientId=<guid>]`, as the Functions host and the Azure Monitor docs spell it. */
function readAuthentication(value: string | undefined, problems: SettingProblem[]): TelemetryAuthentication {
  if (value === undefined) return { kind: 'key' };
  const parts = new Map<string, string>();
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    parts.set(
      part
        .slice(0, eq < 0 ? undefined : eq)
        .trim()
        .toLowerCase(),
      eq < 0 ? '' : part.slice(eq + 1).trim(),
    );
  }
  const unknown = [...parts.keys()].filter((key) => key !== 'authorization' && key !== 'clientid');
  if (parts.get('authorization')?.toUpperCase() !== 'AAD' || unknown.length > 0) {
    problems.push({
      variable: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      message:
        'must be "Authorization=AAD" or "Authorization=AAD;ClientId=<client id of the managed identity>"',
    });
    return { kind: 'key' };
  }
  const clientId = parts.get('clientid');
  return clientId === undefined || clientId === ''
    ? { kind: 'managed-identity' }
    : { kind: 'managed-identity', clientId };
}

export function telemetrySettingsFromProcessEnv(): TelemetrySettings {
  return parseTelemetrySettings(process.env);
}
