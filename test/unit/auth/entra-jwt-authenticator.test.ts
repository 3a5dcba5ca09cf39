import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';
import { AuthFailure } from '../../../src/auth/errors';
import { EntraTrust } from '../../../src/auth/entra-trust';
import { JwtAuthenticator } from '../../../src/auth/jwt-authenticator';
import type { Principal } from '../../../src/auth/principal';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '99999999-8888-7777-6666-555555555555';
const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicJwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A stand-in for login.microsoftonline.com: the tenant's OpenID metadata and its JWKS. */
class FakeEntra {
  published: JWK[] = [];
  jwksFetches = 0;
  metadataStatus = 200;
  jwksStatus = 200;
  private server?: Server;
  base = '';

  get issuer(): string {
    return `${this.base}/${TENANT}/v2.0`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.url === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
        response.writeHead(this.metadataStatus, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.base}/${TENANT}/discovery/v2.0/keys` }),
        );
      } else if (request.url === `/${TENANT}/discovery/v2.0/keys`) {
        this.jwksFetches += 1;
        response.writeHead(this.jwksStatus, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: this.published }));
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const entra = new FakeEntra();
let keyA: SigningKey;
let keyB: SigningKey;

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([signingKey('key-a'), signingKey('key-b')]);
  await entra.start();
});
afterAll(() => entra.stop());
beforeEach(() => {
  entra.published = [keyA.publicJwk];
  entra.metadataStatus = 200;
  entra.jwksStatus = 200;
});

function authenticator(options: { cooldownMs?: number; clockSkewSeconds?: number } = {}): JwtAuthenticator {
  return new JwtAuthenticator({
    mode: 'entra',
    trust: new EntraTrust({ tenantId: TENANT, authority: entra.base, cooldownMs: options.cooldownMs ?? 0 }),
    audiences: [CLIENT_ID, `api://${CLIENT_ID}`],
    algorithms: ['RS256'],
    clockSkewSeconds: options.clockSkewSeconds ?? 60,
    tenantsClaim: 'lucius_tenants',
    now: () => NOW,
  });
}

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: entra.issuer,
  aud: CLIENT_ID,
  oid: 'object-1',
  sub: 'pairwise-sub',
  azp: 'client-app-1',
  name: 'Ada',
  roles: ['Lucius.Submit', 'Lucius.Read', 'Not.A.Lucius.Role'],
  lucius_tenants: ['t1', 't2'],
  iat: NOW_S - 10,
  nbf: NOW_S - 10,
  exp: NOW_S + 3600,
  ...extra,
});

function sign(
  payload: Record<string, unknown>,
  key: SigningKey = keyA,
  kid: string = key.kid,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(key.privateKey);
}

const bearer = (token: string): Headers => new Headers({ authorization: `Bearer ${token}` });

async function refused(result: Principal | AuthFailure): Promise<AuthFailure> {
  expect(result).toBeInstanceOf(AuthFailure);
  return result as AuthFailure;
}

describe('JwtAuthenticator in entra mode', () => {
  it('accepts a valid token and reads the principal from its claims', async () => {
    const principal = await authenticator().authenticate(bearer(await sign(claims())));
    expect(principal).toEqual({
      subject: 'object-1',
      appId: 'client-app-1',
      name: 'Ada',
      roles: ['Lucius.Submit', 'Lucius.Read'],
      tenants: ['t1', 't2'],
    });
  });

  it('accepts the Application ID URI as audience too', async () => {
    const principal = await authenticator().authenticate(
      bearer(await sign(claims({ aud: `api://${CLIENT_ID}` }))),
    );
    expect(principal).not.toBeInstanceOf(AuthFailure);
  });

  it('reads a comma-separated tenants claim, and reports a missing one', async () => {
    const listed = (await authenticator().authenticate(
      bearer(await sign(claims({ lucius_tenants: 't3, t4' }))),
    )) as Principal;
    expect(listed.tenants).toEqual(['t3', 't4']);
    const missing = (await authenticator().authenticate(
      bearer(await sign(claims({ lucius_tenants: undefined }))),
    )) as Principal;
    expect(missing.tenants).toBe('claim-missing');
  });

  it('answers a request without credentials with a bare Bearer challenge', async () => {
    for (const headers of [new Headers(), new Headers({ authorization: 'Basic dXNlcjpwYXNz' })]) {
      const failure = await refused(await authenticator().authenticate(headers));
      expect(failure).toMatchObject({
        status: 401,
        code: 'unauthenticated',
        wwwAuthenticate: 'Bearer realm="lucius"',
      });
    }
  });

  it('refuses a Bearer header that holds no token', async () => {
    const failure = await refused(
      await authenticator().authenticate(new Headers({ authorization: 'Bearer a b' })),
    );
    expect(failure).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses a token with a bad signature', async () => {
    const forged = await signingKey('key-a'); // the published kid, another private key
    const failure = await refused(await authenticator().authenticate(bearer(await sign(claims(), forged))));
    expect(failure.code).toBe('invalid_token');
    expect(failure.wwwAuthenticate).toBe(
      'Bearer realm="lucius", error="invalid_token", error_description="the token signature is invalid"',
    );
  });

  it('refuses an expired token, and tolerates the clock skew', async () => {
    const expired = await refused(
      await authenticator().authenticate(bearer(await sign(claims({ exp: NOW_S - 61 })))),
    );
    expect(expired.message).toBe('The bearer token was refused: the token has expired');
    const withinSkew = await authenticator().authenticate(bearer(await sign(claims({ exp: NOW_S - 30 }))));
    expect(withinSkew).not.toBeInstanceOf(AuthFailure);
    const noSkew = await authenticator({ clockSkewSeconds: 0 }).authenticate(
      bearer(await sign(claims({ exp: NOW_S - 30 }))),
    );
    expect(noSkew).toBeInstanceOf(AuthFailure);
  });

  it('refuses a token without an expiry', async () => {
    const failure = await refused(
      await authenticator().authenticate(bearer(await sign(claims({ exp: undefined })))),
    );
    expect(failure.message).toMatch(/exp claim/);
  });

  it('refuses a token that is not valid yet', async () => {
    const failure = await refused(
      await authenticator().authenticate(bearer(await sign(claims({ nbf: NOW_S + 600 })))),
    );
    expect(failure.message).toBe('The bearer token was refused: the token is not valid yet');
  });

  it('refuses a token for another audience', async () => {
    const failure = await refused(
      await authenticator().authenticate(bearer(await sign(claims({ aud: 'api://someone-else' })))),
    );
    expect(failure.message).toBe('The bearer token was refused: the token is for another audience');
  });

  it('refuses a token from another issuer', async () => {
    const failure = await refused(
      await authenticator().authenticate(
        bearer(await sign(claims({ iss: 'https://login.microsoftonline.com/another-tenant/v2.0' }))),
      ),
    );
    expect(failure.message).toBe(
      'The bearer token was refused: the token is from an issuer this app does not trust',
    );
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: keyA.kid }));
    const payload = base64url.encode(JSON.stringify(claims()));
    for (const token of [`${header}.${payload}.`, `${header}.${payload}`]) {
      const failure = await refused(await authenticator().authenticate(bearer(token)));
      expect(failure).toMatchObject({ status: 401, code: 'invalid_token' });
    }
  });

  it('refuses an HS256 token whose HMAC secret is the published public key', async () => {
    const publicKey: KeyObject = createPublicKey({
      key: keyA.publicJwk as import('node:crypto').JsonWebKey,
      format: 'jwk',
    });
    for (const secret of [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
    ]) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: keyA.kid })
        .sign(new Uint8Array(Buffer.from(secret)));
      const failure = await refused(await authenticator().authenticate(bearer(token)));
      expect(failure.message).toBe(
        'The bearer token was refused: the token is signed with an algorithm this app does not accept',
      );
    }
  });

  it('fetches the key set once and serves later tokens from its cache', async () => {
    const subject = authenticator({ cooldownMs: 60_000 });
    const before = entra.jwksFetches;
    for (let i = 0; i < 3; i += 1)
      expect(await subject.authenticate(bearer(await sign(claims())))).not.toBeInstanceOf(AuthFailure);
    expect(entra.jwksFetches - before).toBe(1);
  });

  it('refetches the key set for an unknown kid, so a rolled key is accepted once published', async () => {
    const subject = authenticator();
    expect(await subject.authenticate(bearer(await sign(claims())))).not.toBeInstanceOf(AuthFailure);
    const unknown = await refused(await subject.authenticate(bearer(await sign(claims(), keyB))));
    expect(unknown.message).toBe(
      'The bearer token was refused: the token is signed with a key the issuer does not publish',
    );
    const fetchesBefore = entra.jwksFetches;
    entra.published = [keyA.publicJwk, keyB.publicJwk];
    expect(await subject.authenticate(bearer(await sign(claims(), keyB)))).toMatchObject({
      subject: 'object-1',
    });
    expect(entra.jwksFetches).toBe(fetchesBefore + 1);
  });

  it('does not refetch the key set for unknown kids within the cooldown', async () => {
    const subject = authenticator({ cooldownMs: 60 * 60_000 });
    expect(await subject.authenticate(bearer(await sign(claims())))).not.toBeInstanceOf(AuthFailure);
    const fetchesBefore = entra.jwksFetches;
    for (let i = 0; i < 3; i += 1)
      await refused(await subject.authenticate(bearer(await sign(claims(), keyB))));
    expect(entra.jwksFetches).toBe(fetchesBefore);
  });

  it('answers 503 while the metadata cannot be fetched, and recovers when it can', async () => {
    entra.metadataStatus = 500;
    const subject = authenticator();
    const failure = await refused(await subject.authenticate(bearer(await sign(claims()))));
    expect(failure).toMatchObject({
      status: 503,
      code: 'auth_unavailable',
      fault: 'system',
      retryable: true,
    });
    expect(failure.message).not.toContain(entra.base);
    entra.metadataStatus = 200;
    expect(await subject.authenticate(bearer(await sign(claims())))).not.toBeInstanceOf(AuthFailure);
  });

  it('answers 503 while the key set cannot be fetched', async () => {
    entra.jwksStatus = 500;
    const failure = await refused(await authenticator().authenticate(bearer(await sign(claims()))));
    expect(failure).toMatchObject({ status: 503, code: 'auth_unavailable' });
  });

  it('refuses an oversized token before parsing it', async () => {
    const failure = await refused(await authenticator().authenticate(bearer('a'.repeat(20_000))));
    expect(failure.message).toBe('The bearer token was refused: the bearer token is too long');
  });

  it('ignores an x-ms-client-principal header', async () => {
    const header = Buffer.from(
      JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: 'x' }] }),
    ).toString('base64');
    const failure = await refused(
      await authenticator().authenticate(new Headers({ 'x-ms-client-principal': header })),
    );
    expect(failure.code).toBe('unauthenticated');
  });

  it('never puts a stack or a library message in what the caller sees', async () => {
    const failure = await refused(await authenticator().authenticate(bearer('abc.def.ghi')));
    expect(failure.message).toBe('The bearer token was refused: the token is malformed');
    expect(failure.wwwAuthenticate).not.toMatch(/\n|JWS|JOSE/);
  });
});

describe('EntraTrust', () => {
  it.each(['common', 'organizations', 'consumers', 'a/b'])('refuses %s as the tenant', (tenantId) => {
    expect(() => new EntraTrust({ tenantId })).toThrow(/not a single directory/);
  });

  it('refuses a plain-http authority that is not loopback', () => {
    expect(() => new EntraTrust({ tenantId: TENANT, authority: 'http://login.example.com' })).toThrow(
      /https/,
    );
  });
});

describe('JwtAuthenticator', () => {
  it('refuses to be built with a symmetric algorithm allowed', () => {
    expect(
      () =>
        new JwtAuthenticator({
          mode: 'entra',
          trust: new EntraTrust({ tenantId: TENANT }),
          audiences: [CLIENT_ID],
          algorithms: ['HS256' as 'RS256'],
          clockSkewSeconds: 60,
          tenantsClaim: 'lucius_tenants',
        }),
    ).toThrow(/asymmetric/);
  });
});
