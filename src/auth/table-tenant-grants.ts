/**
 * The grants in an Azure Table (`LUCIUS_TABLE_GRANTS`, default `LuciusGrants`): one row per grant,
 * PartitionKey = principal id (object id or client application id), RowKey = tenant (`*`: every
 * tenant), with `grantedAt`. A principal's tenants are one partition query.
 *
 * The table is created on the first write; reading a table that does not exist yet means no grants.
 * A failure to reach the table is a `GrantsUnavailableError` (503 at the HTTP edge, with a message
 * that names nothing of ours; `reason` keeps the storage's answer for the log and the CLI).
 */
import { odata, type TableClient } from '@azure/data-tables';
import { LuciusError } from '../domain/errors';
import {
  createTableClient,
  describeError,
  tableCreator,
  type TableStorageOptions,
} from '../ledger/table-support/table-clients';
import {
  grantIdProblem,
  type GrantOutcome,
  type RevokeOutcome,
  type TenantGrant,
  type TenantGrantsAdmin,
} from './tenant-grants-admin';

export interface TableTenantGrantsOptions extends TableStorageOptions {
  readonly table: string;
}

/** The grants table could not be read or written. */
export class GrantsUnavailableError extends LuciusError {
  constructor(
    operation: string,
    /** What the storage answered (for the log and the CLI; never for an HTTP caller). */
    readonly reason: string,
    cause: unknown,
  ) {
    super('grants_unavailable', `The tenant grants could not be ${operation}; retry later`, {
      fault: 'system',
      retryable: isTransient(cause),
      cause,
    });
  }
}

interface GrantEntity {
  readonly grantedAt?: string;
}

export class TableTenantGrants implements TenantGrantsAdmin {
  private readonly client: TableClient;
  private readonly createTable: () => Promise<void>;

  constructor(options: TableTenantGrantsOptions) {
    this.client = createTableClient(options, options.table);
    this.createTable = tableCreator([this.client]);
  }

  async tenantsFor(principalId: string): Promise<readonly string[]> {
    return (await this.list(principalId)).map((grant) => grant.tenant);
  }

  async list(principalId?: string): Promise<readonly TenantGrant[]> {
    const filter = principalId === undefined ? undefined : odata`PartitionKey eq ${principalId}`;
    const grants: TenantGrant[] = [];
    try {
      const entities = this.client.listEntities<GrantEntity>({
        queryOptions: {
          select: ['PartitionKey', 'RowKey', 'grantedAt', 'Timestamp'],
          ...(filter === undefined ? {} : { filter }),
        },
      });
      for await (const entity of entities)
        grants.push({
          principalId: entity.partitionKey ?? '',
          tenant: entity.rowKey ?? '',
          grantedAt: entity.grantedAt ?? entity.timestamp ?? '',
        });
    } catch (error) {
      // No table yet: nothing was ever granted.
      if (statusOf(error) === 404) return [];
      throw new GrantsUnavailableError('read', describeError(error), error);
    }
    return grants;
  }

  async grant(principalId: string, tenants: readonly string[], now: Date): Promise<GrantOutcome> {
    const problem = grantIdProblem(principalId, tenants);
    if (problem !== undefined) throw problem;
    await this.ensureTable();
    const grantedAt = now.toISOString();
    const outcomes = await Promise.all(
      unique(tenants).map(async (tenant) => {
        try {
          await this.client.createEntity({ partitionKey: principalId, rowKey: tenant, grantedAt });
          return { tenant, granted: true };
        } catch (error) {
          // 409: the grant exists; it keeps its first grantedAt.
          if (statusOf(error) === 409) return { tenant, granted: false };
          throw new GrantsUnavailableError('written', describeError(error), error);
        }
      }),
    );
    return {
      granted: outcomes.filter((o) => o.granted).map((o) => o.tenant),
      alreadyGranted: outcomes.filter((o) => !o.granted).map((o) => o.tenant),
    };
  }

  async revoke(principalId: string, tenants?: readonly string[]): Promise<RevokeOutcome> {
    const problem = grantIdProblem(principalId, tenants ?? []);
    if (problem !== undefined) throw problem;
    const targets = tenants === undefined ? await this.tenantsFor(principalId) : unique(tenants);
    const outcomes = await Promise.all(
      targets.map(async (tenant) => {
        try {
          await this.client.deleteEntity(principalId, tenant);
          return { tenant, revoked: true };
        } catch (error) {
          // 404: no such grant (or no table at all).
          if (statusOf(error) === 404) return { tenant, revoked: false };
          throw new GrantsUnavailableError('written', describeError(error), error);
        }
      }),
    );
    return {
      revoked: outcomes.filter((o) => o.revoked).map((o) => o.tenant),
      notGranted: outcomes.filter((o) => !o.revoked).map((o) => o.tenant),
    };
  }

  private async ensureTable(): Promise<void> {
    try {
      await this.createTable();
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      throw new GrantsUnavailableError('written', describeError(cause), cause);
    }
  }
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function isTransient(cause: unknown): boolean {
  const status = statusOf(cause);
  return status === undefined || status >= 500 || status === 408 || status === 429;
}
