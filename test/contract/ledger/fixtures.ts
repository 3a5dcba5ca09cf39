/**
 * Admission records and events for the ledger contract suite, built the way the product builds
 * them (planAdmission over a small in-test protocol registry). Time is explicit: tests pass `at(ms)`.
 */
import { randomUUID } from 'node:crypto';
import type { CommandEnvelope } from '../../../src/contracts/command-envelope';
import { planAdmission } from '../../../src/domain/admission';
import type { ProtocolRegistry } from '../../../src/domain/protocol';
import type { StepEvent } from '../../../src/domain/step';
import type { AdmissionLimits, AdmissionRecord } from '../../../src/ports/job-ledger';

export const OCR_EMBEDDING = 'OCR->EMBEDDING';
export const OCR_ONLY = 'OCR';

const registry: ProtocolRegistry = {
  version: 'contract-test',
  protocols: new Map([
    [
      OCR_EMBEDDING,
      {
        requestType: OCR_EMBEDDING,
        steps: [
          { stepId: 'ocr', type: 'OCR', payloadSchema: 'steps/ocr.v1' },
          { stepId: 'embedding', type: 'EMBEDDING', payloadSchema: 'steps/embedding.v1' },
        ],
      },
    ],
    [
      OCR_ONLY,
      { requestType: OCR_ONLY, steps: [{ stepId: 'ocr', type: 'OCR', payloadSchema: 'steps/ocr.v1' }] },
    ],
  ]),
};

/** A fixed instant far from the real clock: nothing here depends on when the tests run. */
export const T0 = Date.parse('2030-01-01T00:00:00.000Z');

export function at(offsetMs = 0): Date {
  return new Date(T0 + offsetMs);
}

export const SECOND = 1000;
export const HOUR = 3_600_000;

/** An idempotency record whose job is still missing this long after it was written is an orphan. */
export const ORPHAN_GRACE_SECONDS = 60;

export const LIMITS: AdmissionLimits = {
  maxInflightPerTenant: 100,
  idempotencyTtlHours: 24,
  orphanGraceSeconds: ORPHAN_GRACE_SECONDS,
};

export function limits(maxInflightPerTenant: number): AdmissionLimits {
  return { ...LIMITS, maxInflightPerTenant };
}

export interface CommandSpec {
  readonly tenantId: string;
  readonly requestType?: string;
  /** Makes the command distinct (it is part of the request hash). */
  readonly inputRef?: string;
  readonly idempotencyKey?: string;
  readonly payload?: CommandEnvelope['payload'];
}

export function envelope(spec: CommandSpec): CommandEnvelope {
  const requestType = spec.requestType ?? OCR_EMBEDDING;
  const steps: Record<string, Record<string, unknown>> = requestType === OCR_ONLY
    ? { ocr: { output_format: 'TEXT' } }
    : { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } };
  return {
    tenant_id: spec.tenantId,
    request_type: requestType,
    input_ref: spec.inputRef ?? 'blob://in/doc.pdf',
    output_ref: 'blob://out/doc',
    payload: spec.payload ?? { steps },
    schema_version: 'v1',
    labels: { team: 'contract' },
    ...(spec.idempotencyKey === undefined ? {} : { idempotency_key: spec.idempotencyKey }),
  };
}

/** What the admission use case hands the ledger: a fresh job id per request, as in production. */
export function admission(
  spec: CommandSpec,
  now: Date = at(),
  jobId: string = randomUUID(),
): AdmissionRecord {
  const plan = planAdmission({
    envelope: envelope(spec),
    jobId,
    now,
    registry,
    validateStepPayload: () => [],
    laneCount: 16,
  });
  return { job: plan.job, steps: plan.steps, idempotency: plan.idempotency };
}

export function dispatch(attemptNo: number, leaseId: string, now: Date): StepEvent {
  return {
    type: 'DISPATCH',
    attemptNo,
    leaseId,
    ackDeadline: new Date(now.getTime() + 30 * SECOND).toISOString(),
  };
}

export function ack(attemptNo: number, leaseId: string, now: Date): StepEvent {
  return {
    type: 'ACK',
    attemptNo,
    leaseId,
    leaseExpiresAt: new Date(now.getTime() + 15 * 60 * SECOND).toISOString(),
    resultDeadline: new Date(now.getTime() + 900 * SECOND).toISOString(),
  };
}
