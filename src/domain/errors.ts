/**
 * Errors of the domain layer, and the base every Lucius error extends.
 *
 * Each error has a stable string `code` (the HTTP edge maps it to a status and a problem document),
 * says whose fault it is (`caller`: the request was wrong and retrying it unchanged will fail again;
 * `system`: Lucius or a dependency failed) and whether retrying the operation may succeed.
 */

/** One schema or rule violation, located by a JSON pointer into the offending document. */
export interface Violation {
  /** RFC 6901 JSON pointer into the request body ("" is the whole document). */
  readonly pointer: string;
  readonly message: string;
  /** The JSON Schema keyword (or rule name) that failed, when there is one. */
  readonly keyword?: string;
}

export type Fault = 'caller' | 'system';

export interface LuciusErrorOptions {
  readonly fault: Fault;
  readonly retryable?: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly violations?: readonly Violation[];
  readonly cause?: unknown;
}

export class LuciusError extends Error {
  readonly code: string;
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  readonly violations: readonly Violation[];

  constructor(code: string, message: string, options: LuciusErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fault = options.fault;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...(options.details ?? {}) });
    this.violations = Object.freeze([...(options.violations ?? [])]);
  }
}

/** A state machine refused an event in the current state. */
export class InvalidTransitionError extends LuciusError {
  constructor(
    readonly machine: 'job' | 'step',
    readonly subject: string,
    readonly from: string,
    readonly event: string,
  ) {
    super('invalid_transition', `${machine} ${subject}: event ${event} is not allowed in state ${from}`, {
      fault: 'caller',
      details: { machine, subject, from, event },
    });
  }
}

/** A reply (ACK, RESULT, heartbeat) carries a lease or attempt that is not the step's current one. */
export class StaleLeaseError extends LuciusError {
  constructor(
    readonly subject: string,
    readonly expected: { leaseId?: string; attemptNo: number },
    readonly received: { leaseId?: string; attemptNo?: number },
  ) {
    super(
      'stale_lease',
      `step ${subject}: reply for attempt ${received.attemptNo ?? '?'} lease ${received.leaseId ?? '?'} does not match the current attempt ${expected.attemptNo}`,
      {
        fault: 'caller',
        details: { expected, received },
      },
    );
  }
}

export class UnknownRequestTypeError extends LuciusError {
  constructor(
    readonly requestType: string,
    known: readonly string[],
  ) {
    super(
      'unknown_request_type',
      `request_type "${requestType}" is not in the protocol registry (known: ${known.join(', ')})`,
      {
        fault: 'caller',
        details: { request_type: requestType, known },
        violations: [{ pointer: '/request_type', message: 'unknown request_type', keyword: 'protocol' }],
      },
    );
  }
}

/** The envelope is schema-valid but its step payloads do not fit the resolved protocol. */
export class StepPayloadError extends LuciusError {
  constructor(requestType: string, violations: readonly Violation[]) {
    super('invalid_step_payload', `payload.steps does not fit protocol ${requestType}`, {
      fault: 'caller',
      violations,
      details: { request_type: requestType },
    });
  }
}

/** `Idempotency-Key` header and `idempotency_key` in the body disagree. */
export class IdempotencyKeyMismatchError extends LuciusError {
  constructor() {
    super('idempotency_key_mismatch', 'the Idempotency-Key header and the body idempotency_key differ', {
      fault: 'caller',
      violations: [
        {
          pointer: '/idempotency_key',
          message: 'differs from the Idempotency-Key header',
          keyword: 'idempotency',
        },
      ],
    });
  }
}

export class InvalidIdempotencyKeyError extends LuciusError {
  constructor(reason: string) {
    super('invalid_idempotency_key', `Idempotency-Key header: ${reason}`, { fault: 'caller' });
  }
}
