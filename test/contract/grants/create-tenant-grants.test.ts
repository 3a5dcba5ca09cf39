/**
 * createTenantGrants / createTenantGrantsAdmin: where the grants live for each backend (memory; the
 * grants table on the ledger's connection for `table` and `ledger`), and the cache in front of the
 * table, on a clock the test moves.
 */
import { createTenantGrants, createTenantGrantsAdmin } from '../../../src/auth/create-tenant-grants';
import { MemoryTenantGrants } from '../../../src/auth/memory-tenant-grants';
import { parseSettings } from '../../../src/config/settings';
import type { Clock } from '../../../src/domain/clock';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName } from '../../support/unique';
import { rawEntities } from '../ledger/table-fixtures';

const T0 = new Date('2026-03-01T10:00:00.000Z');

function movableClock(): Clock & { advance(seconds: number): void } {
  let ms = T0.getTime();
  return { now: () => new Date(ms), advance: (seconds) => (ms += seconds * 1000) };
}

describe('createTenantGrants', () => {
  it('keeps grants in memory for the memory backend, and has no admin for it', () => {
    const settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' });
    expect(createTenantGrants(settings)).toBeInstanceOf(MemoryTenantGrants);
    expect(() => createTenantGrantsAdmin(settings)).toThrow(/LUCIUS_STORAGE_BACKEND=table or ledger/);
  });

  it.each(['table', 'ledger'])(
    'reads LUCIUS_TABLE_GRANTS for the %s backend through a cache of LUCIUS_AUTH_GRANTS_CACHE_SECONDS',
    async (backend) => {
      const table = uniqueTableName('grants');
      const settings = parseSettings({
        LUCIUS_STORAGE_BACKEND: backend,
        LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
        LUCIUS_TABLE_GRANTS: table,
        LUCIUS_AUTH_GRANTS_CACHE_SECONDS: '45',
      });
      const clock = movableClock();
      const admin = createTenantGrantsAdmin(settings);
      const grants = createTenantGrants(settings, { clock });

      await admin.grant('alice', ['t1', 't2'], clock.now());
      expect(await rawEntities(table)).toHaveLength(2);
      expect(await grants.tenantsFor('alice')).toEqual(['t1', 't2']);

      await admin.revoke('alice', ['t2']);
      clock.advance(44);
      expect(await grants.tenantsFor('alice')).toEqual(['t1', 't2']);
      clock.advance(1);
      expect(await grants.tenantsFor('alice')).toEqual(['t1']);
    },
  );
});
