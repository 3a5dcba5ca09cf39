/**
 * ingestReply with the authority of an HTTP callback, over the memory ledger and the real state
 * machines: a callback token works only while its attempt is the ledger's current attempt in flight,
 * and a refused token writes nothing, even when the attempt ends between the check and the write; a
 * principal may reply only for jobs of its tenants. Without an authority (Service Bus) nothing changes.
 */
import { StaleLeaseError } from '../../../src/domain/errors';
import type { StepEvent } from '../../../src/domain/step';
import { JobNotFoundError } from '../../../src/ledger/errors';
import type { JobLedger } from '../../../src/ports/job-ledger';
import type { WorkerReply } from '../../../src/domain/worker-reply';
import { cancelInLedger } from '../../../src/usecases/job-activities';
import {
  ingestReply,
  type CallbackAuthority,
  type IngestReplyDeps,
} from '../../../src/usecases/ingest-reply';
import {
  admitJob,
  context,
  dispatchStep,
  testServices,
  type AttemptKey,
  type TestServices,
} from '../http/fixtures';

const SENT = '2026-05-01T12:00:00.000Z';

const ack = (a: AttemptKey): WorkerReply => ({ kind: 'ack', ...a, ackedAt: SENT });
const succeeded = (a: AttemptKey): WorkerReply => ({
  kind: 'result',
  ...a,
  completedAt: SENT,
  status: 'SUCCEEDED',
  outputRef: 'blob://out/ocr.txt',
});
const tokenOf = (a: AttemptKey): CallbackAuthority => ({
  kind: 'callback-token',
  bound: { attemptNo: a.attemptNo, leaseId: a.leaseId },
});

async function started(services: TestServices): Promise<AttemptKey> {
  const jobId = await admitJob(services);
  await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
  return dispatchStep(services, jobId, 'ocr');
}

async function snapshot(services: TestServices, jobId: string): Promise<unknown> {
  return structuredClone({
    job: await services.ledger.getJob(jobId),
    inflight: await services.ledger.inflightCount('t1'),
  });
}

describe('ingestReply with a callback token', () => {
  it('applies the reply of the token’s attempt while it is in flight', async () => {
    const services = testServices();
    const attempt = await started(services);
    const deps = services.ingestReply(context());
    expect((await ingestReply(deps, ack(attempt), tokenOf(attempt))).kind).toBe('applied');
    expect((await ingestReply(deps, succeeded(attempt), tokenOf(attempt))).step.status).toBe('SUCCEEDED');
  });

  it('answers stale without a write once the attempt has ended, where Service Bus answers a duplicate', async () => {
    const services = testServices();
    const attempt = await started(services);
    const deps = services.ingestReply(context());
    await ingestReply(deps, succeeded(attempt), tokenOf(attempt));
    const before = await snapshot(services, attempt.jobId);
    const outcome = await ingestReply(deps, succeeded(attempt), tokenOf(attempt));
    expect(outcome.kind).toBe('stale');
    expect(outcome.kind === 'stale' ? outcome.error : undefined).toBeInstanceOf(StaleLeaseError);
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
    // The same reply over Service Bus (no authority) keeps today's answer, counted on the step.
    const overServiceBus = await ingestReply(deps, succeeded(attempt));
    expect(overServiceBus).toMatchObject({ kind: 'duplicate', step: { duplicateReplies: 1 } });
  });

  it('answers stale without a write when the attempt ends between the check and the write', async () => {
    const services = testServices();
    const attempt = await started(services);
    // The ledger the use case sees: the job is cancelled just before the reply's write lands.
    const racing: JobLedger = Object.create(services.ledger) as JobLedger;
    let raced = false;
    racing.applyStepEvent = async (jobId: string, stepId: string, event: StepEvent, now: Date) => {
      if (!raced) {
        raced = true;
        await cancelInLedger(services.ledger, jobId, 'operator', services.clock.now());
      }
      return services.ledger.applyStepEvent(jobId, stepId, event, now);
    };
    const deps: IngestReplyDeps = { ...services.ingestReply(context()), ledger: racing };
    const outcome = await ingestReply(deps, ack(attempt), tokenOf(attempt));
    expect(raced).toBe(true);
    expect(outcome).toMatchObject({ kind: 'stale', step: { status: 'CANCELLED' } });
    const step = (await services.ledger.getJob(attempt.jobId))?.steps.find((s) => s.stepId === 'ocr');
    expect(step).toMatchObject({ status: 'CANCELLED', staleReplies: 0, duplicateReplies: 0 });
    expect(services.signals.raised).toEqual([]);
  });
});

describe('ingestReply with a principal', () => {
  it('answers a job of a tenant the principal may not act for as unknown, writing nothing', async () => {
    const services = testServices();
    const attempt = await started(services);
    const before = await snapshot(services, attempt.jobId);
    const asked: string[] = [];
    const authority: CallbackAuthority = {
      kind: 'principal',
      mayUse: (tenantId) => {
        asked.push(tenantId);
        return Promise.resolve(false);
      },
    };
    await expect(
      ingestReply(services.ingestReply(context()), ack(attempt), authority),
    ).rejects.toBeInstanceOf(JobNotFoundError);
    expect(asked).toEqual(['t1']);
    expect(await snapshot(services, attempt.jobId)).toEqual(before);
  });
});
