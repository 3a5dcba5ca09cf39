import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authWarnings, parseAuthSettings } from '../../../src/config/auth-settings';
import { createAuthenticator } from '../../../src/auth/create-authenticator';
import { DevIssuer } from '../../../src/auth/dev-issuer';
import { SettingsError } from '../../../src/config/errors';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseAuthSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).problems.map((p) => p.variable);
  }
  throw new Error('expected a SettingsError');
}

describe('parseAuthSettings', () => {
  it('defaults to entra, which needs the tenant and the audience', () => {
    expect(problemsOf({})).toEqual(['LUCIUS_AUTH_TENANT_ID', 'LUCIUS_AUTH_AUDIENCE']);
  });

  it('reads entra settings with their defaults', () => {
    expect(
      parseAuthSettings({
        LUCIUS_AUTH_TENANT_ID: 'contoso.onmicrosoft.com',
        LUCIUS_AUTH_AUDIENCE: 'client-id, api://lucius',
      }),
    ).toEqual({
      mode: 'entra',
      tenantId: 'contoso.onmicrosoft.com',
      audiences: ['client-id', 'api://lucius'],
      authority: 'https://login.microsoftonline.com',
      algorithms: ['RS256'],
      clockSkewSeconds: 60,
      tenantsClaim: 'lucius_tenants',
      jwksCacheMinutes: 10,
      jwksCooldownSeconds: 30,
    });
  });

  it('names every bad variable at once', () => {
    expect(
      problemsOf({
        LUCIUS_AUTH_TENANT_ID: 'common',
        LUCIUS_AUTH_AUDIENCE: 'api://lucius',
        LUCIUS_AUTH_AUTHORITY: 'http://login.example.com',
        LUCIUS_AUTH_ALGORITHMS: 'RS256,HS256',
        LUCIUS_AUTH_CLOCK_SKEW_SECONDS: '3600',
        LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS: '-1',
      }),
    ).toEqual([
      'LUCIUS_AUTH_CLOCK_SKEW_SECONDS',
      'LUCIUS_AUTH_TENANT_ID',
      'LUCIUS_AUTH_AUTHORITY',
      'LUCIUS_AUTH_ALGORITHMS',
      'LUCIUS_AUTH_JWKS_COOLDOWN_SECONDS',
    ]);
    expect(problemsOf({ LUCIUS_AUTH_MODE: 'open' })).toContain('LUCIUS_AUTH_MODE');
  });

  it('refuses alg none in the allow-list', () => {
    expect(
      problemsOf({ LUCIUS_AUTH_TENANT_ID: 't', LUCIUS_AUTH_AUDIENCE: 'a', LUCIUS_AUTH_ALGORITHMS: 'none' }),
    ).toEqual(['LUCIUS_AUTH_ALGORITHMS']);
  });

  it('gives dev mode its audience and data folder, and warns for dev and none', () => {
    const dev = parseAuthSettings({ LUCIUS_AUTH_MODE: 'dev' });
    expect(dev).toMatchObject({ mode: 'dev', audiences: ['api://lucius-dev'], devDataDir: '.azurite' });
    expect(authWarnings(dev)).toEqual([expect.stringMatching(/local use only/)]);
    const none = parseAuthSettings({ LUCIUS_AUTH_MODE: 'none' });
    expect(authWarnings(none)).toEqual([expect.stringMatching(/without credentials/)]);
  });
});

describe('createAuthenticator', () => {
  it('builds the dev authenticator over the data folder, and the anonymous one for none', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'lucius-auth-settings-'));
    try {
      const dev = await createAuthenticator(
        parseAuthSettings({ LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: folder }),
      );
      const token = await (
        await DevIssuer.open(folder)
      ).issueDevToken({
        tenants: ['t1'],
        roles: ['Lucius.Read'],
        ttlSeconds: 300,
      });
      expect(await dev.authenticate(new Headers({ authorization: `Bearer ${token}` }))).toMatchObject({
        subject: 'dev-user',
        tenants: ['t1'],
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    const none = await createAuthenticator(parseAuthSettings({ LUCIUS_AUTH_MODE: 'none' }));
    expect(await none.authenticate(new Headers())).toMatchObject({ subject: 'anonymous', tenants: 'all' });
  });

  it('builds the entra authenticator without fetching anything until a request comes', async () => {
    const fetched: string[] = [];
    const entra = await createAuthenticator(
      parseAuthSettings({ LUCIUS_AUTH_TENANT_ID: 'tid', LUCIUS_AUTH_AUDIENCE: 'api://lucius' }),
      {
        fetch: (input) => {
          fetched.push(String(input));
          return Promise.resolve(new Response('unavailable', { status: 503 }));
        },
      },
    );
    expect(fetched).toEqual([]);
    const failure = await entra.authenticate(new Headers({ authorization: 'Bearer abc.def.ghi' }));
    expect(failure).toMatchObject({ status: 503, code: 'auth_unavailable' });
    expect(fetched).toEqual(['https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration']);
  });
});
