/** TypeScript shape of schemas/heartbeat.v1.json: a worker still holds the attempt and extends its lease. */
import { validatorFor } from './validation';

export interface Heartbeat {
  readonly schema_version: 'v1';
  readonly kind: 'heartbeat';
  readonly job_id: string;
  readonly step_id: string;
  readonly attempt_no: number;
  readonly lease_id: string;
  /** 1..60 minutes from now; the configured lease when absent. */
  readonly extend_minutes?: number;
  /** Percent done, 0..100. */
  readonly progress?: number;
  readonly sent_at: string;
}

export const validateHeartbeat = validatorFor<Heartbeat>('heartbeat.v1');
