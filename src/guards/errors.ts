/**
 * Errors of the guards: a guard's configuration that cannot work (a start-up error: the settings
 * layer names the variable), and a request that breaks one of the edge's limits (the caller's fault;
 * the HTTP edge maps `code` to the status the violation names).
 */
import { LuciusError } from '../domain/errors';
import type { RequestLimitViolation } from './request-limits';

/** A guard was configured in a way that cannot be made safe (a bad key, a CORS wildcard with credentials). */
export class GuardConfigError extends LuciusError {
  constructor(
    readonly guard: 'callback-token' | 'cors' | 'rate-limit' | 'request-limits' | 'security-headers',
    message: string,
  ) {
    super('invalid_guard_config', `${guard}: ${message}`, { fault: 'system', details: { guard } });
  }
}

/** A request broke a size limit of the edge: body (413), header section (431) or query (414). */
export class RequestLimitError extends LuciusError {
  readonly status: number;

  constructor(readonly violation: RequestLimitViolation) {
    super(violation.code, violation.detail, { fault: 'caller', details: { limit: violation.limit } });
    this.status = violation.status;
  }
}
