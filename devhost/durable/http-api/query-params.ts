/**
 * Query-string converters of the Durable HTTP API. Each reads one parameter and either returns its
 * value (or the default when absent) or throws InvalidRequestError naming the parameter: a client
 * mistake is a 400, never a 500 and never silently ignored.
 */
import { RUNTIME_STATUSES, type RuntimeStatus } from '../durable-api';
import { InvalidRequestError } from './errors';

export function booleanParam(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const value = raw.toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidRequestError(
    `query parameter ${name} must be true or false, got ${JSON.stringify(raw)}`,
    name,
  );
}

export function dateParam(params: URLSearchParams, name: string): Date | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  // A '+' of a UTC offset arrives as a space when the client did not encode it.
  const date = new Date(raw.replace(' ', '+'));
  if (Number.isNaN(date.getTime())) {
    throw new InvalidRequestError(
      `query parameter ${name} must be an ISO 8601 date-time, got ${JSON.stringify(raw)}`,
      name,
    );
  }
  return date;
}

export function positiveIntegerParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new InvalidRequestError(
      `query parameter ${name} must be a positive integer, got ${JSON.stringify(raw)}`,
      name,
    );
  }
  return Number(raw);
}

/** Seconds as a non-negative number (the `timeout` and `pollingInterval` of start-and-wait). */
export function secondsParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidRequestError(
      `query parameter ${name} must be a number of seconds, got ${JSON.stringify(raw)}`,
      name,
    );
  }
  return seconds;
}

const STATUS_BY_LOWER_NAME = new Map<string, RuntimeStatus>(
  RUNTIME_STATUSES.map((s) => [s.toLowerCase(), s]),
);

/** `runtimeStatus=Running,Pending`, possibly repeated; names match case-insensitively. */
export function runtimeStatusParam(params: URLSearchParams, name: string): RuntimeStatus[] | undefined {
  const names = params
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (names.length === 0) return undefined;
  return names.map((value) => {
    const status = STATUS_BY_LOWER_NAME.get(value.toLowerCase());
    if (status === undefined) {
      throw new InvalidRequestError(
        `query parameter ${name} has unknown runtime status ${JSON.stringify(value)}; expected one of ${RUNTIME_STATUSES.join(', ')}`,
        name,
      );
    }
    return status;
  });
}
