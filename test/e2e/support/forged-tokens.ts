/**
 * What the security end-to-end tests (test/e2e/security-*.test.ts and neighbours) share: bearer
 * tokens for the app started by `startUp` in `LUCIUS_AUTH_MODE=dev`, genuine and forged, and a small
 * HTTP client that checks what every answer must carry.
 *
 * Genuine tokens come from the dev issuer whose key is `<dataDir>/dev-issuer-key.json` (the key the
 * app validates against), through test/support/dev-token.ts. Forged ones each break exactly one rule
 * and keep everything else right (the caller's roles and tenants), so the refusal can only come from
 * that rule:
 *
 * | kind                    | what is wrong                                                           |
 * |-------------------------|-------------------------------------------------------------------------|
 * | `bad-signature`         | signed by another ES256 key under the issuer's own `kid`                |
 * | `expired`               | signed by the issuer, expired an hour ago (well past the clock skew)    |
 * | `wrong-audience`        | signed by the issuer for another audience                               |
 * | `wrong-issuer`          | signed with the issuer's key but naming another issuer                  |
 * | `alg-none`              | an unsecured JWT (`alg: none`, empty signature)                         |
 * | `hs256-with-public-key` | HS256 "signed" with the issuer's public key (PEM) as the HMAC secret    |
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_KEY_FILE, DevIssuer } from '../../../src/auth/dev-issuer';
import { DEFAULT_TENANTS_CLAIM } from '../../../src/auth/principal';
import type { Role } from '../../../src/auth/roles';
import { DevTokens } from '../../support/dev-token';

export const FORGED_KINDS = [
  'bad-signature',
  'expired',
  'wrong-audience',
  'wrong-issuer',
  'alg-none',
  'hs256-with-public-key',
] as const;
export type ForgedKind = (typeof FORGED_KINDS)[number];

export const EVERY_ROLE: readonly Role[] = [
  'Lucius.Submit',
  'Lucius.Read',
  'Lucius.Operate',
  'Lucius.Worker',
];

/** Who a token speaks for. */
export interface Who {
  readonly subject: string;
  readonly tenants: readonly string[];
  readonly roles: readonly Role[];
}

const HOUR_SECONDS = 3600;

export class TokenMint {
  private constructor(
    private readonly issuer: DevIssuer,
    private readonly genuine: DevTokens,
    private readonly privateKey: KeyLike | Uint8Array,
    private readonly kid: string,
    private readonly publicPem: string,
  ) {}

  /** The mint of the dev issuer whose key is in `dataDir` (created there if the app has not yet). */
  static async open(dataDir: string): Promise<TokenMint> {
    const issuer = await DevIssuer.open(dataDir);
    const jwk = JSON.parse(await readFile(join(dataDir, DEV_KEY_FILE), 'utf8')) as JWK;
    const publicJwk = issuer.jwks().keys[0] as JWK;
    const publicPem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as KeyLike);
    return new TokenMint(
      issuer,
      await DevTokens.open(dataDir),
      await importJWK(jwk, 'ES256'),
      jwk.kid ?? '',
      publicPem,
    );
  }

  /** A genuine token for `who` (test/support/dev-token.ts, as `npx lucius token` mints it). */
  token(who: Who): Promise<string> {
    return this.genuine.token(who.tenants, { subject: who.subject, roles: who.roles });
  }

  /** A token for `who` that breaks exactly the rule `kind` names. */
  async forged(kind: ForgedKind, who: Who): Promise<string> {
    switch (kind) {
      case 'bad-signature': {
        const { privateKey } = await generateKeyPair('ES256');
        return this.signed(who, { key: privateKey });
      }
      case 'expired':
        return this.issuer.issueDevToken(
          { subject: who.subject, tenants: who.tenants, roles: who.roles, ttlSeconds: 60 },
          new Date(Date.now() - 2 * HOUR_SECONDS * 1000),
        );
      case 'wrong-audience':
        return this.issuer.issueDevToken({
          subject: who.subject,
          tenants: who.tenants,
          roles: who.roles,
          ttlSeconds: HOUR_SECONDS,
          audience: 'api://another-app',
        });
      case 'wrong-issuer':
        return this.signed(who, { issuer: 'https://login.example.com/another-issuer/v2.0' });
      case 'alg-none': {
        const header = base64url({ alg: 'none', typ: 'JWT', kid: this.kid });
        return `${header}.${base64url(this.claims(who, DEV_ISSUER))}.`;
      }
      case 'hs256-with-public-key':
        return new SignJWT(this.claims(who, DEV_ISSUER))
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.kid })
          .sign(new TextEncoder().encode(this.publicPem));
    }
  }

  private signed(who: Who, options: { key?: KeyLike; issuer?: string }): Promise<string> {
    return new SignJWT(this.claims(who, options.issuer ?? DEV_ISSUER))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.kid })
      .sign(options.key ?? this.privateKey);
  }

  private claims(who: Who, issuer: string): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer,
      aud: DEV_AUDIENCE,
      sub: who.subject,
      oid: who.subject,
      roles: [...who.roles],
      [DEFAULT_TENANTS_CLAIM]: [...who.tenants],
      iat: now,
      nbf: now,
      exp: now + HOUR_SECONDS,
    };
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** One HTTP answer, with its body as text and (when it is JSON) parsed. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

export interface SendOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Calls the app at `apiUrl` (`http://localhost:<port>/api`) with the function key in the
 * `x-functions-key` header (devhost keeps authLevel `function` as an extra gate), and the bearer
 * token, JSON body and headers given.
 */
export async function send(
  apiUrl: string,
  functionKey: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-functions-key': functionKey, ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** The headers every answer of the API carries (HSTS is left out: devhost speaks plain HTTP). */
export const SECURITY_HEADERS: Readonly<Record<string, RegExp>> = {
  'x-content-type-options': /^nosniff$/,
  'cache-control': /no-store/,
  'content-security-policy': /default-src 'none'/,
  'x-frame-options': /^DENY$/,
  'referrer-policy': /^no-referrer$/,
};

/** Names of the security headers missing or wrong on `answer` (empty when all are there). */
export function missingSecurityHeaders(answer: Answer): string[] {
  return Object.entries(SECURITY_HEADERS)
    .filter(([name, pattern]) => !pattern.test(answer.headers.get(name) ?? ''))
    .map(([name]) => name);
}

/**
 * What would betray the implementation in a body: stack frames, source paths, error class names
 * and the libraries behind the checks.
 */
const LEAKS: readonly RegExp[] = [
  /\bat [\w.<>$]+ \(/,
  /\bat (?:async )?\/?[\w./-]+:\d+:\d+/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /(?:\/work\/|\/home\/|\/tmp\/|node_modules|[A-Za-z]:\\)/,
  /\b[A-Z][A-Za-z]*(?:Error|Failure|Exception)\b/,
  /\b(?:JWS|JWT|JWK|JOSE)[A-Z][A-Za-z]+\b/,
  /\bERR_[A-Z_]+\b/,
  /\bjose\b/i,
  /secure-?route|caller\.ts|callback-token\.ts/i,
];

/** The leak patterns `text` matches (empty when it betrays nothing). */
export function leaksIn(text: string): string[] {
  return LEAKS.filter((pattern) => pattern.test(text)).map(String);
}
