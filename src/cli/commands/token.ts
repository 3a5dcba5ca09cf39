/**
 * `lucius token --tenant t1 --roles Lucius.Submit,Lucius.Read [--data DIR] [--ttl 1h] [--subject S]
 * [--name N] [--app-id A] [--audience A] [--tenants-claim C] [--json]`: prints a token of the local
 * dev issuer (`LUCIUS_AUTH_MODE=dev`), for `Authorization: Bearer <token>`. The issuer's key is in
 * the data folder (`--data`, LUCIUS_AUTH_DEV_DATA_DIR, default `.azurite`, as `npm start` uses),
 * created on first use. Prints the token alone (`TOKEN=$(npx lucius token ...)`), or with `--json`
 * a document with the token and its expiry. Needs no other settings. Exit 2 for a bad option.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_DEV_DATA_DIR } from '../../config/auth-settings';
import { DEV_AUDIENCE, DevIssuer } from '../../auth/dev-issuer';
import { DEFAULT_TENANTS_CLAIM } from '../../auth/principal';
import { parseRoles } from '../../auth/roles';
import { print, type CommandEnv } from '../command-env';
import { UsageError } from '../exit-codes';

interface TokenCliOptions {
  readonly tenant: readonly string[];
  readonly roles: string;
  readonly data: string;
  readonly ttl: string;
  readonly subject: string;
  readonly name?: string;
  readonly appId?: string;
  readonly audience: string;
  readonly tenantsClaim: string;
  readonly json?: boolean;
}

const MAX_TTL_SECONDS = 30 * 86_400;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function registerTokenCommand(program: Command, env: CommandEnv): void {
  program
    .command('token')
    .description('print a bearer token of the local dev issuer (LUCIUS_AUTH_MODE=dev)')
    .option(
      '--tenant <tenant>',
      'a tenant the token may act for (repeat it, or separate with commas)',
      (value: string, previous: string[]) => [...previous, ...value.split(',')],
      [] as string[],
    )
    .requiredOption('--roles <roles>', 'comma-separated app roles, e.g. Lucius.Submit,Lucius.Read')
    .addOption(
      new Option('--data <folder>', "the dev issuer's data folder (its key file)")
        .env('LUCIUS_AUTH_DEV_DATA_DIR')
        .default(DEFAULT_DEV_DATA_DIR),
    )
    .option(
      '--ttl <duration>',
      'lifetime: a number of seconds, or with a unit s, m, h, d (at most 30d)',
      '1h',
    )
    .option('--subject <id>', 'the caller id (sub and oid)', 'dev-user')
    .option('--name <name>', 'a display name (the name claim)')
    .option('--app-id <id>', 'the client application id (azp), for a token that stands for an application')
    .addOption(
      new Option('--audience <audience>', 'the audience (aud); the first of LUCIUS_AUTH_AUDIENCE when set')
        .env('LUCIUS_AUTH_AUDIENCE')
        .default(DEV_AUDIENCE),
    )
    .addOption(
      new Option('--tenants-claim <claim>', 'the claim that carries the tenants')
        .env('LUCIUS_AUTH_TENANTS_CLAIM')
        .default(DEFAULT_TENANTS_CLAIM),
    )
    .option('--json', 'print a JSON document with the token and its expiry')
    .action(async (options: TokenCliOptions) => {
      const tenants = [...new Set(options.tenant.map((tenant) => tenant.trim()).filter((t) => t !== ''))];
      if (tenants.length === 0) throw new UsageError('--tenant is required (at least one tenant)');
      let roles;
      try {
        roles = parseRoles(options.roles);
      } catch (error) {
        throw new UsageError(`--roles: ${(error as Error).message}`);
      }
      if (roles.length === 0) throw new UsageError('--roles is required (at least one role)');
      const ttlSeconds = parseTtl(options.ttl);
      const audience = options.audience.split(',')[0]?.trim() || DEV_AUDIENCE;
      const issuer = await DevIssuer.open(options.data);
      const now = new Date();
      const token = await issuer.issueDevToken(
        {
          tenants,
          roles,
          subject: options.subject,
          ttlSeconds,
          audience,
          tenantsClaim: options.tenantsClaim,
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.appId === undefined ? {} : { appId: options.appId }),
        },
        now,
      );
      const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000).toISOString();
      print(
        env,
        options.json,
        { token, expires_at: expiresAt, tenants, roles, subject: options.subject, audience },
        () => token,
      );
    });
}

/** `90`, `90s`, `15m`, `1h`, `2d` as seconds; a UsageError otherwise. */
export function parseTtl(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(text.trim());
  const seconds =
    match === null ? NaN : Number(match[1]) * (UNIT_SECONDS[(match[2] || 's').toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS)
    throw new UsageError(`--ttl must be a duration from 1s to 30d, e.g. 3600, 15m, 1h, 2d (got ${text})`);
  return seconds;
}
