/**
 * The JobLedger contract: one suite, run unchanged against every backend (memory, table, ledger).
 * `makeLedger` returns a ledger over fresh, empty storage (and a way to run an admission that dies
 * at its commit point on that storage); tests also use unique tenants so nothing depends on
 * isolation alone. The sweepers' part of the port is in job-ledger-sweep.contract.ts, run from here.
 * Backend-specific checks live in the `*-job-ledger.test.ts` files.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidTransitionError, StaleLeaseError } from '../../../src/domain/errors';
import type { Step } from '../../../src/domain/step';
import {
  IdempotencyConflictError,
  InvalidContinuationError,
  JobNotFoundError,
  StepNotFoundError,
  TenantAtCapacityError,
} from '../../../src/ledger/errors';
import type {
  AdmissionLimits,
  AdmissionOutcome,
  AdmissionRecord,
  JobLedger,
  JobListQuery,
  JobSummary,
} from '../../../src/ports/job-ledger';
import { encodeContinuation } from '../../../src/ledger/keys';
import { uniqueTenantId } from '../../support/unique';
import { describeSweepContract } from './job-ledger-sweep.contract';
import {
  ack,
  admission,
  at,
  dispatch,
  HOUR,
  limits,
  LIMITS,
  OCR_EMBEDDING,
  OCR_ONLY,
  SECOND,
} from './fixtures';

/** Compares large values without printing them when they differ. */
function fingerprint(value: unknown): string {
  const json = JSON.stringify(value) ?? 'undefined';
  return `${json.length}:${createHash('sha256').update(json).digest('hex')}`;
}

/** A backend under test: a ledger over fresh storage, and a dying admission on the same storage. */
export interface LedgerUnderTest {
  readonly ledger: JobLedger;
  /**
   * Runs `admit` as a process that dies at the commit point: what the admission writes before its
   * job row stays written, nothing after it is written, and the call rejects.
   */
  admitDyingAtCommit(record: AdmissionRecord, limits: AdmissionLimits, now: Date): Promise<void>;
}

export function describeJobLedgerContract(name: string, makeLedger: () => Promise<LedgerUnderTest>): void {
  describe(`${name} (JobLedger contract)`, () => {
    let subject: LedgerUnderTest;
    let ledger: JobLedger;
    let tenantId: string;

    beforeEach(async () => {
      subject = await makeLedger();
      ledger = subject.ledger;
      tenantId = uniqueTenantId();
    });

    describeSweepContract(() => subject);

    async function listAll(
      query: Omit<JobListQuery, 'limit' | 'continuation'>,
      pageSize: number,
    ): Promise<JobSummary[]> {
      const items: JobSummary[] = [];
      let continuation: string | undefined;
      for (let page = 0; page < 100; page += 1) {
        const result = await ledger.listJobs({
          ...query,
          limit: pageSize,
          ...(continuation === undefined ? {} : { continuation }),
        });
        expect(result.items.length).toBeLessThanOrEqual(pageSize);
        items.push(...result.items);
        continuation = result.continuation;
        if (continuation === undefined) return items;
      }
      throw new Error('listing did not end');
    }

    function created(outcome: AdmissionOutcome): Extract<AdmissionOutcome, { kind: 'created' }> {
      if (outcome.kind !== 'created') throw new Error(`expected a created outcome, got ${outcome.kind}`);
      return outcome;
    }

    /** Admits a job and moves its first step to IN_PROGRESS with lease `leaseId`, attempt 1. */
    async function jobWithStepInProgress(leaseId: string): Promise<string> {
      const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
      await ledger.applyStepEvent(job.jobId, 'ocr', dispatch(1, leaseId, at(SECOND)), at(SECOND));
      await ledger.applyStepEvent(
        job.jobId,
        'ocr',
        { type: 'PUBLISHED', attemptNo: 1, leaseId },
        at(2 * SECOND),
      );
      await ledger.applyStepEvent(job.jobId, 'ocr', ack(1, leaseId, at(3 * SECOND)), at(3 * SECOND));
      return job.jobId;
    }

    async function stepOf(jobId: string, stepId: string): Promise<Step> {
      const found = await ledger.getJob(jobId);
      const step = found?.steps.find((s) => s.stepId === stepId);
      if (step === undefined) throw new Error(`no step ${stepId} in job ${jobId}`);
      return step;
    }

    describe('admit', () => {
      it('creates the job and its steps, readable in protocol order', async () => {
        const record = admission({ tenantId });
        const outcome = await ledger.admit(record, LIMITS, at());

        expect(outcome).toEqual({ kind: 'created', job: record.job, steps: record.steps });
        const found = await ledger.getJob(record.job.jobId);
        expect(found?.job).toEqual(record.job);
        expect(found?.steps.map((s) => s.stepId)).toEqual(['ocr', 'embedding']);
        expect(found?.steps).toEqual(record.steps);
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        const page = await ledger.listJobs({ tenantId, limit: 10 });
        expect(page.items).toEqual([
          {
            jobId: record.job.jobId,
            tenantId,
            requestType: OCR_EMBEDDING,
            status: 'ACCEPTED',
            lane: record.job.lane,
            createdAt: record.job.createdAt,
            updatedAt: record.job.updatedAt,
          },
        ]);
      });

      it('answers a resent command within the window as a duplicate of the same job and creates nothing', async () => {
        const first = created(
          await ledger.admit(admission({ tenantId, idempotencyKey: 'k-1' }), LIMITS, at()),
        );
        const resent = admission({ tenantId, idempotencyKey: 'k-1' }, at(HOUR));

        const outcome = await ledger.admit(resent, LIMITS, at(HOUR));

        expect(outcome).toEqual({
          kind: 'duplicate',
          jobId: first.job.jobId,
          job: first.job,
          steps: first.steps,
        });
        expect(await ledger.getJob(resent.job.jobId)).toBeUndefined();
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        expect((await ledger.listJobs({ tenantId, limit: 10 })).items.map((i) => i.jobId)).toEqual([
          first.job.jobId,
        ]);
      });

      it('recognises an identical command without any key as a duplicate', async () => {
        const first = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        const outcome = await ledger.admit(admission({ tenantId }, at(SECOND)), LIMITS, at(SECOND));
        expect(outcome).toMatchObject({ kind: 'duplicate', jobId: first.job.jobId });
      });

      it('creates a new job for a command resent after the window expired', async () => {
        const first = created(
          await ledger.admit(admission({ tenantId, idempotencyKey: 'k-1' }), LIMITS, at()),
        );
        const later = at(LIMITS.idempotencyTtlHours * HOUR + 1);
        const resent = admission({ tenantId, idempotencyKey: 'k-1' }, later);

        const outcome = await ledger.admit(resent, LIMITS, later);

        expect(outcome.kind).toBe('created');
        expect((await ledger.getJob(resent.job.jobId))?.job).toEqual(resent.job);
        expect((await ledger.getJob(first.job.jobId))?.job).toEqual(first.job);
        expect(await ledger.inflightCount(tenantId)).toBe(2);
        // The renewed record now makes the second job the one a resend within the new window finds.
        const again = await ledger.admit(
          admission({ tenantId, idempotencyKey: 'k-1' }, later),
          LIMITS,
          later,
        );
        expect(again).toMatchObject({ kind: 'duplicate', jobId: resent.job.jobId });
      });

      it('accepts another command under an expired key', async () => {
        created(
          await ledger.admit(
            admission({ tenantId, idempotencyKey: 'k-1', inputRef: 'blob://a' }),
            LIMITS,
            at(),
          ),
        );
        const later = at(LIMITS.idempotencyTtlHours * HOUR + 1);
        const other = admission({ tenantId, idempotencyKey: 'k-1', inputRef: 'blob://b' }, later);
        expect((await ledger.admit(other, LIMITS, later)).kind).toBe('created');
      });

      it('refuses the same key with a different command (IdempotencyConflictError) and writes nothing', async () => {
        const first = created(
          await ledger.admit(
            admission({ tenantId, idempotencyKey: 'k-1', inputRef: 'blob://a' }),
            LIMITS,
            at(),
          ),
        );
        const other = admission({ tenantId, idempotencyKey: 'k-1', inputRef: 'blob://b' }, at(SECOND));

        const refusal = ledger.admit(other, LIMITS, at(SECOND));

        await expect(refusal).rejects.toBeInstanceOf(IdempotencyConflictError);
        await expect(refusal).rejects.toMatchObject({
          code: 'idempotency_conflict',
          details: { job_id: first.job.jobId },
        });
        expect(await ledger.getJob(other.job.jobId)).toBeUndefined();
        expect(await ledger.inflightCount(tenantId)).toBe(1);
      });

      it('scopes keys per tenant', async () => {
        const otherTenant = uniqueTenantId();
        created(await ledger.admit(admission({ tenantId, idempotencyKey: 'shared' }), LIMITS, at()));
        const outcome = await ledger.admit(
          admission({ tenantId: otherTenant, idempotencyKey: 'shared' }),
          LIMITS,
          at(),
        );
        expect(outcome.kind).toBe('created');
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        expect(await ledger.inflightCount(otherTenant)).toBe(1);
      });

      it('creates exactly one job for 20 concurrent identical admissions', async () => {
        const records = Array.from({ length: 20 }, () => admission({ tenantId, idempotencyKey: 'burst' }));

        const outcomes = await Promise.all(records.map((record) => ledger.admit(record, LIMITS, at())));

        const createdOnes = outcomes.filter((o) => o.kind === 'created');
        expect(createdOnes).toHaveLength(1);
        const jobId = created(createdOnes[0] as AdmissionOutcome).job.jobId;
        expect(new Set(outcomes.map((o) => (o.kind === 'created' ? o.job.jobId : o.jobId)))).toEqual(
          new Set([jobId]),
        );
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        expect((await ledger.listJobs({ tenantId, limit: 100 })).items.map((i) => i.jobId)).toEqual([jobId]);
        for (const record of records) {
          if (record.job.jobId !== jobId) expect(await ledger.getJob(record.job.jobId)).toBeUndefined();
        }
        expect((await ledger.getJob(jobId))?.steps).toHaveLength(2);
      });

      it('admits exactly the limit of concurrent distinct commands and leaves no trace of the refused ones', async () => {
        const limit = 3;
        const records = Array.from({ length: limit + 5 }, (_, i) =>
          admission({ tenantId, inputRef: `blob://in/${i}` }),
        );

        const settled = await Promise.allSettled(
          records.map((record) => ledger.admit(record, limits(limit), at())),
        );

        const admitted = records.filter((_, i) => settled[i]?.status === 'fulfilled');
        const refused = records.filter((_, i) => settled[i]?.status === 'rejected');
        expect(admitted).toHaveLength(limit);
        for (const result of settled) {
          if (result.status === 'fulfilled') expect(result.value.kind).toBe('created');
          else expect(result.reason).toBeInstanceOf(TenantAtCapacityError);
        }
        expect(await ledger.inflightCount(tenantId)).toBe(limit);
        for (const record of refused) expect(await ledger.getJob(record.job.jobId)).toBeUndefined();
        const listed = (await ledger.listJobs({ tenantId, limit: 100 })).items.map((i) => i.jobId);
        expect(new Set(listed)).toEqual(new Set(admitted.map((r) => r.job.jobId)));

        // Once a slot frees, a refused command is admitted as new: no idempotency record was left.
        await ledger.applyJobEvent(
          (admitted[0] as (typeof admitted)[number]).job.jobId,
          { type: 'CANCEL' },
          at(SECOND),
        );
        const retried = refused[0] as (typeof refused)[number];
        const outcome = await ledger.admit(retried, limits(limit), at(2 * SECOND));
        expect(outcome).toMatchObject({ kind: 'created', job: { jobId: retried.job.jobId } });
        expect(await ledger.inflightCount(tenantId)).toBe(limit);
      });

      it('refuses a new command at capacity but still answers a duplicate', async () => {
        const first = created(
          await ledger.admit(admission({ tenantId, inputRef: 'blob://a' }), limits(1), at()),
        );

        const duplicate = await ledger.admit(
          admission({ tenantId, inputRef: 'blob://a' }, at(SECOND)),
          limits(1),
          at(SECOND),
        );
        expect(duplicate).toMatchObject({ kind: 'duplicate', jobId: first.job.jobId });

        const refusal = ledger.admit(
          admission({ tenantId, inputRef: 'blob://b' }, at(SECOND)),
          limits(1),
          at(SECOND),
        );
        await expect(refusal).rejects.toBeInstanceOf(TenantAtCapacityError);
        await expect(refusal).rejects.toMatchObject({ code: 'tenant_at_capacity', retryable: true });
        expect(await ledger.inflightCount(tenantId)).toBe(1);
      });

      it('keeps a step payload and result of 100K characters intact', async () => {
        // ASCII only: Azurite 3.35 decodes a large single-entity request body chunk by chunk and
        // corrupts a multi-byte character that straddles two chunks (Azure does not). Non-ASCII
        // text is covered with smaller rows in the next test.
        const big = 'x'.repeat(60_000) + '"\\{}'.repeat(10_000);
        const payload = { output_format: 'TEXT', hint: big };
        const record = admission({
          tenantId,
          payload: { steps: { ocr: payload, embedding: { model: 'm' } } },
        });
        created(await ledger.admit(record, LIMITS, at()));
        expect(fingerprint((await stepOf(record.job.jobId, 'ocr')).payload)).toBe(fingerprint(payload));

        const leaseId = randomUUID();
        await ledger.applyStepEvent(record.job.jobId, 'ocr', dispatch(1, leaseId, at(SECOND)), at(SECOND));
        const result = { text: big, pages: [1, 2, 3] };
        await ledger.applyStepEvent(
          record.job.jobId,
          'ocr',
          { type: 'SUCCEED', attemptNo: 1, leaseId, result, outputRef: 'blob://o' },
          at(2 * SECOND),
        );
        const step = await stepOf(record.job.jobId, 'ocr');
        expect(fingerprint(step.result)).toBe(fingerprint(result));
        expect(fingerprint(step.payload)).toBe(fingerprint(payload));
      });

      it('keeps non-ASCII text intact', async () => {
        const text = 'r\u00e9sum\u00e9 \u{1F600} \u6587\u5b57 \u0645\u0631\u062d\u0628\u0627';
        const payload = { output_format: 'TEXT', hint: text };
        const record = admission({
          tenantId,
          payload: { steps: { ocr: payload, embedding: { model: text } } },
        });
        created(await ledger.admit(record, LIMITS, at()));
        const leaseId = randomUUID();
        await ledger.applyStepEvent(record.job.jobId, 'ocr', dispatch(1, leaseId, at(SECOND)), at(SECOND));
        await ledger.applyStepEvent(
          record.job.jobId,
          'ocr',
          { type: 'SUCCEED', attemptNo: 1, leaseId, result: { text } },
          at(2 * SECOND),
        );

        const found = await ledger.getJob(record.job.jobId);
        expect(found?.steps[0]).toMatchObject({ payload, result: { text } });
        expect(found?.steps[1]?.payload).toEqual({ model: text });
      });
    });

    describe('applyJobEvent', () => {
      it('moves a job through its lifecycle and refuses invalid transitions', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));

        const started = await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
        expect(started.changed).toBe(true);
        expect(started.next).toMatchObject({
          status: 'RUNNING',
          startedAt: at(SECOND).toISOString(),
          updatedAt: at(SECOND).toISOString(),
        });
        expect((await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(2 * SECOND))).changed).toBe(
          false,
        );
        expect(await ledger.inflightCount(tenantId)).toBe(1);

        const done = await ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(3 * SECOND));
        expect(done).toMatchObject({
          changed: true,
          next: { status: 'SUCCEEDED', finishedAt: at(3 * SECOND).toISOString() },
        });
        expect((await ledger.getJob(job.jobId))?.job).toEqual(done.next);
        expect(await ledger.inflightCount(tenantId)).toBe(0);

        await expect(
          ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(4 * SECOND)),
        ).rejects.toBeInstanceOf(InvalidTransitionError);
        expect((await ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(5 * SECOND))).changed).toBe(
          false,
        );
        expect(await ledger.inflightCount(tenantId)).toBe(0);
        expect((await ledger.getJob(job.jobId))?.job).toEqual(done.next);

        const [summary] = (await ledger.listJobs({ tenantId, limit: 10 })).items;
        expect(summary).toMatchObject({
          jobId: job.jobId,
          status: 'SUCCEEDED',
          updatedAt: at(3 * SECOND).toISOString(),
        });
      });

      it('records the failure and the cancel reason', async () => {
        const a = created(await ledger.admit(admission({ tenantId, inputRef: 'blob://a' }), LIMITS, at()));
        const b = created(await ledger.admit(admission({ tenantId, inputRef: 'blob://b' }), LIMITS, at()));
        const failure = { stepId: 'ocr', failureClass: 'PERMANENT' as const, message: 'unreadable' };

        await ledger.applyJobEvent(a.job.jobId, { type: 'FAIL', failure }, at(SECOND));
        await ledger.applyJobEvent(b.job.jobId, { type: 'CANCEL', reason: 'user asked' }, at(SECOND));

        expect((await ledger.getJob(a.job.jobId))?.job).toMatchObject({ status: 'FAILED', failure });
        expect((await ledger.getJob(b.job.jobId))?.job).toMatchObject({
          status: 'CANCELLED',
          cancelReason: 'user asked',
        });
        expect(await ledger.inflightCount(tenantId)).toBe(0);
      });

      it('lets exactly one of a racing FAIL and CANCEL win and releases the slot once', async () => {
        const other = created(
          await ledger.admit(admission({ tenantId, inputRef: 'blob://other' }), LIMITS, at()),
        );
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
        expect(await ledger.inflightCount(tenantId)).toBe(2);

        const settled = await Promise.allSettled([
          ledger.applyJobEvent(
            job.jobId,
            { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'boom' } },
            at(2 * SECOND),
          ),
          ledger.applyJobEvent(job.jobId, { type: 'CANCEL', reason: 'stop' }, at(2 * SECOND)),
        ]);

        const winners = settled.filter((s) => s.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        const loser = settled.find((s) => s.status === 'rejected');
        expect(loser?.reason).toBeInstanceOf(InvalidTransitionError);
        const winner = (winners[0] as PromiseFulfilledResult<{ changed: boolean; next: { status: string } }>)
          .value;
        expect(winner.changed).toBe(true);
        expect((await ledger.getJob(job.jobId))?.job.status).toBe(winner.next.status);
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        expect((await ledger.getJob(other.job.jobId))?.job.status).toBe('ACCEPTED');
      });

      it('applies 10 concurrent identical CANCELs once', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));

        const results = await Promise.all(
          Array.from({ length: 10 }, () => ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(SECOND))),
        );

        expect(results.filter((r) => r.changed)).toHaveLength(1);
        expect(await ledger.inflightCount(tenantId)).toBe(0);
      });

      it('keeps the listed status in step with concurrent transitions', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        await Promise.allSettled([
          ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND)),
          ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND)),
          ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(2 * SECOND)),
        ]);
        const stored = (await ledger.getJob(job.jobId))?.job;
        const [summary] = (await ledger.listJobs({ tenantId, limit: 1 })).items;
        expect(summary).toMatchObject({ status: stored?.status, updatedAt: stored?.updatedAt });
        expect((await ledger.listJobs({ tenantId, status: 'CANCELLED', limit: 10 })).items).toHaveLength(1);
      });

      it('throws JobNotFoundError for an unknown job', async () => {
        await expect(ledger.applyJobEvent(randomUUID(), { type: 'START' }, at())).rejects.toBeInstanceOf(
          JobNotFoundError,
        );
      });
    });

    describe('redrive', () => {
      const FAILURE = { stepId: 'ocr', failureClass: 'TRANSIENT' as const, message: 'attempts ran out' };

      /** A job whose first step failed finally (attempt 1 of 1), and the job FAILED with it. */
      async function failedJob(leaseId = randomUUID()): Promise<string> {
        const jobId = await jobWithStepInProgress(leaseId);
        await ledger.applyJobEvent(jobId, { type: 'START' }, at(4 * SECOND));
        await ledger.applyStepEvent(
          jobId,
          'ocr',
          {
            type: 'FAIL',
            attemptNo: 1,
            leaseId,
            failureClass: 'TRANSIENT',
            message: 'flaky',
            maxAttempts: 1,
          },
          at(5 * SECOND),
        );
        await ledger.applyJobEvent(jobId, { type: 'FAIL', failure: FAILURE }, at(6 * SECOND));
        return jobId;
      }

      it('takes a slot again and moves a FAILED job to RUNNING, counting the redrive', async () => {
        const jobId = await failedJob();
        expect(await ledger.inflightCount(tenantId)).toBe(0);

        const redriven = await ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), LIMITS);

        expect(redriven.changed).toBe(true);
        expect(redriven.next).toMatchObject({
          status: 'RUNNING',
          redrives: 1,
          startedAt: at(4 * SECOND).toISOString(),
          updatedAt: at(10 * SECOND).toISOString(),
        });
        expect(redriven.next.failure).toBeUndefined();
        expect(redriven.next.finishedAt).toBeUndefined();
        expect((await ledger.getJob(jobId))?.job).toEqual(redriven.next);
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        const [summary] = (await ledger.listJobs({ tenantId, limit: 10 })).items;
        expect(summary).toMatchObject({ jobId, status: 'RUNNING', updatedAt: at(10 * SECOND).toISOString() });

        // Failing again gives the slot back once more.
        await ledger.applyJobEvent(jobId, { type: 'FAIL', failure: FAILURE }, at(20 * SECOND));
        expect(await ledger.inflightCount(tenantId)).toBe(0);
      });

      it('refuses a redrive at capacity (TenantAtCapacityError) and changes nothing', async () => {
        const jobId = await failedJob();
        created(await ledger.admit(admission({ tenantId, inputRef: 'blob://other' }), LIMITS, at()));
        const before = await ledger.getJob(jobId);

        const refusal = ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), limits(1));

        await expect(refusal).rejects.toBeInstanceOf(TenantAtCapacityError);
        await expect(refusal).rejects.toMatchObject({ code: 'tenant_at_capacity', retryable: true });
        expect(await ledger.getJob(jobId)).toEqual(before);
        expect(before?.job).toMatchObject({ status: 'FAILED', redrives: 0 });
        expect(await ledger.inflightCount(tenantId)).toBe(1);
        expect((await ledger.listJobs({ tenantId, status: 'FAILED', limit: 10 })).items).toHaveLength(1);
      });

      it('refuses a redrive without limits (RangeError) and changes nothing', async () => {
        const jobId = await failedJob();
        const before = await ledger.getJob(jobId);

        await expect(
          ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND)),
        ).rejects.toBeInstanceOf(RangeError);
        expect(await ledger.getJob(jobId)).toEqual(before);
        expect(await ledger.inflightCount(tenantId)).toBe(0);
      });

      it('applies 10 concurrent redrives of one job once and takes exactly one slot', async () => {
        const jobId = await failedJob();
        created(await ledger.admit(admission({ tenantId, inputRef: 'blob://other' }), LIMITS, at()));
        expect(await ledger.inflightCount(tenantId)).toBe(1);

        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, () =>
            ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), LIMITS),
          ),
        );

        const applied = settled.filter((s) => s.status === 'fulfilled' && s.value.changed);
        expect(applied).toHaveLength(1);
        for (const s of settled) {
          if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(InvalidTransitionError);
        }
        expect((await ledger.getJob(jobId))?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
        expect(await ledger.inflightCount(tenantId)).toBe(2);
      });

      it('applies concurrent redrives once at a limit of one free slot', async () => {
        const jobId = await failedJob();
        created(await ledger.admit(admission({ tenantId, inputRef: 'blob://other' }), LIMITS, at()));

        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, () =>
            ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), limits(2)),
          ),
        );

        expect(settled.filter((s) => s.status === 'fulfilled' && s.value.changed)).toHaveLength(1);
        for (const s of settled) {
          if (s.status === 'rejected') {
            expect([InvalidTransitionError, TenantAtCapacityError]).toContain(
              (s.reason as object).constructor,
            );
          }
        }
        expect((await ledger.getJob(jobId))?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
        expect(await ledger.inflightCount(tenantId)).toBe(2);
      });

      it('refuses to redrive a RUNNING or SUCCEEDED job (InvalidTransitionError) and takes no slot', async () => {
        const running = created(
          await ledger.admit(admission({ tenantId, inputRef: 'blob://a' }), LIMITS, at()),
        );
        const done = created(await ledger.admit(admission({ tenantId, inputRef: 'blob://b' }), LIMITS, at()));
        await ledger.applyJobEvent(running.job.jobId, { type: 'START' }, at(SECOND));
        await ledger.applyJobEvent(done.job.jobId, { type: 'START' }, at(SECOND));
        await ledger.applyJobEvent(done.job.jobId, { type: 'SUCCEED' }, at(2 * SECOND));
        expect(await ledger.inflightCount(tenantId)).toBe(1);

        for (const jobId of [running.job.jobId, done.job.jobId]) {
          const before = await ledger.getJob(jobId);
          await expect(
            ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), LIMITS),
          ).rejects.toBeInstanceOf(InvalidTransitionError);
          expect(await ledger.getJob(jobId)).toEqual(before);
        }
        expect(await ledger.inflightCount(tenantId)).toBe(1);
      });

      it('reopens the failed step for a new drive whose attempts continue the numbering', async () => {
        const firstLease = randomUUID();
        const jobId = await failedJob(firstLease);
        await ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), LIMITS);
        expect(await stepOf(jobId, 'ocr')).toMatchObject({
          status: 'FAILED_FINAL',
          attemptNo: 1,
          attemptBase: 0,
          failure: { exhausted: true },
        });

        const reopened = await ledger.applyStepEvent(jobId, 'ocr', { type: 'REDRIVE' }, at(11 * SECOND));
        expect(reopened).toMatchObject({ changed: true, duplicate: false });
        expect(reopened.next).toMatchObject({
          status: 'FAILED_RETRY',
          attemptNo: 1,
          attemptBase: 1,
          failure: { failureClass: 'TRANSIENT', attemptNo: 1, exhausted: true },
        });
        expect(reopened.next.finishedAt).toBeUndefined();
        expect(await stepOf(jobId, 'ocr')).toEqual(reopened.next);
        const again = await ledger.applyStepEvent(jobId, 'ocr', { type: 'REDRIVE' }, at(12 * SECOND));
        expect(again).toMatchObject({ changed: false, duplicate: true });

        await expect(
          ledger.applyStepEvent(jobId, 'ocr', dispatch(1, randomUUID(), at(13 * SECOND)), at(13 * SECOND)),
        ).rejects.toBeInstanceOf(InvalidTransitionError);
        const secondLease = randomUUID();
        const fail = (attemptNo: number, leaseId: string) =>
          ({
            type: 'FAIL',
            attemptNo,
            leaseId,
            failureClass: 'TRANSIENT',
            message: `attempt ${attemptNo}`,
            maxAttempts: 2,
          }) as const;
        await ledger.applyStepEvent(jobId, 'ocr', dispatch(2, secondLease, at(13 * SECOND)), at(13 * SECOND));
        await expect(
          ledger.applyStepEvent(jobId, 'ocr', ack(1, firstLease, at(14 * SECOND)), at(14 * SECOND)),
        ).rejects.toBeInstanceOf(StaleLeaseError);
        // Attempt 2 is the first of this drive: with 2 attempts per drive, it is retried.
        const retried = await ledger.applyStepEvent(jobId, 'ocr', fail(2, secondLease), at(15 * SECOND));
        expect(retried.next).toMatchObject({ status: 'FAILED_RETRY', attemptNo: 2, attemptBase: 1 });

        const thirdLease = randomUUID();
        await ledger.applyStepEvent(jobId, 'ocr', dispatch(3, thirdLease, at(16 * SECOND)), at(16 * SECOND));
        const final = await ledger.applyStepEvent(jobId, 'ocr', fail(3, thirdLease), at(17 * SECOND));
        expect(final.next).toMatchObject({
          status: 'FAILED_FINAL',
          attemptNo: 3,
          attemptBase: 1,
          failure: { attemptNo: 3, exhausted: true },
        });
        expect(await stepOf(jobId, 'ocr')).toEqual(final.next);
      });

      it('reads redrives and attemptBase back as written', async () => {
        const jobId = await failedJob();
        await ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(10 * SECOND), LIMITS);
        await ledger.applyStepEvent(jobId, 'ocr', { type: 'REDRIVE' }, at(11 * SECOND));
        await ledger.applyJobEvent(jobId, { type: 'FAIL', failure: FAILURE }, at(12 * SECOND));
        await ledger.applyJobEvent(jobId, { type: 'REDRIVE' }, at(13 * SECOND), LIMITS);

        const found = await ledger.getJob(jobId);
        expect(found?.job.redrives).toBe(2);
        expect(found?.steps.map((s) => s.attemptBase)).toEqual([1, 0]);
      });
    });

    describe('applyStepEvent', () => {
      it('moves a step through dispatch, ACK, heartbeat and success', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        const leaseId = randomUUID();

        const dispatched = await ledger.applyStepEvent(
          job.jobId,
          'ocr',
          dispatch(1, leaseId, at(SECOND)),
          at(SECOND),
        );
        expect(dispatched.next).toMatchObject({
          status: 'DISPATCHING',
          attemptNo: 1,
          leaseId,
          startedAt: at(SECOND).toISOString(),
        });
        await ledger.applyStepEvent(
          job.jobId,
          'ocr',
          { type: 'PUBLISHED', attemptNo: 1, leaseId },
          at(2 * SECOND),
        );
        await ledger.applyStepEvent(job.jobId, 'ocr', ack(1, leaseId, at(3 * SECOND)), at(3 * SECOND));
        const beat = new Date(at(4 * SECOND).getTime() + 20 * 60 * SECOND).toISOString();
        await ledger.applyStepEvent(
          job.jobId,
          'ocr',
          { type: 'HEARTBEAT', attemptNo: 1, leaseId, leaseExpiresAt: beat },
          at(4 * SECOND),
        );
        const succeeded = await ledger.applyStepEvent(
          job.jobId,
          'ocr',
          { type: 'SUCCEED', attemptNo: 1, leaseId, outputRef: 'blob://ocr-out', result: { pages: 3 } },
          at(5 * SECOND),
        );

        expect(succeeded).toMatchObject({ changed: true, duplicate: false });
        const step = await stepOf(job.jobId, 'ocr');
        expect(step).toEqual(succeeded.next);
        expect(step).toMatchObject({
          status: 'SUCCEEDED',
          outputRef: 'blob://ocr-out',
          result: { pages: 3 },
          leaseExpiresAt: beat,
        });
        expect((await stepOf(job.jobId, 'embedding')).status).toBe('PENDING');

        const again = await ledger.applyStepEvent(
          job.jobId,
          'ocr',
          { type: 'SUCCEED', attemptNo: 1, leaseId },
          at(6 * SECOND),
        );
        expect(again).toMatchObject({ changed: false, duplicate: true });
        expect(await stepOf(job.jobId, 'ocr')).toEqual(step);
      });

      it("drops the previous attempt's lease deadlines on re-dispatch", async () => {
        const firstLease = randomUUID();
        const jobId = await jobWithStepInProgress(firstLease);
        await ledger.applyStepEvent(
          jobId,
          'ocr',
          {
            type: 'FAIL',
            attemptNo: 1,
            leaseId: firstLease,
            failureClass: 'TRANSIENT',
            message: 'flaky',
            maxAttempts: 3,
          },
          at(10 * SECOND),
        );
        expect(await stepOf(jobId, 'ocr')).toMatchObject({
          status: 'FAILED_RETRY',
          failure: { failureClass: 'TRANSIENT', attemptNo: 1 },
        });

        const secondLease = randomUUID();
        const redispatched = await ledger.applyStepEvent(
          jobId,
          'ocr',
          dispatch(2, secondLease, at(20 * SECOND)),
          at(20 * SECOND),
        );

        const step = await stepOf(jobId, 'ocr');
        expect(step).toEqual(redispatched.next);
        expect(step).toMatchObject({ status: 'DISPATCHING', attemptNo: 2, leaseId: secondLease });
        expect(step.leaseExpiresAt).toBeUndefined();
        expect(step.resultDeadline).toBeUndefined();
      });

      it('rejects a stale lease (StaleLeaseError) and changes nothing', async () => {
        const jobId = await jobWithStepInProgress(randomUUID());
        const before = await stepOf(jobId, 'ocr');

        await expect(
          ledger.applyStepEvent(
            jobId,
            'ocr',
            { type: 'SUCCEED', attemptNo: 1, leaseId: randomUUID() },
            at(10 * SECOND),
          ),
        ).rejects.toBeInstanceOf(StaleLeaseError);
        await expect(
          ledger.applyStepEvent(jobId, 'ocr', ack(0, randomUUID(), at(10 * SECOND)), at(10 * SECOND)),
        ).rejects.toBeInstanceOf(StaleLeaseError);

        expect(await stepOf(jobId, 'ocr')).toEqual(before);
      });

      it('refuses an invalid transition (InvalidTransitionError)', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        await ledger.applyStepEvent(job.jobId, 'embedding', { type: 'CANCEL' }, at(SECOND));
        const before = await stepOf(job.jobId, 'embedding');

        await expect(
          ledger.applyStepEvent(
            job.jobId,
            'embedding',
            dispatch(1, randomUUID(), at(2 * SECOND)),
            at(2 * SECOND),
          ),
        ).rejects.toBeInstanceOf(InvalidTransitionError);
        expect(await stepOf(job.jobId, 'embedding')).toEqual(before);
      });

      it('applies exactly one of a racing SUCCEED and CANCEL', async () => {
        const leaseId = randomUUID();
        const jobId = await jobWithStepInProgress(leaseId);

        const settled = await Promise.allSettled([
          ledger.applyStepEvent(
            jobId,
            'ocr',
            { type: 'SUCCEED', attemptNo: 1, leaseId, result: { ok: true } },
            at(10 * SECOND),
          ),
          ledger.applyStepEvent(jobId, 'ocr', { type: 'CANCEL' }, at(10 * SECOND)),
        ]);

        const applied = settled.filter((s) => s.status === 'fulfilled' && s.value.changed);
        expect(applied).toHaveLength(1);
        for (const s of settled) {
          if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(InvalidTransitionError);
        }
        const winner = (applied[0] as PromiseFulfilledResult<{ next: Step }>).value.next;
        expect(await stepOf(jobId, 'ocr')).toEqual(winner);
      });

      it('throws JobNotFoundError and StepNotFoundError for unknown jobs and steps', async () => {
        const { job } = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        await expect(
          ledger.applyStepEvent(randomUUID(), 'ocr', { type: 'CANCEL' }, at()),
        ).rejects.toBeInstanceOf(JobNotFoundError);
        await expect(
          ledger.applyStepEvent(job.jobId, 'nope', { type: 'CANCEL' }, at()),
        ).rejects.toBeInstanceOf(StepNotFoundError);
        await expect(ledger.recordIgnoredReply(randomUUID(), 'ocr', 'stale', at())).rejects.toBeInstanceOf(
          JobNotFoundError,
        );
        await expect(ledger.recordIgnoredReply(job.jobId, 'nope', 'stale', at())).rejects.toBeInstanceOf(
          StepNotFoundError,
        );
      });
    });

    describe('recordIgnoredReply', () => {
      it('loses no count among 25 concurrent writers', async () => {
        const jobId = await jobWithStepInProgress(randomUUID());
        const before = await stepOf(jobId, 'ocr');

        await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            ledger.recordIgnoredReply(jobId, 'ocr', i % 5 === 0 ? 'duplicate' : 'stale', at(10 * SECOND + i)),
          ),
        );

        const step = await stepOf(jobId, 'ocr');
        expect(step.staleReplies).toBe(20);
        expect(step.duplicateReplies).toBe(5);
        expect(step.status).toBe(before.status);
        expect(step.leaseId).toBe(before.leaseId);
      });
    });

    describe('listJobs', () => {
      async function admitSeries(count: number, requestTypeOf: (i: number) => string): Promise<string[]> {
        const ids: string[] = [];
        for (let i = 0; i < count; i += 1) {
          const record = admission(
            { tenantId, inputRef: `blob://in/${i}`, requestType: requestTypeOf(i) },
            at(i * SECOND),
          );
          created(await ledger.admit(record, LIMITS, at(i * SECOND)));
          ids.push(record.job.jobId);
        }
        return ids;
      }

      it('pages newest first through every job exactly once', async () => {
        const ids = await admitSeries(7, () => OCR_EMBEDDING);

        const first = await ledger.listJobs({ tenantId, limit: 3 });
        expect(first.items.map((i) => i.jobId)).toEqual([ids[6], ids[5], ids[4]]);
        expect(first.continuation).toEqual(expect.any(String));

        expect((await listAll({ tenantId }, 3)).map((i) => i.jobId)).toEqual([...ids].reverse());
        expect((await listAll({ tenantId }, 1)).map((i) => i.jobId)).toEqual([...ids].reverse());
        const whole = await ledger.listJobs({ tenantId, limit: 7 });
        expect(whole.items).toHaveLength(7);
        expect(whole.continuation).toBeUndefined();
      });

      it('filters by status and request type', async () => {
        const ids = await admitSeries(6, (i) => (i % 2 === 0 ? OCR_EMBEDDING : OCR_ONLY));
        await ledger.applyJobEvent(ids[0] as string, { type: 'START' }, at(10 * SECOND));
        await ledger.applyJobEvent(ids[3] as string, { type: 'START' }, at(10 * SECOND));
        await ledger.applyJobEvent(ids[4] as string, { type: 'START' }, at(10 * SECOND));

        expect((await listAll({ tenantId, status: 'RUNNING' }, 2)).map((i) => i.jobId)).toEqual([
          ids[4],
          ids[3],
          ids[0],
        ]);
        expect((await listAll({ tenantId, requestType: OCR_ONLY }, 2)).map((i) => i.jobId)).toEqual([
          ids[5],
          ids[3],
          ids[1],
        ]);
        expect(
          (await listAll({ tenantId, status: 'RUNNING', requestType: OCR_EMBEDDING }, 1)).map((i) => i.jobId),
        ).toEqual([ids[4], ids[0]]);
        expect((await listAll({ tenantId, status: 'SUCCEEDED' }, 5)).map((i) => i.jobId)).toEqual([]);
        for (const item of await listAll({ tenantId, status: 'RUNNING' }, 10))
          expect(item.status).toBe('RUNNING');
      });

      it("never lists another tenant's jobs", async () => {
        const otherTenant = uniqueTenantId();
        const mine = created(await ledger.admit(admission({ tenantId }), LIMITS, at()));
        created(await ledger.admit(admission({ tenantId: otherTenant }), LIMITS, at()));

        expect((await listAll({ tenantId }, 10)).map((i) => i.jobId)).toEqual([mine.job.jobId]);
        expect(await listAll({ tenantId: uniqueTenantId() }, 10)).toEqual([]);
      });

      it('lists tenants whose ids contain characters storage keys forbid', async () => {
        const oddTenant = `acme/eu#1?x\\y%2F${uniqueTenantId()}`;
        const plainTenant = `acme${uniqueTenantId()}`;
        const odd = created(await ledger.admit(admission({ tenantId: oddTenant }), LIMITS, at()));
        created(await ledger.admit(admission({ tenantId: plainTenant }), LIMITS, at()));

        expect((await listAll({ tenantId: oddTenant }, 10)).map((i) => i.jobId)).toEqual([odd.job.jobId]);
        expect(await ledger.inflightCount(oddTenant)).toBe(1);
        expect((await ledger.getJob(odd.job.jobId))?.job.tenantId).toBe(oddTenant);
      });

      it('refuses a continuation token it did not issue (InvalidContinuationError)', async () => {
        await admitSeries(2, () => OCR_EMBEDDING);
        for (const continuation of [
          'garbage',
          '',
          encodeContinuation('not-a-row-key'),
          Buffer.from('{"v":2}').toString('base64url'),
        ]) {
          await expect(ledger.listJobs({ tenantId, limit: 1, continuation })).rejects.toBeInstanceOf(
            InvalidContinuationError,
          );
        }
      });
    });

    describe('getJob and inflightCount', () => {
      it('returns undefined for an unknown job', async () => {
        expect(await ledger.getJob(randomUUID())).toBeUndefined();
      });

      it('counts 0 for a tenant that never admitted anything', async () => {
        expect(await ledger.inflightCount(uniqueTenantId())).toBe(0);
      });

      it("keeps each step's tenant through its transitions", async () => {
        const jobId = await jobWithStepInProgress('lease-t');
        const stepUpdate = await ledger.applyStepEvent(
          jobId,
          'ocr',
          { type: 'SUCCEED', attemptNo: 1, leaseId: 'lease-t', result: { ok: true } },
          at(4 * SECOND),
        );
        const ignored = await ledger.recordIgnoredReply(jobId, 'ocr', 'duplicate', at(5 * SECOND));

        expect(stepUpdate.next.tenantId).toBe(tenantId);
        expect(ignored.tenantId).toBe(tenantId);
        expect((await ledger.getJob(jobId))?.steps.map((step) => step.tenantId)).toEqual([
          tenantId,
          tenantId,
        ]);
      });
    });

    describe('ping', () => {
      it('resolves when the store answers', async () => {
        await expect(ledger.ping()).resolves.toBeUndefined();
      });
    });
  });
}
