/**
 * Admission planning: from a schema-valid command envelope to the Job and Steps to record.
 * Pure: the job id, the clock reading, the registry and the settings come in as arguments.
 *
 * The job deadline: `Job.deadlineAt` = admission time + the command's `timeout_seconds` (checked
 * against LUCIUS_MAX_JOB_TIMEOUT_SECONDS by the use case) or LUCIUS_JOB_TIMEOUT_SECONDS. A redrive
 * gives the job a new window of the same length: `runDeadline` is what a run of the orchestration
 * enforces.
 */
import { resolveIdempotency, type IdempotencyIdentity } from './idempotency';
import type { Job } from './job';
import { resolveLane, type LaneResolution } from './lanes';
import { resolveProtocol, type ProtocolRegistry, type StepPayloadValidator } from './protocol';
import type { Step } from './step';

export const DEFAULT_PRIORITY = 5;

/**
 * The command as admission plans it: the fields of a schema-valid command envelope
 * (contracts/command-envelope.ts, whose `CommandEnvelope` has this shape). The idempotency hash is
 * taken over the whole document given, not only these fields.
 */
export interface AdmissionCommand {
  readonly tenant_id: string;
  readonly request_type: string;
  readonly input_ref: string;
  readonly output_ref: string;
  readonly payload: { readonly steps: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
  readonly schema_version: string;
  readonly routing_key?: string;
  readonly idempotency_key?: string;
  readonly correlation_id?: string;
  readonly priority?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly timeout_seconds?: number;
}

export interface AdmissionInput {
  readonly envelope: AdmissionCommand;
  readonly jobId: string;
  readonly now: Date;
  readonly idempotencyKeyHeader?: string;
  readonly registry: ProtocolRegistry;
  readonly validateStepPayload: StepPayloadValidator;
  readonly laneCount: number;
  /** LUCIUS_JOB_TIMEOUT_SECONDS: the job's window when the command names none. */
  readonly jobTimeoutSeconds?: number;
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
    envelope as unknown as AdmissionCommand & Record<string, unknown>,
    input.idempotencyKeyHeader,
  );
  const { protocol, steps: resolved } = resolveProtocol(envelope, input.registry, input.validateStepPayload);
  const routing = resolveLane(envelope, input.laneCount);
  const at = now.toISOString();
  const timeoutSeconds = envelope.timeout_seconds ?? input.jobTimeoutSeconds;
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
    ...(timeoutSeconds === undefined ? {} : { deadlineAt: secondsAfter(now, timeoutSeconds) }),
    orchestrationRestarts: 0,
    repairs: [],
  };
  const steps: Step[] = resolved.map((s) => ({
    jobId,
    tenantId: envelope.tenant_id,
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

function secondsAfter(at: Date, seconds: number): string {
  return new Date(at.getTime() + seconds * 1000).toISOString();
}

/**
 * The deadline a run of the job's orchestration enforces, started at `runStart`:
 * - a job never redriven: its `deadlineAt` (admission + its timeout);
 * - a redriven job: a new window of the same length from the run's start, never earlier than its
 *   `deadlineAt` (the ledger keeps the admission deadline; a run restarted after a redrive takes
 *   a window from its own start, which a sweeper's bounded restarts can extend at most that often);
 * - a job admitted before deadlines existed: admission + `defaultTimeoutSeconds`.
 */
export function runDeadline(
  job: Pick<Job, 'createdAt' | 'deadlineAt' | 'redrives'>,
  defaultTimeoutSeconds: number,
  runStart: Date,
): string {
  const createdAt = Date.parse(job.createdAt);
  const admitted = job.deadlineAt ?? secondsAfter(new Date(createdAt), defaultTimeoutSeconds);
  if (job.redrives === 0) return admitted;
  const window = Date.parse(admitted) - createdAt;
  const renewed = runStart.getTime() + window;
  return renewed > Date.parse(admitted) ? new Date(renewed).toISOString() : admitted;
}
