/**
 * Valid sample documents, typed with the hand-written contract types: `tsc` proves the types accept
 * what the schemas accept, and the tests prove the schemas accept them.
 */
import type { Violation } from '../../../src/domain/errors';
import type { Ack } from '../../../src/contracts/ack';
import type { CommandEnvelope } from '../../../src/contracts/command-envelope';
import type { CancelDirective, StepDirective } from '../../../src/contracts/directive';
import type { Heartbeat } from '../../../src/contracts/heartbeat';
import type { FailedResult, SucceededResult } from '../../../src/contracts/result';
import type {
  EmbeddingStepPayload,
  OcrStepPayload,
  SisStepPayload,
} from '../../../src/contracts/step-payloads';
import type { ValidationResult } from '../../../src/contracts/validation';

export const LEASE_ID = '3f2b8c1e-6d4a-4f0b-9a7e-2c5d8e1f0a9b';

export const minimalEnvelope: CommandEnvelope = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'in',
  output_ref: 'out',
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
  schema_version: 'v1',
};

export const fullEnvelope: CommandEnvelope = {
  ...minimalEnvelope,
  tenant_id: 'acme.eu-west:prod_1',
  routing_key: 'customer-42',
  idempotency_key: 'order-7781',
  correlation_id: 'c0ffee',
  priority: 9,
  labels: { team: 'search', 'cost.center': '4711', empty: '' },
};

export const stepDirective: StepDirective = {
  schema_version: 'v1',
  kind: 'directive',
  job_id: '0b7c6f2e-1a3d-4e5f-8a9b-0c1d2e3f4a5b',
  tenant_id: 't1',
  step_id: 'ocr',
  step_index: 0,
  step_type: 'OCR',
  attempt_no: 1,
  lease_id: LEASE_ID,
  lane: 7,
  input_ref: 'in',
  output_ref: 'out/ocr',
  payload: { output_format: 'TEXT' },
  correlation_id: 'c0ffee',
  ack_deadline: '2025-01-01T00:00:30Z',
  result_deadline: '2025-01-01T00:15:00Z',
  reply_to: 'global-bus-replies-p7',
  issued_at: '2025-01-01T00:00:00Z',
};

export const cancelDirective: CancelDirective = {
  schema_version: 'v1',
  kind: 'cancel',
  job_id: stepDirective.job_id,
  tenant_id: 't1',
  step_id: 'ocr',
  step_index: 0,
  step_type: 'OCR',
  attempt_no: 2,
  lease_id: LEASE_ID,
  lane: 7,
  reply_to: 'global-bus-replies-p7',
  reason: 'job cancelled by caller',
  issued_at: '2025-01-01T00:05:00.123+01:00',
};

export const ack: Ack = {
  schema_version: 'v1',
  kind: 'ack',
  job_id: stepDirective.job_id,
  step_id: 'ocr',
  attempt_no: 1,
  lease_id: LEASE_ID,
  worker_id: 'ocr-worker-3',
  acked_at: '2025-01-01T00:00:02Z',
  lease_minutes: 20,
};

export const succeededResult: SucceededResult = {
  schema_version: 'v1',
  kind: 'result',
  job_id: stepDirective.job_id,
  step_id: 'ocr',
  attempt_no: 1,
  lease_id: LEASE_ID,
  status: 'SUCCEEDED',
  output_ref: 'out/ocr/text.json',
  result: { pages: 12 },
  completed_at: '2025-01-01T00:04:00Z',
};

export const failedResult: FailedResult = {
  schema_version: 'v1',
  kind: 'result',
  job_id: stepDirective.job_id,
  step_id: 'ocr',
  attempt_no: 1,
  lease_id: LEASE_ID,
  status: 'FAILED',
  failure: { failure_class: 'TRANSIENT', message: 'storage throttled' },
  completed_at: '2025-01-01T00:04:00Z',
};

export const heartbeat: Heartbeat = {
  schema_version: 'v1',
  kind: 'heartbeat',
  job_id: stepDirective.job_id,
  step_id: 'ocr',
  attempt_no: 1,
  lease_id: LEASE_ID,
  extend_minutes: 15,
  progress: 42.5,
  sent_at: '2025-01-01T00:10:00Z',
};

export const ocrPayload: OcrStepPayload = {
  output_format: 'HOCR',
  language: 'eng+deu',
  dpi: 300,
  pages: '1-3,5',
};
export const embeddingPayload: EmbeddingStepPayload = {
  model: 'text-embedding-3-large',
  dimensions: 3072,
  chunk_size: 512,
  chunk_overlap: 0,
};
export const sisPayload: SisStepPayload = {
  analysis: ['entities', 'summary'],
  language: 'en',
  instructions: 'Be brief.',
};

/** A copy of `value` with `changes` applied; `undefined` removes a property. */
export function withChanges(value: object, changes: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  for (const [key, change] of Object.entries(changes)) {
    if (change === undefined) delete copy[key];
    else copy[key] = change;
  }
  return copy;
}

/** The pointers of a failed validation, sorted; [] when it passed. */
export function pointersOf(result: ValidationResult<unknown>): string[] {
  return result.ok ? [] : result.violations.map((v) => v.pointer).sort();
}

/** The violations of a failed validation; fails the test when it passed. */
export function violationsOf(result: ValidationResult<unknown>): readonly Violation[] {
  if (result.ok) throw new Error('expected the document to be refused, but it was accepted');
  return result.violations;
}
