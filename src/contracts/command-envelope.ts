/** TypeScript shape of schemas/command-envelope.v1.json (the schema is the source of truth). */
import { validatorFor } from './validation';

export interface CommandEnvelope {
  readonly tenant_id: string;
  readonly request_type: string;
  readonly input_ref: string;
  readonly output_ref: string;
  readonly payload: { readonly steps: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
  readonly schema_version: 'v1';
  readonly routing_key?: string;
  readonly idempotency_key?: string;
  readonly correlation_id?: string;
  /** 0 (lowest) to 9 (highest); 5 when absent. */
  readonly priority?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** The job fails with TIMEOUT this long after admission (at most LUCIUS_MAX_JOB_TIMEOUT_SECONDS). */
  readonly timeout_seconds?: number;
}

/** Validates a command as a caller sent it; step payloads are checked once the protocol is known. */
export const validateCommandEnvelope = validatorFor<CommandEnvelope>('command-envelope.v1');
