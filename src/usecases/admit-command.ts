/**
 * Admission: validate the envelope, resolve its protocol, record the job and its steps, start the
 * orchestration. A resent command within the idempotency window returns the same job (and starts its
 * orchestration again if the first start did not happen); nothing new is recorded.
 *
 * Errors (thrown, mapped at the HTTP edge): validation_failed, invalid_idempotency_key,
 * idempotency_key_mismatch, unknown_request_type, invalid_step_payload, idempotency_conflict,
 * tenant_at_capacity, ledger_unavailable, orchestration_unavailable.
 */
import type { Settings } from '../config/settings';
import type { CommandEnvelope } from '../contracts/command-envelope';
import { SchemaValidationError } from '../contracts/errors';
import { planAdmission } from '../domain/admission';
import type { Clock } from '../domain/clock';
import type { Violation } from '../domain/errors';
import type { Job } from '../domain/job';
import type { ProtocolRegistry, StepPayloadValidator } from '../domain/protocol';
import type { Step } from '../domain/step';
import type { JobLedger } from '../ports/job-ledger';
import type { OrchestrationStarter } from '../ports/orchestration-starter';
import type { Telemetry } from '../ports/telemetry';
import { jobAccepted, telemetryOf } from './lifecycle-telemetry';

export type EnvelopeValidator = (
  value: unknown,
) =>
  | { readonly ok: true; readonly value: CommandEnvelope }
  | { readonly ok: false; readonly violations: readonly Violation[] };

export interface AdmitCommandDeps {
  readonly ledger: JobLedger;
  /** Bound to the invocation (the durable client comes from its input binding). */
  readonly starter: OrchestrationStarter;
  readonly clock: Clock;
  readonly newJobId: () => string;
  readonly registry: ProtocolRegistry;
  readonly validateEnvelope: EnvelopeValidator;
  readonly validateStepPayload: StepPayloadValidator;
  readonly settings: Pick<Settings, 'admission' | 'sweep'>;
  /** `job.accepted` and the admission metrics (silent when absent). */
  readonly telemetry?: Telemetry;
}

export interface AdmitCommandRequest {
  readonly body: unknown;
  readonly idempotencyKeyHeader?: string;
}

export interface AdmitCommandResult {
  readonly created: boolean;
  readonly job: Job;
  readonly steps: readonly Step[];
}

export async function admitCommand(
  deps: AdmitCommandDeps,
  request: AdmitCommandRequest,
): Promise<AdmitCommandResult> {
  const { starter } = deps;
  const validation = deps.validateEnvelope(request.body);
  if (!validation.ok) throw new SchemaValidationError('command-envelope.v1', validation.violations);
  const maxTimeout = deps.settings.sweep.maxJobTimeoutSeconds;
  const timeout = validation.value.timeout_seconds;
  if (timeout !== undefined && timeout > maxTimeout) {
    throw new SchemaValidationError('command-envelope.v1', [
      { pointer: '/timeout_seconds', message: `must be <= ${maxTimeout}`, keyword: 'maximum' },
    ]);
  }

  const now = deps.clock.now();
  const plan = planAdmission({
    envelope: validation.value,
    jobId: deps.newJobId(),
    now,
    ...(request.idempotencyKeyHeader === undefined
      ? {}
      : { idempotencyKeyHeader: request.idempotencyKeyHeader }),
    registry: deps.registry,
    validateStepPayload: deps.validateStepPayload,
    laneCount: deps.settings.admission.laneCount,
    jobTimeoutSeconds: deps.settings.sweep.jobTimeoutSeconds,
  });
  const outcome = await deps.ledger.admit(
    plan,
    { ...deps.settings.admission, orphanGraceSeconds: deps.settings.sweep.acceptGraceSeconds },
    now,
  );

  if (outcome.kind === 'created') {
    jobAccepted(telemetryOf(deps), outcome.job);
    await starter.start({
      jobId: outcome.job.jobId,
      tenantId: outcome.job.tenantId,
      requestType: outcome.job.requestType,
    });
    return { created: true, job: outcome.job, steps: outcome.steps };
  }
  // A duplicate: the job exists (or is being written by the first admission); the body is identical,
  // so the plan describes it, under the first admission's job id.
  const job = outcome.job ?? { ...plan.job, jobId: outcome.jobId };
  const steps =
    outcome.job === undefined ? plan.steps.map((s) => ({ ...s, jobId: outcome.jobId })) : outcome.steps;
  if (job.status === 'ACCEPTED') {
    await starter.start({ jobId: job.jobId, tenantId: job.tenantId, requestType: job.requestType });
  }
  return { created: false, job, steps };
}
