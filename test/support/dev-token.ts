/**
 * Bearer tokens of the local dev issuer (`LUCIUS_AUTH_MODE=dev`, what `npm start` runs), minted for
 * a data folder exactly as `npx lucius token --data <folder>` mints them: `DevIssuer.open(dataDir)`
 * (the key file the app validates against, created on first use by whichever comes first) and
 * `issueDevToken`. A token names the tenants it may act for and its roles; tests that use a fresh
 * tenant per job ask for one token per tenant (`DevTokens` keeps each one it minted).
 */
import { DevIssuer } from '../../src/auth/dev-issuer';
import type { Role } from '../../src/auth/roles';

/** What an operator of the quick start holds: submit commands, read jobs, cancel/redrive/delete them. */
export const OPERATOR_ROLES: readonly Role[] = Object.freeze([
  'Lucius.Submit',
  'Lucius.Read',
  'Lucius.Operate',
]);

/** Long enough for the slowest test of a run; a dev token is never used elsewhere. */
const TTL_SECONDS = 4 * 3600;

export interface DevTokenOptions {
  /** Default OPERATOR_ROLES. */
  readonly roles?: readonly Role[];
  /** The caller id (`sub`/`oid`); default the dev issuer's `dev-user`. */
  readonly subject?: string;
}

/** One token of the dev issuer whose key is in `dataDir`, for `tenants`. */
export async function devToken(
  dataDir: string,
  tenants: string | readonly string[],
  options: DevTokenOptions = {},
): Promise<string> {
  return (await DevTokens.open(dataDir)).token(tenants, options);
}

/** The `Authorization` header carrying `token`. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** The dev issuer of one data folder, keeping the tokens it minted by tenants and roles. */
export class DevTokens {
  private readonly minted = new Map<string, Promise<string>>();

  private constructor(private readonly issuer: DevIssuer) {}

  static async open(dataDir: string): Promise<DevTokens> {
    return new DevTokens(await DevIssuer.open(dataDir));
  }

  /** A token for `tenants` with `options.roles` (default OPERATOR_ROLES), minted once per combination. */
  token(tenants: string | readonly string[], options: DevTokenOptions = {}): Promise<string> {
    const list = typeof tenants === 'string' ? [tenants] : [...tenants];
    const roles = options.roles ?? OPERATOR_ROLES;
    const key = JSON.stringify([list, roles, options.subject ?? null]);
    let token = this.minted.get(key);
    if (token === undefined) {
      token = this.issuer.issueDevToken({
        tenants: list,
        roles,
        ttlSeconds: TTL_SECONDS,
        ...(options.subject === undefined ? {} : { subject: options.subject }),
      });
      this.minted.set(key, token);
    }
    return token;
  }

  /** `{ authorization: 'Bearer <token>' }` for `tenants` (see `token`). */
  async headers(
    tenants: string | readonly string[],
    options: DevTokenOptions = {},
  ): Promise<{ authorization: string }> {
    return bearer(await this.token(tenants, options));
  }
}
