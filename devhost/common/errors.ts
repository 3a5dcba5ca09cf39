/**
 * The base of devhost's own errors, shared by its services (host, http, servicebus): a stable string
 * `code`, whose `fault` it is (`caller`: the app's, the operator's or the client's; `system`:
 * devhost's), and the `cause`. Each service keeps its codes and classes in its own `errors.ts`.
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
