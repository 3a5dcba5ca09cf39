/** TypeScript shape of schemas/ack.v1.json: a worker accepts an attempt, which starts its lease. */
import { validatorFor } from './validation';

export interface Ack {
  readonly schema_version: 'v1';
  readonly kind: 'ack';
  readonly job_id: string;
  readonly step_id: string;
  readonly attempt_no: number;
  readonly lease_id: string;
  readonly worker_id?: string;
  readonly acked_at: string;
  /** The lease the worker asks for, 1..60 minutes; the configured default when absent. */
  readonly lease_minutes?: number;
}

export const validateAck = validatorFor<Ack>('ack.v1');
