/**
 * The keys and issuer Microsoft Entra ID publishes for one directory (tenant):
 * `{authority}/{tenant}/v2.0/.well-known/openid-configuration` names the `issuer` and the `jwks_uri`;
 * the JWKS is fetched with jose's `createRemoteJWKSet`, which caches it (`cacheMaxAgeMs`), fetches
 * it again when a token names a `kid` it does not hold (Entra rolls its signing keys), at most once
 * per `cooldownMs`, and gives up on a fetch after `timeoutMs`.
 *
 * The metadata is fetched on first use and kept; a failed fetch is retried on the next request.
 * Only a single directory is trusted: the multi-tenant endpoints (`common`, `organizations`,
 * `consumers`), whose issuer is a template, are refused. The authority must be https (plain http is
 * allowed on a loopback host, for tests).
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { TokenTrust } from './jwt-authenticator';

import { DEFAULT_ENTRA_AUTHORITY } from '../config/auth-settings';

export { DEFAULT_ENTRA_AUTHORITY };

export interface EntraTrustOptions {
  /** The directory (tenant) id, a GUID, or a verified domain (contoso.onmicrosoft.com). */
  readonly tenantId: string;
  /** `https://login.microsoftonline.com`; other clouds: login.microsoftonline.us, login.chinacloudapi.cn. */
  readonly authority?: string;
  readonly cacheMaxAgeMs?: number;
  readonly cooldownMs?: number;
  readonly timeoutMs?: number;
  /** How the metadata document is fetched (default the global fetch). */
  readonly fetch?: typeof fetch;
}

const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

export class EntraTrust implements TokenTrust {
  private readonly metadataUrl: URL;
  private loading?: Promise<{ keys: JWTVerifyGetKey; issuers: readonly string[] }>;

  constructor(private readonly options: EntraTrustOptions) {
    const tenant = options.tenantId.trim();
    if (tenant === '' || MULTI_TENANT.has(tenant.toLowerCase()) || !/^[A-Za-z0-9.-]+$/.test(tenant))
      throw new RangeError(
        `"${options.tenantId}" is not a single directory: give the tenant id (GUID) or a verified domain`,
      );
    const authority = trustedUrl(options.authority ?? DEFAULT_ENTRA_AUTHORITY, 'the authority');
    this.metadataUrl = new URL(
      `${authority.href.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`,
    );
  }

  resolve(): Promise<{ keys: JWTVerifyGetKey; issuers: readonly string[] }> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<{ keys: JWTVerifyGetKey; issuers: readonly string[] }> {
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const response = await (this.options.fetch ?? fetch)(this.metadataUrl, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`OpenID metadata ${this.metadataUrl.href}: HTTP ${response.status}`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof metadata.issuer !== 'string' || metadata.issuer.includes('{'))
      throw new Error(`OpenID metadata ${this.metadataUrl.href}: no single-tenant issuer`);
    if (typeof metadata.jwks_uri !== 'string')
      throw new Error(`OpenID metadata ${this.metadataUrl.href}: no jwks_uri`);
    const keys = createRemoteJWKSet(trustedUrl(metadata.jwks_uri, 'jwks_uri'), {
      cacheMaxAge: this.options.cacheMaxAgeMs ?? 10 * 60_000,
      cooldownDuration: this.options.cooldownMs ?? 30_000,
      timeoutDuration: timeoutMs,
    });
    return { keys, issuers: Object.freeze([metadata.issuer]) };
  }
}

function trustedUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`${what} "${text}" is not a URL`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new RangeError(`${what} "${text}" must be https`);
  return url;
}
