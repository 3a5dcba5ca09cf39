/**
 * TypeScript shape of schemas/protocol-registry.v1.json: the registry file as written (snake_case).
 * src/config/protocol-registry.ts turns it into the domain's ProtocolRegistry.
 */
import type { StepType } from '../domain/step';
import { validatorFor } from './validation';

export interface ProtocolStepDocument {
  readonly step_id: string;
  readonly type: StepType;
  /** A step payload schema id, e.g. `steps/ocr.v1`. */
  readonly payload_schema: string;
}

export interface ProtocolDocument {
  readonly description?: string;
  readonly steps: readonly ProtocolStepDocument[];
}

export interface ProtocolRegistryDocument {
  readonly $schema?: string;
  readonly schema_version: 'v1';
  /** Keyed by request_type. */
  readonly protocols: Readonly<Record<string, ProtocolDocument>>;
}

export const validateProtocolRegistryDocument =
  validatorFor<ProtocolRegistryDocument>('protocol-registry.v1');
