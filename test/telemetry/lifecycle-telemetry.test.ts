import { randomUUID } from 'node:crypto';
import { assembleServices } from '../../src/composition';
import { decodeReply } from '../../src/contracts/reply-decoder';
import { MemoryTelemetry } from '../../src/telemetry/memory-telemetry';
import { ingestReply } from '../../src/usecases/ingest-reply';
import * as activities from '../../src/usecases/job-activities';
import { admitJob, replyBody, testServices, type AttemptKey, type TestServices } from '../unit/http/fixtures';

const OCR_ONLY = { request_type: 'OCR', payload: { steps: { ocr: { output_format: 'TEXT' } } } };

/** A clock that moves only when the test advances it, so latencies are exact. */
class StillClock {
  private t = Date.parse('2026-05-01T12:00:00.000Z');
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The in-memory wiring with a MemoryTelemetry behind every use case. */
function wired(): { services: TestServices; telemetry: MemoryTelemetry } {
  const base = testServices({}, { clock: new StillClock() });
  const telemetry = new MemoryTelemetry();
  return { services: { ...base, ...assembleServices({ ...base, telemetry }) }, telemetry };
}

async function dispatch(services: TestServices, jobId: string, stepId: string): Promise<AttemptKey> {
  const leaseId = randomUUID();
  const ackDeadline = new Date(services.clock.now().getTime() + 30_000).toISOString();
  const ref = { jobId, stepId, attemptNo: 1, leaseId };
  await activities.recordAttempt(services.jobActivities, { ...ref, inputRef: 'blob://in', ackDeadline });
  await activities.publishDirective(services.jobActivities, ref, () => undefined);
  return ref;
}

function reply(services: TestServices, kind: 'ack' | 'result', attempt: AttemptKey, extra = {}) {
  const body = replyBody(kind, attempt, extra);
  // A FAILED result names no output.
  if (body.status === 'FAILED') delete body.output_ref;
  return ingestReply(services.ingestReply({} as never), decodeReply(body, {}));
}

describe('lifecycle telemetry', () => {
  it('says job.accepted, step.dispatched, step.acked, step.succeeded and job.succeeded with the job, tenant, step and attempt', async () => {
    const { services, telemetry } = wired();
    const jobId = await admitJob(services, OCR_ONLY);
    const tenant = (await services.ledger.getJob(jobId))?.job.tenantId;
    await activities.startJob(services.jobActivities, { jobId, tenantId: tenant ?? '', requestType: 'OCR' });
    const attempt = await dispatch(services, jobId, 'ocr');
    services.clock.advance(1_500);
    await reply(services, 'ack', attempt);
    services.clock.advance(2_000);
    await reply(services, 'result', attempt);
    await activities.finishJob(services.jobActivities, { jobId, outcome: 'SUCCEEDED' });

    expect(telemetry.events.map((e) => e.name)).toEqual([
      'job.accepted',
      'step.dispatched',
      'step.acked',
      'step.succeeded',
      'job.succeeded',
    ]);
    for (const { name, fields } of telemetry.events) {
      expect({ name, job: fields.job_id, tenant: fields.tenant_id }).toEqual({ name, job: jobId, tenant });
      if (name.startsWith('step.')) expect([fields.step_id, fields.attempt_no]).toEqual(['ocr', 1]);
    }
    expect(telemetry.total('lucius.jobs.admitted', { request_type: 'OCR' })).toBe(1);
    expect(telemetry.total('lucius.jobs.finished', { status: 'succeeded', request_type: 'OCR' })).toBe(1);
    expect(telemetry.total('lucius.step.attempts', { step_type: 'OCR' })).toBe(1);
    // The ledger's clock moved 1.5 s before the ACK and 2 s more before the RESULT.
    expect(telemetry.metrics.find((m) => m.name === 'lucius.step.ack_latency')?.value).toBe(1_500);
    expect(telemetry.metrics.find((m) => m.name === 'lucius.step.duration')?.value).toBe(3_500);
    expect(telemetry.total('lucius.tenant.inflight', { tenant_id: tenant ?? '' })).toBe(0);
  });

  it('counts a retry by failure class, then stale and duplicate replies', async () => {
    const { services, telemetry } = wired();
    const jobId = await admitJob(services, OCR_ONLY);
    const attempt = await dispatch(services, jobId, 'ocr');
    const failed = { status: 'FAILED', failure: { failure_class: 'TRANSIENT', message: 'busy' } };
    await reply(services, 'result', attempt, failed);
    await reply(services, 'result', attempt, failed);
    await reply(services, 'ack', { ...attempt, leaseId: randomUUID() });

    const retry = telemetry.events.find((e) => e.name === 'step.retry');
    expect(retry?.fields).toMatchObject({
      job_id: jobId,
      step_id: 'ocr',
      attempt_no: 1,
      failure_class: 'TRANSIENT',
    });
    expect(telemetry.total('lucius.step.retries', { failure_class: 'TRANSIENT' })).toBe(1);
    expect(telemetry.total('lucius.replies.duplicate')).toBe(1);
    expect(telemetry.total('lucius.replies.stale')).toBe(1);
  });

  it('says job.cancelled once when the API and the orchestration both cancel', async () => {
    const { services, telemetry } = wired();
    const jobId = await admitJob(services);
    const tenant = (await services.ledger.getJob(jobId))?.job.tenantId ?? '';
    const now = services.clock.now();
    await activities.cancelInLedger(services.ledger, jobId, 'no longer needed', now, telemetry);
    await activities.cancelJob(services.jobActivities, { jobId, reason: 'no longer needed' });

    expect(telemetry.events.filter((e) => e.name === 'job.cancelled')).toHaveLength(1);
    expect(telemetry.total('lucius.jobs.finished', { status: 'cancelled' })).toBe(1);
    expect(telemetry.total('lucius.tenant.inflight', { tenant_id: tenant })).toBe(0);
  });
});
