/**
 * Admission: validate the envelope, resolve its protocol, record the job and its steps, start the
 * orchestration. A resent command within the idempotency window returns the same job (and starts its
 * orchestration again if the first start did not happen); nothing new is recorded.
 *
 * Errors (thrown, mapped at the HTTP edge): validation_failed, invalid_idempotency_key,
 * idempotency_key_mismatch, unknown_request_type, invalid_step_payload, idempotency_conflict,
 * tenant_at_capacity, ledger_unavailable, orchestration_unavailable.
 */
import { planAdmission } from '../domain/admission';
import type { Job } from '../domain/job';
import type { Step } from '../domain/step';
import { SchemaValidationError } from '../contracts/errors';
import type { OrchestrationStarter } from '../orchestration/orchestration-starter';
import type { Services } from '../services';

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
  services: Services,
  request: AdmitCommandRequest,
  starter: OrchestrationStarter,
): Promise<AdmitCommandResult> {
  const validation = services.validateEnvelope(request.body);
  if (!validation.ok) throw new SchemaValidationError('command-envelope.v1', validation.violations);
  const maxTimeout = services.settings.sweep.maxJobTimeoutSeconds;
  const timeout = validation.value.timeout_seconds;
  if (timeout !== undefined && timeout > maxTimeout) {
    throw new SchemaValidationError('command-envelope.v1', [
      { pointer: '/timeout_seconds', message: `must be <= ${maxTimeout}`, keyword: 'maximum' },
    ]);
  }

  const now = services.clock.now();
  const plan = planAdmission({
    envelope: validation.value,
    jobId: services.newJobId(),
    now,
    ...(request.idempotencyKeyHeader === undefined
      ? {}
      : { idempotencyKeyHeader: request.idempotencyKeyHeader }),
    registry: services.registry,
    validateStepPayload: services.validateStepPayload,
    laneCount: services.settings.admission.laneCount,
    jobTimeoutSeconds: services.settings.sweep.jobTimeoutSeconds,
  });
  const outcome = await services.ledger.admit(
    plan,
    { ...services.settings.admission, orphanGraceSeconds: services.settings.sweep.acceptGraceSeconds },
    now,
  );

  if (outcome.kind === 'created') {
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
