/**
 * `LUCIUS_AUTH_MODE=none`: every request is the anonymous principal, with every role and every
 * tenant. Only when set explicitly; the app warns at every start that it is unprotected.
 */
import type { Authenticator } from './authenticator';
import { ANONYMOUS_PRINCIPAL, type Principal } from './principal';

export class NoneAuthenticator implements Authenticator {
  readonly mode = 'none' as const;

  authenticate(): Promise<Principal> {
    return Promise.resolve(ANONYMOUS_PRINCIPAL);
  }
}
