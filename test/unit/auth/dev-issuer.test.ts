import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_ISSUER, DEV_KEY_FILE, DevIssuer, devAuthenticator } from '../../../src/auth/dev-issuer';
import { AuthFailure } from '../../../src/auth/errors';
import type { Principal } from '../../../src/auth/principal';

const T0 = new Date('2026-03-01T12:00:00Z');
const folders: string[] = [];

async function dataFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'lucius-dev-issuer-'));
  folders.push(folder);
  return folder;
}

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

const options = (now: Date = T0) => ({
  clockSkewSeconds: 60,
  tenantsClaim: 'lucius_tenants',
  now: () => now,
});
const bearer = (token: string): Headers => new Headers({ authorization: `Bearer ${token}` });

describe('DevIssuer', () => {
  it('issues a token that the dev authenticator accepts, with the roles and tenants asked for', async () => {
    const issuer = await DevIssuer.open(await dataFolder());
    const token = await issuer.issueDevToken(
      {
        tenants: ['t1'],
        roles: ['Lucius.Submit', 'Lucius.Read'],
        subject: 'alice',
        name: 'Alice',
        ttlSeconds: 3600,
      },
      T0,
    );
    expect(decodeProtectedHeader(token)).toMatchObject({
      alg: 'ES256',
      typ: 'JWT',
      kid: issuer.jwks().keys[0]?.kid,
    });
    expect(decodeJwt(token)).toMatchObject({
      iss: DEV_ISSUER,
      sub: 'alice',
      oid: 'alice',
      exp: T0.getTime() / 1000 + 3600,
    });
    const principal = await devAuthenticator(issuer, options()).authenticate(bearer(token));
    expect(principal).toEqual({
      subject: 'alice',
      name: 'Alice',
      roles: ['Lucius.Submit', 'Lucius.Read'],
      tenants: ['t1'],
    });
  });

  it('creates its key file once, readable by its owner only, and reuses it', async () => {
    const folder = join(await dataFolder(), 'nested', 'data');
    const first = await DevIssuer.open(folder);
    const file = await stat(join(folder, DEV_KEY_FILE));
    expect(file.mode & 0o777).toBe(0o600);
    expect((await stat(folder)).mode & 0o077).toBe(0);
    const token = await first.issueDevToken({ tenants: ['t1'], roles: ['Lucius.Read'], ttlSeconds: 60 }, T0);
    const second = await DevIssuer.open(folder);
    expect(second.jwks()).toEqual(first.jwks());
    expect(await devAuthenticator(second, options()).authenticate(bearer(token))).toMatchObject({
      subject: 'dev-user',
    });
  });

  it('publishes the public key only', async () => {
    const folder = await dataFolder();
    const issuer = await DevIssuer.open(folder);
    const [key] = issuer.jwks().keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key).not.toHaveProperty('d');
    expect(JSON.parse(await readFile(join(folder, DEV_KEY_FILE), 'utf8'))).toHaveProperty('d');
  });

  it('refuses a key file that others may read', async () => {
    const folder = await dataFolder();
    await DevIssuer.open(folder);
    await chmod(join(folder, DEV_KEY_FILE), 0o644);
    await expect(DevIssuer.open(folder)).rejects.toThrow(/readable by others: chmod 600/);
  });

  it('refuses a token of another dev issuer', async () => {
    const ours = await DevIssuer.open(await dataFolder());
    const theirs = await DevIssuer.open(await dataFolder());
    const token = await theirs.issueDevToken(
      { tenants: ['t1'], roles: ['Lucius.Admin'], ttlSeconds: 60 },
      T0,
    );
    const failure = await devAuthenticator(ours, options()).authenticate(bearer(token));
    expect(failure).toBeInstanceOf(AuthFailure);
    expect((failure as AuthFailure).code).toBe('invalid_token');
  });

  it('refuses its own token once expired, and one for another audience', async () => {
    const issuer = await DevIssuer.open(await dataFolder());
    const token = await issuer.issueDevToken({ tenants: ['t1'], roles: ['Lucius.Read'], ttlSeconds: 60 }, T0);
    const later = new Date(T0.getTime() + 3600_000);
    const expired = (await devAuthenticator(issuer, options(later)).authenticate(
      bearer(token),
    )) as AuthFailure;
    expect(expired.message).toMatch(/expired/);
    const elsewhere = await issuer.issueDevToken(
      { tenants: ['t1'], roles: ['Lucius.Read'], ttlSeconds: 60, audience: 'api://other' },
      T0,
    );
    const wrongAudience = (await devAuthenticator(issuer, options()).authenticate(
      bearer(elsewhere),
    )) as AuthFailure;
    expect(wrongAudience.message).toMatch(/another audience/);
  });

  it('carries the tenants in the configured claim and the client app id in azp', async () => {
    const issuer = await DevIssuer.open(await dataFolder());
    const token = await issuer.issueDevToken(
      {
        tenants: ['t1', 't2'],
        roles: ['Lucius.Worker'],
        appId: 'worker-app',
        ttlSeconds: 60,
        tenantsClaim: 'extension_tenants',
      },
      T0,
    );
    const principal = (await devAuthenticator(issuer, {
      ...options(),
      tenantsClaim: 'extension_tenants',
    }).authenticate(bearer(token))) as Principal;
    expect(principal).toMatchObject({ appId: 'worker-app', roles: ['Lucius.Worker'], tenants: ['t1', 't2'] });
  });

  it('does not accept an x-ms-client-principal header in place of a token', async () => {
    const issuer = await DevIssuer.open(await dataFolder());
    const header = Buffer.from(
      JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: 'x' }] }),
    ).toString('base64');
    const failure = await devAuthenticator(issuer, options()).authenticate(
      new Headers({ 'x-ms-client-principal': header }),
    );
    expect(failure).toMatchObject({ status: 401, code: 'unauthenticated' });
  });
});
