import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { DEV_KEY_FILE, DevIssuer, devAuthenticator } from '../../../src/auth/dev-issuer';
import type { Principal } from '../../../src/auth/principal';
import { parseTtl } from '../../../src/cli/commands/token';
import { emptyDirectory, runLucius } from '../../cli/run-lucius';

const folders: string[] = [];
const folder = (): string => {
  const created = emptyDirectory();
  folders.push(created);
  return created;
};
afterAll(async () => {
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

async function validate(token: string, dataDir: string, tenantsClaim = 'lucius_tenants'): Promise<Principal> {
  const authenticator = devAuthenticator(await DevIssuer.open(dataDir), {
    clockSkewSeconds: 60,
    tenantsClaim,
  });
  return (await authenticator.authenticate(new Headers({ authorization: `Bearer ${token}` }))) as Principal;
}

describe('lucius token', () => {
  it('prints a dev token that the dev authenticator accepts', async () => {
    const data = join(folder(), 'data');
    const result = await runLucius(
      ['token', '--tenant', 't1', '--roles', 'Lucius.Submit,Lucius.Read', '--data', data, '--ttl', '15m'],
      {},
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const token = result.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(await validate(token, data)).toEqual({
      subject: 'dev-user',
      roles: ['Lucius.Submit', 'Lucius.Read'],
      tenants: ['t1'],
    });
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
    expect((await stat(join(data, DEV_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('keeps its key in .azurite of the working directory by default, and prints JSON with --json', async () => {
    const cwd = folder();
    const result = await runLucius(
      [
        'token',
        '--tenant',
        't1,t2',
        '--tenant',
        't3',
        '--roles',
        'Lucius.Operate',
        '--subject',
        'ops',
        '--json',
      ],
      { LUCIUS_AUTH_TENANTS_CLAIM: 'extension_tenants' },
      cwd,
    );
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { token: string; expires_at: string; tenants: string[] };
    expect(printed).toMatchObject({ tenants: ['t1', 't2', 't3'], roles: ['Lucius.Operate'], subject: 'ops' });
    expect(new Date(printed.expires_at).getTime()).toBe((decodeJwt(printed.token).exp ?? 0) * 1000);
    expect(await validate(printed.token, join(cwd, '.azurite'), 'extension_tenants')).toMatchObject({
      subject: 'ops',
      tenants: ['t1', 't2', 't3'],
    });
  });

  it.each([
    [['--roles', 'Lucius.Read'], /--tenant is required/],
    [['--tenant', 't1', '--roles', 'Lucius.Root'], /unknown role\(s\) Lucius.Root/],
    [['--tenant', 't1', '--roles', 'Lucius.Read', '--ttl', '1y'], /--ttl must be a duration/],
    [['--tenant', 't1'], /required option '--roles <roles>'/],
  ])('exits 2 for %j', async (args, message) => {
    const result = await runLucius(['token', '--data', join(folder(), 'data'), ...args], {});
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('parseTtl', () => {
  it('reads seconds and s, m, h, d units up to 30 days', () => {
    expect([parseTtl('90'), parseTtl('90s'), parseTtl('15m'), parseTtl('1h'), parseTtl('30d')]).toEqual([
      90, 90, 900, 3600, 2_592_000,
    ]);
    for (const bad of ['0', '31d', '-1h', '1.5h', 'h', '']) expect(() => parseTtl(bad)).toThrow(/--ttl/);
  });
});
