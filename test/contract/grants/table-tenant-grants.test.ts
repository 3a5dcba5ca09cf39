/**
 * TableTenantGrants on the run's Azurite: the rows it writes, reads of a table that does not exist
 * yet, grant and revoke outcomes, an unreachable table, and the tenants it yields to `tenantAccess`.
 */
import { tenantAccess } from '../../../src/auth/authorization';
import type { Principal } from '../../../src/auth/principal';
import { GrantsUnavailableError, TableTenantGrants } from '../../../src/auth/table-tenant-grants';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName } from '../../support/unique';
import { rawEntities, unreachableConnectionString } from '../ledger/table-fixtures';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const T1 = new Date('2026-03-01T11:00:00.000Z');

function grantsOn(table: string): TableTenantGrants {
  return new TableTenantGrants({ connection: { connectionString: testTableConnectionString() }, table });
}

describe('TableTenantGrants', () => {
  it('reads no grants before the table exists, and creates it on the first grant', async () => {
    const table = uniqueTableName('grants');
    const grants = grantsOn(table);
    expect(await grants.tenantsFor('alice')).toEqual([]);
    expect(await grants.list()).toEqual([]);
    expect(await grants.revoke('alice', ['t1'])).toEqual({ revoked: [], notGranted: ['t1'] });

    expect(await grants.grant('alice', ['t1', 't2', 't1'], T0)).toEqual({
      granted: ['t1', 't2'],
      alreadyGranted: [],
    });
    expect(await rawEntities(table)).toEqual([
      expect.objectContaining({ partitionKey: 'alice', rowKey: 't1', grantedAt: T0.toISOString() }),
      expect.objectContaining({ partitionKey: 'alice', rowKey: 't2', grantedAt: T0.toISOString() }),
    ]);
  });

  it('keeps the first grantedAt of a grant given twice, and lists grants by principal then tenant', async () => {
    const grants = grantsOn(uniqueTableName('grants'));
    await grants.grant('bob', ['t2'], T0);
    await grants.grant('alice', ['*'], T0);
    expect(await grants.grant('bob', ['t1', 't2'], T1)).toEqual({ granted: ['t1'], alreadyGranted: ['t2'] });
    expect(await grants.list()).toEqual([
      { principalId: 'alice', tenant: '*', grantedAt: T0.toISOString() },
      { principalId: 'bob', tenant: 't1', grantedAt: T1.toISOString() },
      { principalId: 'bob', tenant: 't2', grantedAt: T0.toISOString() },
    ]);
    expect(await grants.list('bob')).toHaveLength(2);
    expect(await grants.tenantsFor('alice')).toEqual(['*']);
    expect(await grants.tenantsFor("o'brien")).toEqual([]);
  });

  it('revokes named grants, reports the ones that were not there, and revokes all of a principal', async () => {
    const grants = grantsOn(uniqueTableName('grants'));
    await grants.grant('alice', ['t1', 't2', 't3'], T0);
    await grants.grant('bob', ['t1'], T0);
    expect(await grants.revoke('alice', ['t2', 't9'])).toEqual({ revoked: ['t2'], notGranted: ['t9'] });
    expect(await grants.tenantsFor('alice')).toEqual(['t1', 't3']);
    expect(await grants.revoke('alice')).toEqual({ revoked: ['t1', 't3'], notGranted: [] });
    expect(await grants.tenantsFor('alice')).toEqual([]);
    expect(await grants.tenantsFor('bob')).toEqual(['t1']);
  });

  it('refuses ids a grant cannot have, before writing', async () => {
    const table = uniqueTableName('grants');
    const grants = grantsOn(table);
    await expect(grants.grant('a/b', ['t1'], T0)).rejects.toThrow(RangeError);
    await expect(grants.grant('alice', ['t 1'], T0)).rejects.toThrow(/not a valid tenant/);
    expect(await grants.list()).toEqual([]);
  });

  it('reports an unreachable table as GrantsUnavailableError, naming nothing of ours in its message', async () => {
    const grants = new TableTenantGrants({
      connection: { connectionString: await unreachableConnectionString() },
      table: 'LuciusGrants',
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    const read = grants.tenantsFor('alice');
    await expect(read).rejects.toThrow(GrantsUnavailableError);
    await expect(read).rejects.toMatchObject({
      code: 'grants_unavailable',
      fault: 'system',
      message: 'The tenant grants could not be read; retry later',
    });
    await expect(grants.grant('alice', ['t1'], T0)).rejects.toMatchObject({ code: 'grants_unavailable' });
  });

  it('gives tenantAccess the grants of the caller and of its client application', async () => {
    const grants = grantsOn(uniqueTableName('grants'));
    await grants.grant('user-oid', ['t1'], T0);
    await grants.grant('app-id', ['t2'], T0);
    const caller: Principal = { subject: 'user-oid', appId: 'app-id', roles: [], tenants: 'claim-missing' };
    expect(await tenantAccess(caller, 't2', grants, 'command')).toEqual({
      outcome: 'allowed',
      tenantId: 't2',
    });
    expect(await tenantAccess(caller, 't3', grants, 'read')).toEqual({ outcome: 'not-found' });
    await grants.grant('app-id', ['*'], T0);
    expect(await tenantAccess(caller, 't3', grants, 'read')).toEqual({ outcome: 'allowed', tenantId: 't3' });
  });
});
