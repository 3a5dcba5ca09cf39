/**
 * Admission planning: from a schema-valid command envelope to the Job and Steps to record.
 * Pure: the job id, the clock reading, the registry and the settings come in as arguments.
 */
import type { CommandEnvelope } from '../contracts/command-envelope';
import { resolveIdempotency, type IdempotencyIdentity } from './idempotency';
import type { Job } from './job';
import { resolveLane, type LaneResolution } from './lanes';
import { resolveProtocol, type ProtocolRegistry, type StepPayloadValidator } from './protocol';
import type { Step } from './step';

export const DEFAULT_PRIORITY = 5;

export interface AdmissionInput {
  readonly envelope: CommandEnvelope;
  readonly jobId: string;
  readonly now: Date;
  readonly idempotencyKeyHeader?: string;
  readonly registry: ProtocolRegistry;
  readonly validateStepPayload: StepPayloadValidator;
  readonly laneCount: number;
}

export interface AdmissionPlan {
  readonly job: Job;
  readonly steps: readonly Step[];
  readonly idempotency: IdempotencyIdentity;
  readonly routing: LaneResolution;
}

export function planAdmission(input: AdmissionInput): AdmissionPlan {
  const { envelope, jobId, now } = input;
  const idempotency = resolveIdempotency(
    envelope as unknown as CommandEnvelope & Record<string, unknown>,
    input.idempotencyKeyHeader,
  );
  const { protocol, steps: resolved } = resolveProtocol(envelope, input.registry, input.validateStepPayload);
  const routing = resolveLane(envelope, input.laneCount);
  const at = now.toISOString();
  const job: Job = {
    jobId,
    tenantId: envelope.tenant_id,
    requestType: protocol.requestType,
    status: 'ACCEPTED',
    inputRef: envelope.input_ref,
    outputRef: envelope.output_ref,
    routingKey: routing.routingKey,
    routingKeyUsed: routing.routingKeyUsed,
    lane: routing.lane,
    priority: envelope.priority ?? DEFAULT_PRIORITY,
    labels: { ...(envelope.labels ?? {}) },
    ...(envelope.correlation_id === undefined ? {} : { correlationId: envelope.correlation_id }),
    idempotencyKey: idempotency.key,
    requestHash: idempotency.requestHash,
    schemaVersion: envelope.schema_version,
    stepIds: resolved.map((s) => s.stepId),
    createdAt: at,
    updatedAt: at,
    redrives: 0,
  };
  const steps: Step[] = resolved.map((s) => ({
    jobId,
    stepId: s.stepId,
    index: s.index,
    type: s.type,
    status: 'PENDING',
    lane: routing.lane,
    payload: s.payload,
    ...(s.index === 0 ? { inputRef: envelope.input_ref } : {}),
    attemptNo: 0,
    attemptBase: 0,
    staleReplies: 0,
    duplicateReplies: 0,
    createdAt: at,
    updatedAt: at,
  }));
  return { job, steps, idempotency, routing };
}
