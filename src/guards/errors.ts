/**
 * Errors of the guards: a guard's configuration that cannot work (a start-up error: the settings
 * layer names the variable). A request that breaks one of the edge's limits is a RequestLimitError,
 * beside the limits in request-limits.ts.
 */
import { LuciusError } from '../domain/errors';

/** A guard was configured in a way that cannot be made safe (a bad key, a CORS wildcard with credentials). */
export class GuardConfigError extends LuciusError {
  constructor(
    readonly guard: 'callback-token' | 'cors' | 'rate-limit' | 'request-limits' | 'security-headers',
    message: string,
  ) {
    super('invalid_guard_config', `${guard}: ${message}`, { fault: 'system', details: { guard } });
  }
}
