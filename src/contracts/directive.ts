/**
 * TypeScript shape of schemas/directive.v1.json: what Lucius publishes to a worker per step attempt.
 * `kind: "directive"` asks for the work; `kind: "cancel"` calls the same attempt off. Replies must
 * echo job_id, step_id, attempt_no and lease_id; an HTTP callback also sends the directive's
 * `callback_token` as header `Lucius-Callback-Token`.
 */
import type { StepType } from '../domain/step';
import { validatorFor } from './validation';

export const DIRECTIVE_KINDS = ['directive', 'cancel'] as const;
export type DirectiveKind = (typeof DIRECTIVE_KINDS)[number];

/** Identifies the attempt; carried by both kinds. */
interface DirectiveAttempt {
  readonly schema_version: 'v1';
  readonly job_id: string;
  readonly tenant_id: string;
  readonly step_id: string;
  /** 0-based position of the step in its protocol. */
  readonly step_index: number;
  readonly step_type: StepType;
  /** 1-based. */
  readonly attempt_no: number;
  /** UUID, fresh for each attempt. */
  readonly lease_id: string;
  readonly lane: number;
  readonly correlation_id?: string;
  /** The topic to send ACK, heartbeat and RESULT to. */
  readonly reply_to: string;
  readonly issued_at: string;
}

/** The work itself; required on a directive, optional on a cancel. */
interface DirectiveWork {
  readonly input_ref: string;
  readonly output_ref: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The ACK must arrive by then or the attempt ends NOT_STARTED; the message expires then, and a worker drops it after. */
  readonly ack_deadline: string;
  readonly lease_expires_at?: string;
  readonly result_deadline?: string;
  /**
   * Authorizes HTTP callbacks for this attempt only: sent as header `Lucius-Callback-Token`.
   * Optional in v1 (a directive published before tokens existed has none).
   */
  readonly callback_token?: string;
}

export interface StepDirective extends DirectiveAttempt, DirectiveWork {
  readonly kind: 'directive';
}

export interface CancelDirective extends DirectiveAttempt, Partial<DirectiveWork> {
  readonly kind: 'cancel';
  readonly reason?: string;
}

export type Directive = StepDirective | CancelDirective;

export const validateDirective = validatorFor<Directive>('directive.v1');
