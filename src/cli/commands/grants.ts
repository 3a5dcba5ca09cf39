/**
 * `lucius grants`: which tenants a principal may act for when its token carries no tenants claim.
 *
 *   lucius grants add <principalId> <tenant...> [--json]      grant tenants (`*`: every tenant)
 *   lucius grants remove <principalId> [tenant...] [--all] [--json]
 *   lucius grants list [principalId] [--json]
 *
 * The principal id is the caller's object id (`oid`) or its client application id (`azp`/`appid`).
 * Tenants may also be given comma-separated. The grants live in LUCIUS_TABLE_GRANTS on the ledger's
 * connection (the table and ledger backends; the memory backend has nothing to manage). Running
 * apps see a change within LUCIUS_AUTH_GRANTS_CACHE_SECONDS. Exit 2 for a bad id or option, 3 when
 * `remove` named a grant that does not exist (the others are still removed) or found none to remove
 * with --all, 1 when the table
 * cannot be reached.
 */
import type { Command } from 'commander';
import { createTenantGrantsAdmin } from '../../auth/create-tenant-grants';
import { GrantsUnavailableError } from '../../auth/table-tenant-grants';
import { grantIdProblem, type TenantGrantsAdmin } from '../../auth/tenant-grants-admin';
import { print, table, type CommandEnv } from '../command-env';
import { EXIT, UsageError } from '../exit-codes';

interface JsonOption {
  readonly json?: boolean;
}

export function registerGrantsCommands(program: Command, env: CommandEnv): void {
  const grants = program
    .command('grants')
    .description('grant principals the tenants they may act for (when their tokens name none)');

  grants
    .command('add <principalId> <tenants...>')
    .description('grant tenants to a principal (object id or client app id); * grants every tenant')
    .option('--json', 'print JSON')
    .action(async (principalId: string, tenantArgs: string[], options: JsonOption) => {
      const tenants = validIds(principalId, tenantArgs);
      const outcome = await withGrants(env, (admin) =>
        admin.grant(principalId, tenants, env.runtime().clock.now()),
      );
      print(
        env,
        options.json,
        { principal_id: principalId, granted: outcome.granted, already_granted: outcome.alreadyGranted },
        () =>
          [
            outcome.granted.length > 0 ? `${principalId}: granted ${outcome.granted.join(', ')}` : undefined,
            outcome.alreadyGranted.length > 0
              ? `${principalId}: already granted ${outcome.alreadyGranted.join(', ')}`
              : undefined,
          ]
            .filter((line) => line !== undefined)
            .join('\n'),
      );
    });

  grants
    .command('remove <principalId> [tenants...]')
    .description("remove a principal's grants of the given tenants, or all of them with --all")
    .option('--all', 'remove every grant of the principal')
    .option('--json', 'print JSON')
    .action(async (principalId: string, tenantArgs: string[], options: JsonOption & { all?: boolean }) => {
      if (options.all === true && tenantArgs.length > 0)
        throw new UsageError('give the tenants to remove or --all, not both');
      if (options.all !== true && tenantArgs.length === 0)
        throw new UsageError('give the tenants to remove (or --all for every grant of the principal)');
      const tenants = validIds(principalId, tenantArgs);
      const outcome = await withGrants(env, (admin) =>
        admin.revoke(principalId, options.all === true ? undefined : tenants),
      );
      print(
        env,
        options.json,
        { principal_id: principalId, removed: outcome.revoked, not_granted: outcome.notGranted },
        () =>
          [
            `${principalId}: ${outcome.revoked.length > 0 ? `removed ${outcome.revoked.join(', ')}` : 'nothing removed'}`,
            outcome.notGranted.length > 0
              ? `${principalId}: not granted ${outcome.notGranted.join(', ')}`
              : undefined,
          ]
            .filter((line) => line !== undefined)
            .join('\n'),
      );
      // A grant named but absent, or --all for a principal with none: most likely a mistyped id.
      if (outcome.notGranted.length > 0 || outcome.revoked.length === 0) env.exit(EXIT.notFound);
    });

  grants
    .command('list [principalId]')
    .description("list every grant, or one principal's")
    .option('--json', 'print JSON')
    .action(async (principalId: string | undefined, options: JsonOption) => {
      if (principalId !== undefined) validIds(principalId, []);
      const items = await withGrants(env, (admin) => admin.list(principalId));
      print(
        env,
        options.json,
        {
          items: items.map((grant) => ({
            principal_id: grant.principalId,
            tenant: grant.tenant,
            granted_at: grant.grantedAt,
          })),
        },
        () =>
          items.length === 0
            ? 'no grants'
            : table([
                ['PRINCIPAL', 'TENANT', 'GRANTED'],
                ...items.map((grant) => [grant.principalId, grant.tenant, grant.grantedAt]),
              ]),
      );
    });
}

/** The tenants (split on commas, deduplicated) once every id is valid; a UsageError otherwise. */
function validIds(principalId: string, tenantArgs: readonly string[]): string[] {
  const tenants = [
    ...new Set(tenantArgs.flatMap((arg) => arg.split(',')).map((tenant) => tenant.trim())),
  ].filter((tenant) => tenant !== '');
  if (tenantArgs.length > 0 && tenants.length === 0) throw new UsageError('no tenant given');
  const problem = grantIdProblem(principalId, tenants);
  if (problem !== undefined) throw new UsageError(problem.message);
  return tenants;
}

async function withGrants<T>(env: CommandEnv, work: (admin: TenantGrantsAdmin) => Promise<T>): Promise<T> {
  let admin: TenantGrantsAdmin;
  try {
    admin = createTenantGrantsAdmin(env.runtime().settings);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  try {
    return await work(admin);
  } catch (error) {
    // The operator needs the storage's answer, which the error's own message leaves out.
    if (error instanceof GrantsUnavailableError)
      throw new Error(`${error.message} (${error.reason})`, { cause: error });
    throw error;
  }
}
