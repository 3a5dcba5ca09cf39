/** Query-string parsing for the read and control API; every problem is an InvalidQueryError naming the parameter. */
import type { HttpRequest } from '@azure/functions';
import { isJobStatus, JOB_STATUSES, type JobStatus } from '../domain/job';
import { InvalidQueryError } from './errors';

/** Same rule as `tenant_id` in schemas/command-envelope.v1.json. */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/**
 * The `tenant_id` the request names, checked for shape; undefined when omitted (a caller with
 * exactly one tenant may omit it: `Caller.tenant` decides).
 */
export function requestedTenant(request: HttpRequest): string | undefined {
  const tenant = request.query.get('tenant_id');
  if (tenant === null || tenant === '') return undefined;
  if (!TENANT_ID.test(tenant)) throw new InvalidQueryError('tenant_id', 'is not a valid tenant id');
  return tenant;
}

export function optionalText(request: HttpRequest, name: string, maxLength = 256): string | undefined {
  const value = request.query.get(name);
  if (value === null || value === '') return undefined;
  if (value.length > maxLength) throw new InvalidQueryError(name, `must be at most ${maxLength} characters`);
  return value;
}

export function optionalStatus(request: HttpRequest): JobStatus | undefined {
  const value = optionalText(request, 'status');
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!isJobStatus(upper)) throw new InvalidQueryError('status', `must be one of ${JOB_STATUSES.join(', ')}`);
  return upper;
}

export function pageSize(request: HttpRequest): number {
  const value = optionalText(request, 'limit', 10);
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGE_SIZE) {
    throw new InvalidQueryError('limit', `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return Number(value);
}
