/**
 * `lucius grants` as an operator runs it (a child process, from sources) against a grants table on
 * the run's Azurite: add, list, remove, their JSON, and the exit codes of mistakes.
 */
import { TableTenantGrants } from '../../src/auth/table-tenant-grants';
import { testTableConnectionString } from '../support/table-storage';
import { uniqueTableName } from '../support/unique';
import { runLucius } from './run-lucius';

/** Each call starts a real process (a few seconds each on a loaded machine). */
jest.setTimeout(120_000);

function tableEnv(grantsTable: string, backend = 'ledger'): Record<string, string> {
  return {
    LUCIUS_STORAGE_BACKEND: backend,
    LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
    LUCIUS_TABLE_LEDGER: uniqueTableName('ledger'),
    LUCIUS_TABLE_GRANTS: grantsTable,
  };
}

describe('lucius grants', () => {
  it('adds, lists and removes grants in LUCIUS_TABLE_GRANTS', async () => {
    const table = uniqueTableName('grants');
    const env = tableEnv(table);
    const oid = '00000000-1111-2222-3333-444444444444';

    const added = await runLucius(['grants', 'add', oid, 't1,t2', 't3', '--json'], env);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(added.stdout)).toEqual({
      principal_id: oid,
      granted: ['t1', 't2', 't3'],
      already_granted: [],
    });

    const again = await runLucius(['grants', 'add', oid, 't3', '*'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${oid}: granted *\n${oid}: already granted t3\n`);

    // What the app reads is what the CLI wrote.
    const app = new TableTenantGrants({
      connection: { connectionString: testTableConnectionString() },
      table,
    });
    expect(await app.tenantsFor(oid)).toEqual(['*', 't1', 't2', 't3']);

    const listed = await runLucius(['grants', 'list', oid, '--json'], env);
    expect(listed.code).toBe(0);
    const items = (JSON.parse(listed.stdout) as { items: Array<Record<string, string>> }).items;
    expect(items.map((item) => item.tenant)).toEqual(['*', 't1', 't2', 't3']);
    expect(items[0]).toEqual({ principal_id: oid, tenant: '*', granted_at: expect.any(String) });

    const removed = await runLucius(['grants', 'remove', oid, 't2', 't9', '--json'], env);
    expect(removed.code).toBe(3);
    expect(JSON.parse(removed.stdout)).toEqual({ principal_id: oid, removed: ['t2'], not_granted: ['t9'] });

    const all = await runLucius(['grants', 'remove', oid, '--all'], env);
    expect(all).toMatchObject({ code: 0, stdout: `${oid}: removed *, t1, t3\n` });
    const empty = await runLucius(['grants', 'list'], env);
    expect(empty).toMatchObject({ code: 0, stdout: 'no grants\n' });
  });

  it('exits 2 for a bad id or option, and for the memory backend', async () => {
    const env = tableEnv(uniqueTableName('grants'), 'table');
    const results = await Promise.all([
      runLucius(['grants', 'add', 'a/b', 't1'], env),
      runLucius(['grants', 'add', 'alice', 'not a tenant', '--json'], env),
      runLucius(['grants', 'add', 'alice'], env),
      runLucius(['grants', 'remove', 'alice'], env),
      runLucius(['grants', 'remove', 'alice', 't1', '--all'], env),
      runLucius(['grants', 'list'], { LUCIUS_STORAGE_BACKEND: 'memory' }),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(results[0]?.stderr).toMatch(/not a valid principal id: "a\/b"/);
    expect(JSON.parse(results[1]?.stderr ?? '')).toMatchObject({
      error: { exitCode: 2, message: expect.stringMatching(/not a valid tenant: "not a tenant"/) },
    });
    expect(results[3]?.stderr).toMatch(/give the tenants to remove/);
    expect(results[5]?.stderr).toMatch(/LUCIUS_STORAGE_BACKEND=table or ledger/);
  });
});
