/**
 * Errors of the demo workers. Each has a stable `code`; all are the caller's fault (a bad option or
 * command-line value), reported before anything connects.
 */

export class WorkerConfigError extends Error {
  readonly code = 'invalid_worker_config';
  readonly fault = 'caller';

  /** @param problems every problem found, each naming the option or entry at fault */
  constructor(readonly problems: readonly string[]) {
    super(`demo workers: ${problems.join('; ')}`);
    this.name = 'WorkerConfigError';
  }
}
