import { grantIdProblem, isGrantableTenant, isPrincipalId } from '../../../src/auth/tenant-grants-admin';

describe('grant ids', () => {
  it('accepts object ids, application ids, sub values and tenant ids or *', () => {
    expect(isPrincipalId('00000000-1111-2222-3333-444444444444')).toBe(true);
    expect(isPrincipalId('AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bb-_a')).toBe(true);
    expect(isGrantableTenant('tenant-1.eu:a_b')).toBe(true);
    expect(isGrantableTenant('*')).toBe(true);
    expect(grantIdProblem('dev-user', ['t1', '*'])).toBeUndefined();
  });

  it('refuses what a Table key cannot hold or a tenant id may not be', () => {
    for (const id of ['', 'a/b', 'a#b', 'a?b', 'a\\b', 'a b', 'x'.repeat(257)])
      expect(isPrincipalId(id)).toBe(false);
    for (const tenant of ['', '-t', 't/1', 't 1', '**', 'x'.repeat(129)])
      expect(isGrantableTenant(tenant)).toBe(false);
    expect(grantIdProblem('alice', ['t1', 'bad tenant'])?.message).toMatch(
      /not a valid tenant: "bad tenant"/,
    );
    expect(grantIdProblem('a/b', [])?.message).toMatch(/not a valid principal id/);
  });
});
