/**
 * The `lucius` exit codes, and the errors that carry one: 0 ok, 1 failure, 2 usage error, 3 not
 * found, 4 partial failure in bulk (some items failed). Every other error exits 1, except a Lucius
 * error saying a job or step does not exist (3) or that the caller asked for something invalid (2).
 */
import { LuciusError } from '../domain/errors';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, partial: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command line was wrong (an option value, a missing argument): exit 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** Something named on the command line does not exist: exit 3. */
export class NotFoundError extends Error {
  readonly exitCode = EXIT.notFound;
}

const NOT_FOUND_CODES = new Set(['job_not_found', 'step_not_found']);
const USAGE_CODES = new Set(['invalid_continuation']);

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof LuciusError) {
    if (NOT_FOUND_CODES.has(error.code)) return EXIT.notFound;
    if (USAGE_CODES.has(error.code)) return EXIT.usage;
  }
  return EXIT.failure;
}
