/**
 * The base of devhost's own errors, shared by its services (host, http, servicebus): a stable string
 * `code`, whose `fault` it is (`caller`: the app's, the operator's or the client's; `system`:
 * devhost's), and the `cause`. Each service keeps its codes and classes in its own `errors.ts`.
 *
 * `DevhostError` is the error every part of the host reports while loading and hosting a function
 * app. All of its codes are the app's or the operator's fault (a bad app, a bad setting, a port in
 * use), never a devhost crash, so the CLI prints the message and exits instead of showing a stack.
 */
export type Fault = 'caller' | 'system';

export abstract class DevhostBaseError<Code extends string = string> extends Error {
  abstract readonly fault: Fault;

  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type DevhostErrorCode =
  | 'app_not_found'
  | 'entry_not_found'
  | 'app_load_failed'
  | 'duplicate_function'
  | 'unsupported_trigger'
  | 'invalid_function'
  | 'invalid_schedule'
  | 'invalid_host_json'
  | 'port_in_use'
  | 'invalid_usage';

export class DevhostError extends DevhostBaseError<DevhostErrorCode> {
  readonly fault = 'caller';
}
