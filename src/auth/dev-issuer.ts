/**
 * The local token issuer of `LUCIUS_AUTH_MODE=dev` (for `npm start`, never for a deployment).
 *
 * Its signing key (ES256, a JWK with its private part) lives in `<data folder>/dev-issuer-key.json`:
 * created on first use with mode 0600 in a folder created 0700, reused afterwards, and refused when
 * others may read it (as ssh refuses a private key readable by others). `jwks()` is the public JWKS
 * document the app validates against (and may serve); `issueDevToken` signs a token carrying the
 * roles and tenants asked for. Validation goes through the same `JwtAuthenticator` as `entra`,
 * with the local JWKS instead of a remote one (`devAuthenticator`).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type KeyLike,
} from 'jose';
import { JwtAuthenticator, type TokenTrust } from './jwt-authenticator';
import { DEFAULT_TENANTS_CLAIM } from './principal';
import type { Role } from './roles';

export const DEV_ISSUER = 'urn:lucius:dev-issuer';
import { DEV_AUDIENCE } from '../config/auth-settings';

export { DEV_AUDIENCE };
export const DEV_KEY_FILE = 'dev-issuer-key.json';
const DEV_ALGORITHM = 'ES256';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export interface DevTokenRequest {
  readonly tenants: readonly string[];
  readonly roles: readonly Role[];
  /** The `sub` and `oid` of the token (default `dev-user`). */
  readonly subject?: string;
  readonly name?: string;
  /** The client application id (`azp`), for a token that stands for an application. */
  readonly appId?: string;
  readonly ttlSeconds: number;
  readonly audience?: string;
  readonly tenantsClaim?: string;
}

export class DevIssuer {
  private constructor(
    readonly keyFile: string,
    private readonly privateKey: KeyLike | Uint8Array,
    private readonly publicJwk: JWK,
  ) {}

  /** The issuer whose key is in `dataDir`, creating the key (and the folder) on first use. */
  static async open(dataDir: string): Promise<DevIssuer> {
    const keyFile = join(dataDir, DEV_KEY_FILE);
    const privateJwk = (await readKeyFile(keyFile)) ?? (await createKeyFile(dataDir, keyFile));
    const publicMembers: Record<string, unknown> = { ...privateJwk };
    for (const member of PRIVATE_MEMBERS) delete publicMembers[member];
    const publicJwk: JWK = { ...(publicMembers as unknown as JWK), use: 'sig' };
    return new DevIssuer(keyFile, await importJWK(privateJwk, DEV_ALGORITHM), Object.freeze(publicJwk));
  }

  /** The public JWKS document (never the private key). */
  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  async issueDevToken(request: DevTokenRequest, now: Date = new Date()): Promise<string> {
    if (!(request.ttlSeconds > 0)) throw new RangeError('the token lifetime must be positive');
    const issuedAt = Math.floor(now.getTime() / 1000);
    const subject = request.subject ?? 'dev-user';
    return new SignJWT({
      oid: subject,
      roles: [...request.roles],
      [request.tenantsClaim ?? DEFAULT_TENANTS_CLAIM]: [...request.tenants],
      ...(request.name === undefined ? {} : { name: request.name }),
      ...(request.appId === undefined ? {} : { azp: request.appId }),
    })
      .setProtectedHeader({ alg: DEV_ALGORITHM, typ: 'JWT', kid: this.publicJwk.kid ?? '' })
      .setIssuer(DEV_ISSUER)
      .setAudience(request.audience ?? DEV_AUDIENCE)
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + Math.floor(request.ttlSeconds))
      .sign(this.privateKey);
  }

  /** The trust of `dev` mode: this issuer and its local JWKS. */
  trust(): TokenTrust {
    const resolved = { keys: createLocalJWKSet(this.jwks()), issuers: Object.freeze([DEV_ISSUER]) };
    return { resolve: () => Promise.resolve(resolved) };
  }
}

export interface DevAuthenticatorOptions {
  readonly audiences?: readonly string[];
  readonly clockSkewSeconds: number;
  readonly tenantsClaim: string;
  readonly now?: () => Date;
}

export function devAuthenticator(issuer: DevIssuer, options: DevAuthenticatorOptions): JwtAuthenticator {
  return new JwtAuthenticator({
    mode: 'dev',
    trust: issuer.trust(),
    audiences: options.audiences ?? [DEV_AUDIENCE],
    algorithms: [DEV_ALGORITHM],
    clockSkewSeconds: options.clockSkewSeconds,
    tenantsClaim: options.tenantsClaim,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

async function readKeyFile(keyFile: string): Promise<JWK | undefined> {
  let mode: number;
  try {
    mode = (await stat(keyFile)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    throw new Error(
      `the dev issuer key ${keyFile} is readable by others: chmod 600 it (or delete it for a new key)`,
    );
  const jwk = JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string')
    throw new Error(`the dev issuer key ${keyFile} is not an ES256 private JWK: delete it for a new key`);
  return jwk;
}

async function createKeyFile(dataDir: string, keyFile: string): Promise<JWK> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(DEV_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const created: JWK = { ...jwk, alg: DEV_ALGORITHM, kid: await calculateJwkThumbprint(jwk) };
  try {
    // `wx`: two processes creating the key at once keep the first one written.
    await writeFile(keyFile, `${JSON.stringify(created)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = await readKeyFile(keyFile);
    if (existing !== undefined) return existing;
  }
  return created;
}
