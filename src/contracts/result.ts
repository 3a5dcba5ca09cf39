/**
 * TypeScript shape of schemas/result.v1.json: the outcome of one attempt. SUCCEEDED carries the
 * output_ref (and never a failure); FAILED carries a failure whose class decides retry or final.
 */
import type { FailureClass } from '../domain/failure';
import { validatorFor } from './validation';

export const RESULT_STATUSES = ['SUCCEEDED', 'FAILED'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export interface ResultFailure {
  readonly failure_class: FailureClass;
  readonly message: string;
}

interface ResultAttempt {
  readonly schema_version: 'v1';
  readonly kind: 'result';
  readonly job_id: string;
  readonly step_id: string;
  readonly attempt_no: number;
  readonly lease_id: string;
  /** Step-specific output metadata (page counts, vector counts, ...). */
  readonly result?: Readonly<Record<string, unknown>>;
  readonly completed_at: string;
}

export interface SucceededResult extends ResultAttempt {
  readonly status: 'SUCCEEDED';
  readonly output_ref: string;
}

export interface FailedResult extends ResultAttempt {
  readonly status: 'FAILED';
  readonly failure: ResultFailure;
  /** Where partial output went, if anywhere. */
  readonly output_ref?: string;
}

export type StepResult = SucceededResult | FailedResult;

export const validateStepResult = validatorFor<StepResult>('result.v1');
