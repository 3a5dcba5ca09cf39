/**
 * Authentication settings, parsed from an environment record once at start-up (as
 * telemetry-settings.ts does for its variables; this module never reads `process.env` itself).
 *
 * | variable                            | default                              | used by          |
 * |-------------------------------------|--------------------------------------|------------------|
 * | `LUCIUS_AUTH_MODE`                  | `entra`                              | all              |
 * | `LUCIUS_AUTH_TENANT_ID`             | (required)                           | entra            |
 * | `LUCIUS_AUTH_AUDIENCE`              | (required for entra; dev: `api://lucius-dev`) | entra, dev, easyauth |
 * | `LUCIUS_AUTH_AUTHORITY`             | `https://login.microsoftonline.com`  | entra            |
 * | `LUCIUS_AUTH_ALGORITHMS`            | `RS256`                              | entra            |
 * | `LUCIUS_AUTH_CLOCK_SKEW_SECONDS`    | `60` (0..300)                        | entra, dev       |
 * | `LUCIUS_AUTH_TENANTS_CLAIM`         | `lucius_tenants`                     | entra, dev, easyauth |
 * | `LUCIUS_AUTH_JWKS_CACHE_MINUTES`    | `10` (1..1440)                       | entra            |
 * | `LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS` | `30` (0..3600)                       | entra            |
 * | `LUCIUS_AUTH_EASYAUTH_TRUSTED`      | `false`; must be `true` for easyauth | easyauth         |
 * | `WEBSITE_AUTH_ENABLED`              | set by App Service (`True`)          | easyauth         |
 * | `LUCIUS_AUTH_DEV_DATA_DIR`          | `.azurite`                           | dev              |
 *
 * Throws SettingsError naming every offending variable.
 */
import { z } from 'zod';
import { SettingsError, type SettingProblem } from './errors';
import { present, type Env } from './env';

export const AUTH_MODES = ['entra', 'easyauth', 'dev', 'none'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The algorithms an allow-list may name: asymmetric signatures only. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type SigningAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** The claim that names the tenants a caller may act for, unless LUCIUS_AUTH_TENANTS_CLAIM says another. */
export const DEFAULT_TENANTS_CLAIM = 'lucius_tenants';
export const DEFAULT_ENTRA_AUTHORITY = 'https://login.microsoftonline.com';
/** The audience of the local dev issuer's tokens. */
export const DEV_AUDIENCE = 'api://lucius-dev';

export const DEFAULT_DEV_DATA_DIR = '.azurite';

interface CommonAuthSettings {
  readonly tenantsClaim: string;
  readonly clockSkewSeconds: number;
}

export type AuthSettings =
  | (CommonAuthSettings & {
      readonly mode: 'entra';
      readonly tenantId: string;
      readonly audiences: readonly string[];
      readonly authority: string;
      readonly algorithms: readonly SigningAlgorithm[];
      readonly jwksCacheMinutes: number;
      readonly jwksCooldownSeconds: number;
    })
  | (CommonAuthSettings & { readonly mode: 'easyauth'; readonly audiences: readonly string[] })
  | (CommonAuthSettings & {
      readonly mode: 'dev';
      readonly audiences: readonly string[];
      readonly devDataDir: string;
    })
  | (CommonAuthSettings & { readonly mode: 'none' });

/** The variables this module reads (for the settings catalog). */
export const AUTH_VARIABLES = [
  'LUCIUS_AUTH_MODE',
  'LUCIUS_AUTH_TENANT_ID',
  'LUCIUS_AUTH_AUDIENCE',
  'LUCIUS_AUTH_AUTHORITY',
  'LUCIUS_AUTH_ALGORITHMS',
  'LUCIUS_AUTH_CLOCK_SKEW_SECONDS',
  'LUCIUS_AUTH_TENANTS_CLAIM',
  'LUCIUS_AUTH_JWKS_CACHE_MINUTES',
  'LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS',
  'LUCIUS_AUTH_EASYAUTH_TRUSTED',
  'WEBSITE_AUTH_ENABLED',
  'LUCIUS_AUTH_DEV_DATA_DIR',
] as const;

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export function parseAuthSettings(env: Env): AuthSettings {
  const problems: SettingProblem[] = [];
  const mode = z.enum(AUTH_MODES).default('entra').safeParse(present(env.LUCIUS_AUTH_MODE)?.toLowerCase());
  if (!mode.success)
    problems.push({ variable: 'LUCIUS_AUTH_MODE', message: `must be one of ${AUTH_MODES.join(', ')}` });
  const integer = (variable: (typeof AUTH_VARIABLES)[number], fallback: number, min: number, max: number) => {
    const raw = present(env[variable]);
    const parsed = z.coerce
      .number()
      .int()
      .min(min)
      .max(max)
      .safeParse(raw ?? fallback);
    if (parsed.success) return parsed.data;
    problems.push({ variable, message: `must be a whole number from ${min} to ${max}` });
    return fallback;
  };
  const common: CommonAuthSettings = {
    tenantsClaim: present(env.LUCIUS_AUTH_TENANTS_CLAIM) ?? DEFAULT_TENANTS_CLAIM,
    clockSkewSeconds: integer('LUCIUS_AUTH_CLOCK_SKEW_SECONDS', 60, 0, 300),
  };
  const audiences = list(env.LUCIUS_AUTH_AUDIENCE);
  const settings = settingsFor((mode.data ?? 'entra') as AuthMode, env, common, audiences, integer, problems);
  if (problems.length > 0) throw new SettingsError(problems);
  return Object.freeze(settings);
}

function settingsFor(
  mode: AuthMode,
  env: Env,
  common: CommonAuthSettings,
  audiences: string[],
  integer: (variable: (typeof AUTH_VARIABLES)[number], fallback: number, min: number, max: number) => number,
  problems: SettingProblem[],
): AuthSettings {
  switch (mode) {
    case 'entra': {
      const tenantId = present(env.LUCIUS_AUTH_TENANT_ID);
      if (tenantId === undefined)
        problems.push({
          variable: 'LUCIUS_AUTH_TENANT_ID',
          message:
            'is required with LUCIUS_AUTH_MODE=entra: the directory (tenant) id that issues the tokens',
        });
      else if (['common', 'organizations', 'consumers'].includes(tenantId.toLowerCase()))
        problems.push({
          variable: 'LUCIUS_AUTH_TENANT_ID',
          message: 'must name one directory (its id), not a multi-tenant endpoint',
        });
      if (audiences.length === 0)
        problems.push({
          variable: 'LUCIUS_AUTH_AUDIENCE',
          message:
            "is required with LUCIUS_AUTH_MODE=entra: the app registration's client id and/or Application ID URI (api://...), comma-separated",
        });
      const authority = present(env.LUCIUS_AUTH_AUTHORITY) ?? DEFAULT_ENTRA_AUTHORITY;
      if (!/^https:\/\/[^/]+\/?$/.test(authority))
        problems.push({
          variable: 'LUCIUS_AUTH_AUTHORITY',
          message: 'must be an https origin, e.g. https://login.microsoftonline.com',
        });
      const algorithms = list(env.LUCIUS_AUTH_ALGORITHMS ?? 'RS256');
      const refused = algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
      if (algorithms.length === 0 || refused.length > 0)
        problems.push({
          variable: 'LUCIUS_AUTH_ALGORITHMS',
          message: `must list asymmetric signature algorithms only (${ASYMMETRIC_ALGORITHMS.join(', ')})`,
        });
      return {
        ...common,
        mode,
        tenantId: tenantId ?? '',
        audiences,
        authority,
        algorithms: algorithms as SigningAlgorithm[],
        jwksCacheMinutes: integer('LUCIUS_AUTH_JWKS_CACHE_MINUTES', 10, 1, 1440),
        jwksCooldownSeconds: integer('LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS', 30, 0, 3600),
      };
    }
    case 'easyauth': {
      const trusted = present(env.LUCIUS_AUTH_EASYAUTH_TRUSTED)?.toLowerCase();
      if (trusted !== 'true')
        problems.push({
          variable: 'LUCIUS_AUTH_EASYAUTH_TRUSTED',
          message:
            'must be true with LUCIUS_AUTH_MODE=easyauth: it says that App Service Authentication is enabled and requires authentication on this app, so the x-ms-client-principal header can only come from the platform',
        });
      else if (present(env.WEBSITE_AUTH_ENABLED)?.toLowerCase() !== 'true')
        problems.push({
          variable: 'WEBSITE_AUTH_ENABLED',
          message:
            'is not True: App Service Authentication is not enabled on this app, so x-ms-client-principal cannot be trusted',
        });
      return { ...common, mode, audiences };
    }
    case 'dev':
      return {
        ...common,
        mode,
        audiences: audiences.length === 0 ? [DEV_AUDIENCE] : audiences,
        devDataDir: present(env.LUCIUS_AUTH_DEV_DATA_DIR) ?? DEFAULT_DEV_DATA_DIR,
      };
    case 'none':
      return { ...common, mode };
  }
}

/** What the app should log at every start for these settings. */
export function authWarnings(settings: AuthSettings): string[] {
  if (settings.mode === 'none')
    return [
      'LUCIUS_AUTH_MODE=none: every request is accepted without credentials, with every role and every tenant. Never use this in a deployment.',
    ];
  if (settings.mode === 'dev')
    return [
      `LUCIUS_AUTH_MODE=dev: tokens from the local dev issuer (key in ${settings.devDataDir}) are accepted. For local use only.`,
    ];
  return [];
}
