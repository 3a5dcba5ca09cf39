/**
 * The HTTP edge's security settings, parsed from an environment record once at start-up:
 *
 * - `parseSecuritySettings`: everything with a working default (the function-key gate, rate
 *   limits, CORS, HSTS, request size limits, the grants table and its cache). Part of `Settings`,
 *   so every tool that loads settings (the `lucius` CLI's `grants`) reads the same values.
 * - `parseAppAuthSettings`: `LUCIUS_AUTH_*` (auth-settings.ts), read by the function app
 *   only: its default mode (`entra`) needs `LUCIUS_AUTH_TENANT_ID` and `LUCIUS_AUTH_AUDIENCE`, which
 *   tools that never answer a request have no use for.
 *
 * A bad value is a problem naming its variable (SettingsError); a CORS list the guard cannot make
 * safe (a wildcard with credentials, an origin with a path) is one too.
 */
import { z } from 'zod';
import { authWarnings, parseAuthSettings, type AuthSettings } from './auth-settings';
import { corsPolicy } from '../guards/cors';
import type { RequestLimits } from '../guards/request-limits';
import { SettingsError, type SettingProblem } from './errors';
import { present, type Env } from './env';
import { settingDefinition } from './settings-catalog';
import type { SettingWarning } from './settings-warnings';

/** The Functions `authLevel` of every secured HTTP function: the function key as an extra gate, or none. */
export type HttpAuthLevel = 'function' | 'anonymous';

export interface TokenBucketSettings {
  /** The burst a full bucket allows. */
  readonly burst: number;
  /** Requests regained per second (at most 3 decimals). */
  readonly perSecond: number;
}

export interface SecuritySettings {
  /** `LUCIUS_HTTP_AUTH_LEVEL`. */
  readonly httpAuthLevel: HttpAuthLevel;
  readonly rateLimits: {
    readonly enabled: boolean;
    readonly tenant: TokenBucketSettings;
    readonly principal: TokenBucketSettings;
    /** Buckets kept per limiter (memory bound). */
    readonly maxKeys: number;
  };
  readonly cors: {
    /** Exact origins, or `*`; empty: no CORS headers at all. */
    readonly allowedOrigins: readonly string[];
    readonly allowCredentials: boolean;
    readonly maxAgeSeconds: number;
  };
  /** 0 leaves Strict-Transport-Security out. */
  readonly hstsMaxAgeSeconds: number;
  /** The header and query limits (the body limit is LUCIUS_MAX_BODY_BYTES, `admission.maxBodyBytes`). */
  readonly requestLimits: Omit<RequestLimits, 'maxBodyBytes'>;
  /** The grants of principals whose tokens carry no tenants claim (table/ledger backends). */
  readonly grants: { readonly table: string; readonly cacheSeconds: number };
}

/** The variables `parseSecuritySettings` reads; their defaults are the catalog's (settings-catalog.ts). */
export const SECURITY_VARIABLES = [
  'LUCIUS_HTTP_AUTH_LEVEL',
  'LUCIUS_RATE_LIMITS',
  'LUCIUS_RATE_LIMIT_TENANT_BURST',
  'LUCIUS_RATE_LIMIT_TENANT_PER_SECOND',
  'LUCIUS_RATE_LIMIT_PRINCIPAL_BURST',
  'LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND',
  'LUCIUS_RATE_LIMIT_MAX_KEYS',
  'LUCIUS_CORS_ALLOWED_ORIGINS',
  'LUCIUS_CORS_ALLOW_CREDENTIALS',
  'LUCIUS_CORS_MAX_AGE_SECONDS',
  'LUCIUS_HSTS_MAX_AGE_SECONDS',
  'LUCIUS_MAX_HEADER_COUNT',
  'LUCIUS_MAX_HEADER_BYTES',
  'LUCIUS_MAX_QUERY_BYTES',
  'LUCIUS_TABLE_GRANTS',
  'LUCIUS_AUTH_GRANTS_CACHE_SECONDS',
] as const;

type SecurityVariable = (typeof SECURITY_VARIABLES)[number];

/** A variable's default as the catalog states it ('' when it has none: CORS off). */
const fallback = (variable: SecurityVariable): string => settingDefinition(variable).default ?? '';

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

export function parseSecuritySettings(env: Env): SecuritySettings {
  const problems: SettingProblem[] = [];
  const raw = (variable: SecurityVariable): string => present(env[variable]) ?? fallback(variable);
  const problem = (variable: SecurityVariable, message: string) => {
    const got = present(env[variable]);
    problems.push({ variable, message: `${message}${got === undefined ? '' : ` (got "${got}")`}` });
  };
  const integer = (variable: SecurityVariable, min: number, max: number): number => {
    const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw(variable));
    if (parsed.success) return parsed.data;
    problem(variable, `must be a whole number from ${min} to ${max}`);
    return Number(fallback(variable));
  };
  const rate = (variable: SecurityVariable): number => {
    const text = raw(variable);
    const value = Number(text);
    if (/^\d+(\.\d{1,3})?$/.test(text) && value >= 0.001 && value <= 1_000_000) return value;
    problem(variable, 'must be a number from 0.001 to 1000000 with at most 3 decimals');
    return Number(fallback(variable));
  };
  const choice = <T extends string>(variable: SecurityVariable, values: readonly T[]): T => {
    const text = raw(variable).toLowerCase();
    if ((values as readonly string[]).includes(text)) return text as T;
    problem(variable, `must be one of ${values.join(', ')}`);
    return fallback(variable) as T;
  };

  const httpAuthLevel = choice<HttpAuthLevel>('LUCIUS_HTTP_AUTH_LEVEL', ['function', 'anonymous']);
  const rateLimits = {
    enabled: choice('LUCIUS_RATE_LIMITS', ['on', 'off']) === 'on',
    tenant: {
      burst: integer('LUCIUS_RATE_LIMIT_TENANT_BURST', 1, 1_000_000_000),
      perSecond: rate('LUCIUS_RATE_LIMIT_TENANT_PER_SECOND'),
    },
    principal: {
      burst: integer('LUCIUS_RATE_LIMIT_PRINCIPAL_BURST', 1, 1_000_000_000),
      perSecond: rate('LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND'),
    },
    maxKeys: integer('LUCIUS_RATE_LIMIT_MAX_KEYS', 1, 10_000_000),
  };
  const cors = {
    allowedOrigins: raw('LUCIUS_CORS_ALLOWED_ORIGINS')
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
    allowCredentials: choice('LUCIUS_CORS_ALLOW_CREDENTIALS', ['true', 'false']) === 'true',
    maxAgeSeconds: integer('LUCIUS_CORS_MAX_AGE_SECONDS', 0, 86_400),
  };
  try {
    corsPolicy(cors);
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^cors: /, '') : String(error);
    problems.push({
      variable: /credentials/.test(message) ? 'LUCIUS_CORS_ALLOW_CREDENTIALS' : 'LUCIUS_CORS_ALLOWED_ORIGINS',
      message,
    });
  }
  const hstsMaxAgeSeconds = integer('LUCIUS_HSTS_MAX_AGE_SECONDS', 0, 2 * 31_536_000);
  const requestLimits = {
    maxHeaderCount: integer('LUCIUS_MAX_HEADER_COUNT', 10, 10_000),
    maxHeaderBytes: integer('LUCIUS_MAX_HEADER_BYTES', 1024, 1024 * 1024),
    maxQueryBytes: integer('LUCIUS_MAX_QUERY_BYTES', 256, 64 * 1024),
  };
  const table = raw('LUCIUS_TABLE_GRANTS');
  if (!TABLE_NAME.test(table))
    problem(
      'LUCIUS_TABLE_GRANTS',
      'must be a valid table name: a letter, then letters or digits, 3-63 characters',
    );
  const grants = { table, cacheSeconds: integer('LUCIUS_AUTH_GRANTS_CACHE_SECONDS', 0, 86_400) };

  if (problems.length > 0) throw new SettingsError(problems);
  return { httpAuthLevel, rateLimits, cors, hstsMaxAgeSeconds, requestLimits, grants };
}

/** The function app's authentication settings and what to log about them at every start. */
export interface AppAuthSettings {
  readonly auth: AuthSettings;
  readonly warnings: readonly SettingWarning[];
}

/** `LUCIUS_AUTH_*` for the function app; throws SettingsError naming every offending variable. */
export function parseAppAuthSettings(env: Env): AppAuthSettings {
  const auth = parseAuthSettings(env);
  return {
    auth,
    warnings: authWarnings(auth).map((message) => ({ variable: 'LUCIUS_AUTH_MODE', message })),
  };
}
