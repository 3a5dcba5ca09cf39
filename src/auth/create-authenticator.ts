/** The authenticator `AuthSettings` select (one per `LUCIUS_AUTH_MODE`), built once at start-up. */
import type { Authenticator } from './authenticator';
import type { AuthSettings } from '../config/auth-settings';
import { DevIssuer, devAuthenticator } from './dev-issuer';
import { EasyAuthAuthenticator } from './easy-auth-authenticator';
import { EntraTrust } from './entra-trust';
import { JwtAuthenticator } from './jwt-authenticator';
import { NoneAuthenticator } from './none-authenticator';

export interface AuthenticatorDeps {
  /** How the OpenID metadata is fetched (default the global fetch). */
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export async function createAuthenticator(
  settings: AuthSettings,
  deps: AuthenticatorDeps = {},
): Promise<Authenticator> {
  const now = deps.now === undefined ? {} : { now: deps.now };
  switch (settings.mode) {
    case 'entra':
      return new JwtAuthenticator({
        mode: 'entra',
        trust: new EntraTrust({
          tenantId: settings.tenantId,
          authority: settings.authority,
          cacheMaxAgeMs: settings.jwksCacheMinutes * 60_000,
          cooldownMs: settings.jwksCooldownSeconds * 1000,
          ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
        }),
        audiences: settings.audiences,
        algorithms: settings.algorithms,
        clockSkewSeconds: settings.clockSkewSeconds,
        tenantsClaim: settings.tenantsClaim,
        ...now,
      });
    case 'dev':
      return devAuthenticator(await DevIssuer.open(settings.devDataDir), {
        audiences: settings.audiences,
        clockSkewSeconds: settings.clockSkewSeconds,
        tenantsClaim: settings.tenantsClaim,
        ...now,
      });
    case 'easyauth':
      return new EasyAuthAuthenticator({
        tenantsClaim: settings.tenantsClaim,
        audiences: settings.audiences,
      });
    case 'none':
      return new NoneAuthenticator();
  }
}
