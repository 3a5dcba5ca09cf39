import { requireRole, tenantAccess, tenantsOf } from '../../../src/auth/authorization';
import { MemoryTenantGrants } from '../../../src/auth/memory-tenant-grants';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../../../src/auth/principal';
import { ACTIONS, parseRoles, type Action, type Role } from '../../../src/auth/roles';

const principal = (roles: Role[], tenants: Principal['tenants'] = ['t1'], appId?: string): Principal => ({
  subject: 'object-1',
  ...(appId === undefined ? {} : { appId }),
  roles,
  tenants,
});

describe('requireRole', () => {
  const cases: [Role, Action[]][] = [
    ['Lucius.Submit', ['submit']],
    ['Lucius.Read', ['read']],
    ['Lucius.Operate', ['operate']],
    ['Lucius.Worker', ['worker']],
    ['Lucius.Admin', ['submit', 'read', 'operate', 'admin']],
  ];
  it.each(cases)('lets %s do exactly %j', (role, allowed) => {
    for (const action of ACTIONS) {
      const failure = requireRole(principal([role]), action);
      if (allowed.includes(action)) expect(failure).toBeUndefined();
      else expect(failure).toMatchObject({ status: 403, code: 'missing_role' });
    }
  });

  it('names the missing role in an RFC 6750 insufficient_scope challenge', () => {
    const failure = requireRole(principal(['Lucius.Read']), 'submit');
    expect(failure?.message).toBe('Forbidden: the submit action needs the app role Lucius.Submit');
    expect(failure?.wwwAuthenticate).toBe(
      'Bearer realm="lucius", error="insufficient_scope", error_description="the submit action needs the app role Lucius.Submit"',
    );
  });

  it('refuses a principal without roles, and lets the anonymous one of mode none do everything', () => {
    for (const action of ACTIONS) {
      expect(requireRole(principal([]), action)?.code).toBe('missing_role');
      expect(requireRole(ANONYMOUS_PRINCIPAL, action)).toBeUndefined();
    }
  });
});

describe('tenantAccess', () => {
  const grants = new MemoryTenantGrants({ 'object-1': ['g1', 'g2'], 'app-1': ['g3'], 'operator-app': ['*'] });

  it('allows a tenant from the tenants claim', async () => {
    expect(await tenantAccess(principal(['Lucius.Read'], ['t1', 't2']), 't2', grants, 'read')).toEqual({
      outcome: 'allowed',
      tenantId: 't2',
    });
  });

  it('answers 403 to a command for another tenant, and not-found to a read', async () => {
    const caller = principal(['Lucius.Submit'], ['t1']);
    const command = await tenantAccess(caller, 't9', grants, 'command');
    expect(command).toMatchObject({ outcome: 'denied', failure: { status: 403, code: 'tenant_forbidden' } });
    expect(await tenantAccess(caller, 't9', grants, 'read')).toEqual({ outcome: 'not-found' });
  });

  it('lets a caller with exactly one tenant omit tenant_id', async () => {
    expect(await tenantAccess(principal([], ['t1']), undefined, grants, 'read')).toEqual({
      outcome: 'allowed',
      tenantId: 't1',
    });
  });

  it('asks a caller with several tenants (or all) to name one', async () => {
    for (const tenants of [['t1', 't2'], 'all'] as const) {
      expect(await tenantAccess(principal([], tenants), undefined, grants, 'command')).toMatchObject({
        outcome: 'denied',
        failure: { status: 400, code: 'tenant_required' },
      });
    }
  });

  it('forbids a caller with no tenant at all', async () => {
    expect(await tenantAccess(principal([], []), undefined, grants, 'read')).toMatchObject({
      outcome: 'denied',
      failure: { status: 403, code: 'tenant_forbidden' },
    });
    expect(await tenantAccess(principal([], []), 't1', grants, 'read')).toEqual({ outcome: 'not-found' });
  });

  it('falls back to the grants of the object id and the client app id when the claim is missing', async () => {
    const caller = principal([], 'claim-missing', 'app-1');
    expect(await tenantsOf(caller, grants)).toEqual(['g1', 'g2', 'g3']);
    expect(await tenantAccess(caller, 'g3', grants, 'command')).toEqual({
      outcome: 'allowed',
      tenantId: 'g3',
    });
    expect(await tenantAccess(caller, 't1', grants, 'command')).toMatchObject({ outcome: 'denied' });
  });

  it('does not consult the grants when the claim is present', async () => {
    expect(await tenantAccess(principal([], ['t1']), 'g1', grants, 'read')).toEqual({ outcome: 'not-found' });
  });

  it('treats a * grant as every tenant', async () => {
    const operator = {
      subject: 'sp-1',
      appId: 'operator-app',
      roles: [],
      tenants: 'claim-missing',
    } as Principal;
    expect(await tenantsOf(operator, grants)).toBe('all');
    expect(await tenantAccess(operator, 'anything', grants, 'command')).toEqual({
      outcome: 'allowed',
      tenantId: 'anything',
    });
  });

  it('follows grants and revocations', async () => {
    const local = new MemoryTenantGrants();
    const caller = principal([], 'claim-missing');
    local.grant('object-1', ['a', 'b']);
    expect(await tenantsOf(caller, local)).toEqual(['a', 'b']);
    local.revoke('object-1', ['a']);
    expect(await tenantAccess(caller, undefined, local, 'read')).toEqual({
      outcome: 'allowed',
      tenantId: 'b',
    });
    local.revoke('object-1');
    expect(await tenantsOf(caller, local)).toEqual([]);
  });
});

describe('parseRoles', () => {
  it('reads a comma-separated list and names unknown roles', () => {
    expect(parseRoles('Lucius.Submit, Lucius.Read,Lucius.Submit')).toEqual(['Lucius.Submit', 'Lucius.Read']);
    expect(() => parseRoles('Lucius.Submit,Lucius.Root')).toThrow(/unknown role\(s\) Lucius.Root/);
  });
});
