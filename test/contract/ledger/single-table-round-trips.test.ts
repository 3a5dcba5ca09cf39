/**
 * SingleTableJobLedger (`ledger` backend): what a job's step replies and its end cost in storage
 * round trips, on the run's Azurite. Updates of one row in one process that arrive together are
 * written together (group commit: decided in order, one write on the ETag the process holds, each
 * caller answered its own transition or error); a job's end writes its index row and gives its slot
 * back in one transaction; writes of other processes in between are still decided on what is stored.
 * Round trips are counted by a pipeline policy on the ledger's clients, retries included.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import { InvalidTransitionError, StaleLeaseError } from '../../../src/domain/errors';
import type { StepEvent } from '../../../src/domain/step';
import { SingleTableJobLedger } from '../../../src/ledger/single-table-job-ledger';
import type { AdmissionRecord } from '../../../src/ports/job-ledger';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName, uniqueTenantId } from '../../support/unique';
import { ack, admission, at, dispatch, HOUR, LIMITS, SECOND } from './fixtures';
import { rawEntities, RoundTrips, withoutProperties } from './table-fixtures';

function ledgerOn(table: string, clientOptions?: TableServiceClientOptions): SingleTableJobLedger {
  return new SingleTableJobLedger({
    connection: { connectionString: testTableConnectionString() },
    table,
    ...(clientOptions === undefined ? {} : { clientOptions }),
  });
}

/** A heartbeat of attempt 1 (lease `lease-1`) extending the lease to `minutes` after T0 (past the ACK's). */
const heartbeat = (minutes: number): StepEvent => ({
  type: 'HEARTBEAT',
  attemptNo: 1,
  leaseId: 'lease-1',
  leaseExpiresAt: at(minutes * 60 * SECOND).toISOString(),
});

const succeed = (leaseId: string): StepEvent => ({
  type: 'SUCCEED',
  attemptNo: 1,
  leaseId,
  result: { ok: true },
});

describe('SingleTableJobLedger round trips', () => {
  let table: string;
  let trips: RoundTrips;
  let ledger: SingleTableJobLedger;
  let tenantId: string;
  let admissions = 0;

  beforeEach(() => {
    table = uniqueTableName('trips');
    trips = new RoundTrips();
    ledger = ledgerOn(table, trips.options);
    tenantId = uniqueTenantId();
  });

  async function admitted(on: SingleTableJobLedger = ledger): Promise<AdmissionRecord> {
    admissions += 1;
    const record = admission({ tenantId, inputRef: `blob://in/${admissions}` });
    const outcome = await on.admit(record, LIMITS, at());
    if (outcome.kind !== 'created') throw new Error('expected the admission to create the job');
    return record;
  }

  /** The step `ocr` dispatched and published by `on`, as the orchestration does before the worker replies. */
  async function published(jobId: string, on: SingleTableJobLedger = ledger): Promise<void> {
    await on.applyStepEvent(jobId, 'ocr', dispatch(1, 'lease-1', at(SECOND)), at(SECOND));
    await on.applyStepEvent(
      jobId,
      'ocr',
      { type: 'PUBLISHED', attemptNo: 1, leaseId: 'lease-1' },
      at(SECOND),
    );
  }

  describe('step updates of one row in one process', () => {
    it('writes an ACK and a RESULT that arrive together in one write, with no read', async () => {
      const { job } = await admitted();
      await published(job.jobId);
      trips.reset();

      const [acked, done] = await Promise.all([
        ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', succeed('lease-1'), at(2 * SECOND)),
      ]);

      expect(acked).toMatchObject({ changed: true, duplicate: false, next: { status: 'IN_PROGRESS' } });
      expect(done).toMatchObject({ changed: true, duplicate: false, next: { status: 'SUCCEEDED' } });
      expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 0, writes: 1 });
      const stored = (await ledgerOn(table).getJob(job.jobId))?.steps[0];
      expect(stored).toMatchObject({ status: 'SUCCEEDED', result: { ok: true } });
    });

    it('writes many concurrent updates of one row together, each decided after the one before', async () => {
      const { job } = await admitted();
      await published(job.jobId);
      trips.reset();

      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          ledger.recordIgnoredReply(job.jobId, 'ocr', 'duplicate', at(2 * SECOND)),
        ),
      );

      expect(answers.map((step) => step.duplicateReplies)).toEqual([1, 2, 3, 4, 5, 6]);
      expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 0, writes: 1 });
      expect((await ledgerOn(table).getJob(job.jobId))?.steps[0]?.duplicateReplies).toBe(6);
    });

    it('answers a stale reply in the middle of a group with its own error; the others apply', async () => {
      const { job } = await admitted();
      await published(job.jobId);
      trips.reset();

      const [acked, stale, done] = await Promise.allSettled([
        ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-old', at(2 * SECOND)), at(2 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', succeed('lease-1'), at(3 * SECOND)),
      ]);

      expect(acked).toMatchObject({ status: 'fulfilled', value: { next: { status: 'IN_PROGRESS' } } });
      expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(StaleLeaseError);
      expect(done).toMatchObject({ status: 'fulfilled', value: { next: { status: 'SUCCEEDED' } } });
      expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 0, writes: 1 });
      expect((await ledgerOn(table).getJob(job.jobId))?.steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        result: { ok: true },
      });
    });

    it('applies a group refused because another process wrote the row again on the stored row', async () => {
      const other = ledgerOn(table);
      const { job } = await admitted();
      await published(job.jobId);
      await other.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND));
      trips.reset();

      const [acked, beat, done] = await Promise.all([
        ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', heartbeat(30), at(3 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', succeed('lease-1'), at(4 * SECOND)),
      ]);

      // Decided on the row this process remembers (AWAITING_ACK), refused (412), the row as stored
      // read, and the group decided again on it: the ACK is a duplicate there, the others apply.
      expect(acked).toMatchObject({ changed: false, duplicate: true });
      expect(beat).toMatchObject({ changed: true, next: { status: 'IN_PROGRESS' } });
      expect(done).toMatchObject({ changed: true, next: { status: 'SUCCEEDED' } });
      expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 1, writes: 2 });
      expect((await other.getJob(job.jobId))?.steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        leaseExpiresAt: at(30 * 60 * SECOND).toISOString(),
        result: { ok: true },
      });
    });

    it('still confirms a duplicate alone on the stored row (one read, no write)', async () => {
      const { job } = await admitted();
      await published(job.jobId);
      await ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND));
      trips.reset();

      const again = await ledger.applyStepEvent(
        job.jobId,
        'ocr',
        ack(1, 'lease-1', at(2 * SECOND)),
        at(2 * SECOND),
      );

      expect(again).toMatchObject({ changed: false, duplicate: true });
      expect({ reads: trips.reads, writes: trips.writes }).toEqual({ reads: 1, writes: 0 });
    });

    it('writes ten heartbeats and a RESULT that arrive together in at most two writes', async () => {
      const { job } = await admitted();
      await published(job.jobId);
      await ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND));
      trips.reset();

      const beats = Array.from({ length: 10 }, (_, i) =>
        ledger.applyStepEvent(job.jobId, 'ocr', heartbeat(20 + i), at(3 * SECOND)),
      );
      const done = ledger.applyStepEvent(job.jobId, 'ocr', succeed('lease-1'), at(4 * SECOND));

      expect((await Promise.all(beats)).every((t) => t.changed)).toBe(true);
      expect((await done).next.status).toBe('SUCCEEDED');
      expect(trips.reads).toBe(0);
      expect(trips.writes).toBeLessThanOrEqual(2);
      expect((await ledgerOn(table).getJob(job.jobId))?.steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        leaseExpiresAt: at(29 * 60 * SECOND).toISOString(),
      });
    });

    it('still decides on the stored row when another process wrote it in between', async () => {
      const other = ledgerOn(table);
      const { job } = await admitted();
      await published(job.jobId);
      await other.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND));
      trips.reset();

      // This process last wrote AWAITING_ACK; the row is IN_PROGRESS in storage. Both replies are
      // decided again on the stored row: the ACK is a duplicate there, the RESULT applies.
      const [acked, done] = await Promise.all([
        ledger.applyStepEvent(job.jobId, 'ocr', ack(1, 'lease-1', at(2 * SECOND)), at(2 * SECOND)),
        ledger.applyStepEvent(job.jobId, 'ocr', succeed('lease-1'), at(3 * SECOND)),
      ]);

      expect(acked.changed).toBe(false);
      expect(done.next.status).toBe('SUCCEEDED');
      expect((await other.getJob(job.jobId))?.steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        result: { ok: true },
      });
    });
  });

  describe("a job's end", () => {
    it('writes the index row and gives the slot back in one transaction', async () => {
      const { job } = await admitted();
      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
      trips.reset();

      await ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(2 * SECOND));

      // The job row; the index row + the counter (one transaction); the active entry replaced by
      // the finished entry (one transaction in the shard's partition). Nothing read.
      expect({ reads: trips.reads, writes: trips.writes, transactions: trips.transactions }).toEqual({
        reads: 0,
        writes: 1,
        transactions: 2,
      });
      expect(await ledger.inflightCount(tenantId)).toBe(0);
      expect((await ledger.listJobs({ tenantId, limit: 10 })).items).toEqual([
        expect.objectContaining({ jobId: job.jobId, status: 'SUCCEEDED' }),
      ]);
    });

    it('ends a job once when its events arrive together in one process, and drops the counter once', async () => {
      // One job stays in flight: a counter dropped twice would show below 1.
      await admitted();
      const { job } = await admitted();

      const [started, succeeded, replayed, cancelled] = await Promise.allSettled([
        ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND)),
        ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(2 * SECOND)),
        ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(3 * SECOND)),
        ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(4 * SECOND)),
      ]);

      // Each decided on the job as the one before left it, each answered on its own.
      expect(started).toMatchObject({
        status: 'fulfilled',
        value: { changed: true, next: { status: 'RUNNING' } },
      });
      expect(succeeded).toMatchObject({
        status: 'fulfilled',
        value: { changed: true, next: { status: 'SUCCEEDED' } },
      });
      expect(replayed).toMatchObject({ status: 'fulfilled', value: { changed: false } });
      expect(cancelled.status === 'rejected' && cancelled.reason).toBeInstanceOf(InvalidTransitionError);
      const reader = ledgerOn(table);
      expect(await reader.inflightCount(tenantId)).toBe(1);
      expect((await reader.getJob(job.jobId))?.job.status).toBe('SUCCEEDED');
      expect((await reader.listJobs({ tenantId, limit: 10 })).items).toContainEqual(
        expect.objectContaining({ jobId: job.jobId, status: 'SUCCEEDED' }),
      );
      expect((await reader.listFinishedJobs(at(HOUR), 10)).map((entry) => entry.jobId)).toEqual([job.jobId]);
    });

    it('drops the counter exactly once when processes finish the same job concurrently', async () => {
      const engines = [ledger, ledgerOn(table), ledgerOn(table)] as const;
      const jobs = [];
      for (let i = 0; i < 4; i += 1) jobs.push((await admitted()).job);
      // One job stays in flight: a counter dropped twice would show below 1.
      const [stays, ...finishing] = jobs;

      // Meanwhile another process admits jobs of the tenant: its counter writes race the ends'.
      const admittedMeanwhile = Promise.all([1, 2, 3].map(() => admitted(engines[1])));
      await Promise.all(
        finishing.flatMap((job) =>
          engines.map((engine, i) =>
            engine.applyJobEvent(job.jobId, { type: 'CANCEL', reason: `by ${i}` }, at(SECOND)),
          ),
        ),
      );
      const later = await admittedMeanwhile;

      expect(await ledgerOn(table).inflightCount(tenantId)).toBe(1 + later.length);
      const listed = (await ledgerOn(table).listJobs({ tenantId, limit: 10 })).items;
      expect(new Map(listed.map((item) => [item.jobId, item.status]))).toEqual(
        new Map([
          [stays?.jobId, 'ACCEPTED'],
          ...later.map((record) => [record.job.jobId, 'ACCEPTED'] as const),
          ...finishing.map((job) => [job.jobId, 'CANCELLED'] as const),
        ]),
      );
    });

    it('falls back to separate writes when another process moved the counter, and drops it once', async () => {
      const other = ledgerOn(table);
      const { job } = await admitted();
      await admitted(other);
      trips.reset();

      await ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(SECOND));

      // The transaction is refused on the counter's remembered ETag; the counter and the index row
      // are read, then written one by one. (The work lists' transaction is the second.)
      expect(trips.transactions).toBe(2);
      expect(await other.inflightCount(tenantId)).toBe(1);
      expect((await other.listJobs({ tenantId, limit: 10 })).items).toContainEqual(
        expect.objectContaining({ jobId: job.jobId, status: 'CANCELLED' }),
      );
      // Then the process knows both rows again: the next job's end is one transaction (and the
      // work lists' one).
      const next = await admitted();
      trips.reset();
      await ledger.applyJobEvent(next.job.jobId, { type: 'CANCEL' }, at(SECOND));
      expect({ reads: trips.reads, transactions: trips.transactions }).toEqual({ reads: 0, transactions: 2 });
      expect(await other.inflightCount(tenantId)).toBe(1);
    });

    it('ends a job admitted by another process in one transaction after reading the two rows', async () => {
      const { job } = await admitted(ledgerOn(table));
      trips.reset();

      await ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(SECOND));

      // The index row and the counter in one; the active entry (read too) replaced by the finished one.
      expect(trips.transactions).toBe(2);
      expect(await ledger.inflightCount(tenantId)).toBe(0);
    });
  });

  describe("a step's tenant", () => {
    it('is stored on the step row and read back', async () => {
      const { job } = await admitted();
      const rows = await rawEntities(table);
      expect(rows.filter((r) => r.rowKey?.startsWith('STEP|')).map((r) => r['tenantId'])).toEqual([
        tenantId,
        tenantId,
      ]);
      await published(job.jobId);
      expect((await ledgerOn(table).getJob(job.jobId))?.steps.map((s) => s.tenantId)).toEqual([
        tenantId,
        tenantId,
      ]);
    });

    it('reads as absent on a step row written before steps carried it', async () => {
      const { job } = await admitted();
      await withoutProperties(table, { partitionKey: job.jobId, rowKey: 'STEP|000|ocr' }, ['tenantId']);

      const steps = (await ledgerOn(table).getJob(job.jobId))?.steps;

      expect(steps?.[0]?.tenantId).toBeUndefined();
      expect(steps?.[0]).not.toHaveProperty('tenantId');
      expect(steps?.[1]?.tenantId).toBe(tenantId);
      // A transition of such a step keeps it without one.
      const t = await ledgerOn(table).applyStepEvent(
        job.jobId,
        'ocr',
        dispatch(1, 'l', at(SECOND)),
        at(SECOND),
      );
      expect(t.next).not.toHaveProperty('tenantId');
    });
  });
});
