/**
 * The bearer token `lucius smoke` sends with its commands and reads (never to /healthz), from one of:
 *
 * - `--token <jwt>` (or LUCIUS_TOKEN): a token the operator obtained, sent as is;
 * - `--scope <api://<app>/.default>`: a token of DefaultAzureCredential (az login, managed
 *   identity, environment credentials...) for the app registration, asked again shortly before it
 *   expires;
 * - `--dev-token`: a token of the local dev issuer (`LUCIUS_AUTH_MODE=dev`, what `npm start` runs),
 *   minted from its data folder (`--data`, LUCIUS_AUTH_DEV_DATA_DIR, default `.azurite`) for the
 *   smoke tenant with Lucius.Submit and Lucius.Read; only against a loopback URL, and only from a
 *   folder that holds the issuer's key already (a new key would sign tokens the app refuses).
 *
 * At most one of them; none means no Authorization header. A bad combination is a UsageError (exit 2);
 * a credential that cannot get a token is a SmokeTokenError naming the scope (exit 1).
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { DEV_KEY_FILE, DevIssuer } from '../../auth/dev-issuer';
import type { Role } from '../../auth/roles';
import { UsageError } from '../exit-codes';

/** Gives the token to send; called before each request (a source caches what it may reuse). */
export type BearerTokenSource = () => Promise<string>;

export interface SmokeTokenOptions {
  readonly token?: string;
  readonly scope?: string;
  readonly devToken?: boolean;
  /** The dev issuer's data folder (with devToken). */
  readonly data: string;
  /** The app's API base; devToken is refused unless its host is a loopback one. */
  readonly apiUrl: string;
  readonly tenantId: string;
  /** How long the run may take (the dev token's lifetime is at least this, plus a margin). */
  readonly timeoutMs: number;
}

/** What a smoke run needs: submit its command and read its job. */
export const SMOKE_ROLES: readonly Role[] = Object.freeze(['Lucius.Submit', 'Lucius.Read']);

/** A token is asked again when it has less than this left. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const MIN_DEV_TTL_SECONDS = 3600;
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

export class SmokeTokenError extends Error {}

/** The token source the options ask for, or undefined for none; `credential` is for tests. */
export function smokeTokenSource(
  options: SmokeTokenOptions,
  credential: () => TokenCredential = () => new DefaultAzureCredential(),
  now: () => number = Date.now,
): BearerTokenSource | undefined {
  const given = [
    options.token === undefined ? undefined : '--token (or LUCIUS_TOKEN)',
    options.scope === undefined ? undefined : '--scope',
    options.devToken === true ? '--dev-token' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (given.length > 1) throw new UsageError(`give one of ${given.join(', ')}, not several`);
  if (options.token !== undefined) {
    const token = options.token.trim().replace(/^Bearer\s+/i, '');
    if (token === '') throw new UsageError('--token is empty');
    return () => Promise.resolve(token);
  }
  if (options.scope !== undefined) return scopeSource(options.scope, credential(), now);
  if (options.devToken === true) return devSource(options);
  return undefined;
}

function scopeSource(scope: string, credential: TokenCredential, now: () => number): BearerTokenSource {
  if (!/^\S+\/\.default$/.test(scope))
    throw new UsageError(
      `--scope must be the app's scope ending in /.default, e.g. api://<app id>/.default (got ${scope})`,
    );
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached !== undefined && cached.expiresAt - now() > REFRESH_MARGIN_MS) return cached.token;
    let answer;
    try {
      answer = await credential.getToken(scope);
    } catch (error) {
      throw new SmokeTokenError(
        `cannot get a token for ${scope}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
    if (answer === null) throw new SmokeTokenError(`cannot get a token for ${scope}: no credential gave one`);
    cached = { token: answer.token, expiresAt: answer.expiresOnTimestamp };
    return answer.token;
  };
}

function devSource(options: SmokeTokenOptions): BearerTokenSource {
  const host = new URL(options.apiUrl).hostname.toLowerCase();
  if (!LOOPBACK_HOSTS.has(host) && !/^127\.\d+\.\d+\.\d+$/.test(host))
    throw new UsageError(
      `--dev-token is for Lucius on this machine (npm start, LUCIUS_AUTH_MODE=dev), not ${host}: give --token or --scope`,
    );
  const ttlSeconds = Math.max(MIN_DEV_TTL_SECONDS, Math.ceil(options.timeoutMs / 1000) + 600);
  let minted: Promise<string> | undefined;
  return () => (minted ??= mintDevToken(options.data, options.tenantId, ttlSeconds));
}

async function mintDevToken(dataDir: string, tenantId: string, ttlSeconds: number): Promise<string> {
  const keyFile = join(resolve(dataDir), DEV_KEY_FILE);
  try {
    await access(keyFile);
  } catch {
    throw new SmokeTokenError(
      `--dev-token: no dev issuer key at ${keyFile}: give --data <the folder npm start uses> (or LUCIUS_AUTH_DEV_DATA_DIR)`,
    );
  }
  const issuer = await DevIssuer.open(dataDir);
  return issuer.issueDevToken({ tenants: [tenantId], roles: SMOKE_ROLES, ttlSeconds });
}
