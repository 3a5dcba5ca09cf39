import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { DevIssuer, devAuthenticator } from '../../../src/auth/dev-issuer';
import type { Principal } from '../../../src/auth/principal';
import { UsageError } from '../../../src/cli/exit-codes';
import { SmokeTokenError, smokeTokenSource } from '../../../src/cli/commands/smoke-token';

const folders: string[] = [];

async function dataFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'lucius-smoke-token-'));
  folders.push(folder);
  return folder;
}

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

const base = {
  data: '/nowhere',
  apiUrl: 'http://localhost:7071/api',
  tenantId: 'smoke-t1',
  timeoutMs: 120_000,
};

/** A credential that hands out numbered tokens expiring `lifetimeMs` after the clock's reading. */
function countingCredential(clock: { now: number }, lifetimeMs: number) {
  const scopes: string[] = [];
  const credential: TokenCredential = {
    getToken: (scope) => {
      scopes.push(String(scope));
      const answer: AccessToken = {
        token: `token-${scopes.length}`,
        expiresOnTimestamp: clock.now + lifetimeMs,
      };
      return Promise.resolve(answer);
    },
  };
  return { credential, scopes };
}

describe('smokeTokenSource', () => {
  it('gives no source without a token option, and refuses two at once', () => {
    expect(smokeTokenSource(base)).toBeUndefined();
    expect(() => smokeTokenSource({ ...base, token: 'a', devToken: true })).toThrow(UsageError);
    expect(() => smokeTokenSource({ ...base, scope: 'api://x/.default', devToken: true })).toThrow(
      /give one of --scope, --dev-token, not several/,
    );
  });

  it('sends a given token as is, without a Bearer prefix pasted along', async () => {
    await expect(smokeTokenSource({ ...base, token: 'Bearer abc.def.ghi' })?.()).resolves.toBe('abc.def.ghi');
    expect(() => smokeTokenSource({ ...base, token: '  ' })).toThrow(/--token is empty/);
  });

  it("asks the credential for the scope's token and again only when it nears its expiry", async () => {
    const clock = { now: 1_000_000 };
    const { credential, scopes } = countingCredential(clock, 60 * 60_000);
    const source = smokeTokenSource(
      { ...base, scope: 'api://lucius-app/.default' },
      () => credential,
      () => clock.now,
    );
    expect(await source?.()).toBe('token-1');
    clock.now += 50 * 60_000;
    expect(await source?.()).toBe('token-1');
    clock.now += 6 * 60_000;
    expect(await source?.()).toBe('token-2');
    expect(scopes).toEqual(['api://lucius-app/.default', 'api://lucius-app/.default']);
  });

  it('refuses a scope that is not a /.default scope, and names the scope when no token can be had', async () => {
    expect(() => smokeTokenSource({ ...base, scope: 'api://lucius-app' })).toThrow(UsageError);
    const failing: TokenCredential = { getToken: () => Promise.reject(new Error('run az login\nmore')) };
    const source = smokeTokenSource({ ...base, scope: 'api://lucius-app/.default' }, () => failing);
    await expect(source?.()).rejects.toThrow(
      new SmokeTokenError('cannot get a token for api://lucius-app/.default: run az login'),
    );
  });

  it('mints a dev token for the smoke tenant with Lucius.Submit and Lucius.Read, which the dev issuer accepts', async () => {
    const data = await dataFolder();
    const issuer = await DevIssuer.open(data);
    const token = await smokeTokenSource({
      ...base,
      devToken: true,
      data,
      apiUrl: 'http://127.0.0.1:1/api',
    })?.();
    const principal = (await devAuthenticator(issuer, {
      clockSkewSeconds: 60,
      tenantsClaim: 'lucius_tenants',
    }).authenticate(new Headers({ authorization: `Bearer ${token}` }))) as Principal;
    expect(principal).toMatchObject({ roles: ['Lucius.Submit', 'Lucius.Read'], tenants: ['smoke-t1'] });
  });

  it('refuses --dev-token against another machine, and from a folder without the issuer key', async () => {
    expect(() =>
      smokeTokenSource({ ...base, devToken: true, apiUrl: 'https://lucius.azurewebsites.net/api' }),
    ).toThrow(/--dev-token is for Lucius on this machine/);
    const empty = await dataFolder();
    await expect(smokeTokenSource({ ...base, devToken: true, data: empty })?.()).rejects.toThrow(
      /--dev-token: no dev issuer key at .*dev-issuer-key\.json/,
    );
  });
});
