/**
 * The sweepers' part of the JobLedger contract, run by describeJobLedgerContract over every backend:
 * the active and finished work lists through a job's life, what a half admission leaves and how it
 * is cleaned up, purging, repairs, and the in-flight counters' versioned corrections.
 * Every backend starts on fresh storage, so the lists hold only what each test wrote.
 */
import { randomUUID } from 'node:crypto';
import { InvalidTransitionError } from '../../../src/domain/errors';
import type { JobEvent } from '../../../src/domain/job';
import type { Repair } from '../../../src/domain/repair';
import { JobNotFoundError } from '../../../src/ledger/errors';
import type { AdmissionOutcome, InflightCounter, JobLedger } from '../../../src/ports/job-ledger';
import { uniqueTenantId } from '../../support/unique';
import { admission, at, HOUR, LIMITS, limits, ORPHAN_GRACE_SECONDS, SECOND } from './fixtures';
import type { LedgerUnderTest } from './job-ledger.contract';

const GRACE_MS = ORPHAN_GRACE_SECONDS * SECOND;
const DAY = 24 * HOUR;
const LANES = 16;
const FAIL: JobEvent = { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'boom' } };

function repair(n: number): Repair {
  return { at: at(n * SECOND).toISOString(), kind: 'TIMER_RECHECKED', reason: `check ${n}`, by: 'contract' };
}

export function describeSweepContract(subjectOf: () => LedgerUnderTest): void {
  let ledger: JobLedger;
  let tenantId: string;

  beforeEach(() => {
    ledger = subjectOf().ledger;
    tenantId = uniqueTenantId();
  });

  function created(outcome: AdmissionOutcome): Extract<AdmissionOutcome, { kind: 'created' }> {
    if (outcome.kind !== 'created') throw new Error(`expected a created outcome, got ${outcome.kind}`);
    return outcome;
  }

  async function admitted(inputRef = `blob://${randomUUID()}`, now = at()) {
    const record = admission({ tenantId, inputRef }, now);
    return { record, job: created(await ledger.admit(record, LIMITS, now)).job };
  }

  async function dueIds(shard: number, now: Date, limit = 100): Promise<string[]> {
    return (await ledger.listDueJobs(shard, now, limit)).map((entry) => entry.jobId);
  }

  async function counterOf(tenant: string): Promise<InflightCounter> {
    const counter = (await ledger.listInflightCounters()).find((c) => c.tenantId === tenant);
    if (counter === undefined) throw new Error(`no in-flight counter for ${tenant}`);
    return counter;
  }

  describe('active and finished work lists', () => {
    it('lists an admitted job as due once the grace after its admission has passed, not before', async () => {
      const { record, job } = await admitted();

      expect(await dueIds(job.lane, at(GRACE_MS - 1))).toEqual([]);
      expect(await ledger.listDueJobs(job.lane, at(GRACE_MS), 100)).toEqual([
        {
          jobId: job.jobId,
          tenantId,
          shard: job.lane,
          checkAt: at(GRACE_MS).toISOString(),
          createdAt: job.createdAt,
          idempotencyScope: record.idempotency.scopeId,
        },
      ]);
      expect(await dueIds((job.lane + 1) % LANES, at(DAY))).toEqual([]);
      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([]);
    });

    it('moves a job’s next check, and ignores a job that has no entry', async () => {
      const { job } = await admitted();

      await ledger.scheduleCheck(job.jobId, job.lane, at(10 * 60 * SECOND));
      await ledger.scheduleCheck(randomUUID(), job.lane, at(SECOND));

      expect(await dueIds(job.lane, at(10 * 60 * SECOND - 1))).toEqual([]);
      const [entry] = await ledger.listDueJobs(job.lane, at(10 * 60 * SECOND), 100);
      expect(entry?.checkAt).toBe(at(10 * 60 * SECOND).toISOString());
      expect(await dueIds(job.lane, at(DAY))).toEqual([job.jobId]);
    });

    it('lists the due jobs of a shard soonest first, at most `limit`', async () => {
      const jobs = [];
      for (let i = 0; i < 3; i += 1) jobs.push((await admitted()).job);
      const [a, b, c] = jobs as [(typeof jobs)[0], (typeof jobs)[0], (typeof jobs)[0]];
      await ledger.scheduleCheck(a.jobId, a.lane, at(3 * HOUR));
      await ledger.scheduleCheck(b.jobId, b.lane, at(HOUR));
      await ledger.scheduleCheck(c.jobId, c.lane, at(2 * HOUR));

      expect(await dueIds(a.lane, at(DAY), 2)).toEqual([b.jobId, c.jobId]);
      expect(await dueIds(a.lane, at(2 * HOUR))).toEqual([b.jobId, c.jobId]);
    });

    it('takes a job off the active list when it ends and lists it as finished, once', async () => {
      const { job } = await admitted();
      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
      await ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(5 * SECOND));
      await ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(6 * SECOND));

      expect(await dueIds(job.lane, at(DAY))).toEqual([]);
      expect(await ledger.listFinishedJobs(at(5 * SECOND), 100)).toEqual([]);
      expect(await ledger.listFinishedJobs(at(5 * SECOND + 1), 100)).toEqual([
        { jobId: job.jobId, tenantId, finishedAt: at(5 * SECOND).toISOString() },
      ]);
      // A job that ended is not moved back onto the active list by a late check.
      await ledger.scheduleCheck(job.jobId, job.lane, at(SECOND));
      expect(await dueIds(job.lane, at(DAY))).toEqual([]);
    });

    it('puts a redriven job back on the active list, due now, and off the finished list', async () => {
      const { job } = await admitted();
      await ledger.applyJobEvent(job.jobId, FAIL, at(5 * SECOND));
      await ledger.applyJobEvent(job.jobId, { type: 'REDRIVE' }, at(HOUR), LIMITS);

      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([]);
      expect(await ledger.listDueJobs(job.lane, at(HOUR), 100)).toMatchObject([
        { jobId: job.jobId, tenantId, shard: job.lane, checkAt: at(HOUR).toISOString() },
      ]);

      await ledger.applyJobEvent(job.jobId, FAIL, at(2 * HOUR));
      expect(await dueIds(job.lane, at(DAY))).toEqual([]);
      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([
        { jobId: job.jobId, tenantId, finishedAt: at(2 * HOUR).toISOString() },
      ]);
    });

    it('lists finished jobs across days, oldest first, at most `limit`', async () => {
      const finishes = [49 * HOUR, HOUR, 25 * HOUR];
      const jobs = [];
      for (const finish of finishes) {
        const { job } = await admitted();
        await ledger.applyJobEvent(job.jobId, FAIL, at(finish));
        jobs.push(job.jobId);
      }
      const [late, early, middle] = jobs;

      expect((await ledger.listFinishedJobs(at(100 * HOUR), 2)).map((e) => e.jobId)).toEqual([early, middle]);
      expect((await ledger.listFinishedJobs(at(30 * HOUR), 100)).map((e) => e.jobId)).toEqual([
        early,
        middle,
      ]);
      expect((await ledger.listFinishedJobs(at(100 * HOUR), 100)).map((e) => e.jobId)).toEqual([
        early,
        middle,
        late,
      ]);
    });

    it('removes an entry with dropActiveEntry, and ignores one that is not there', async () => {
      const { job } = await admitted();
      await ledger.dropActiveEntry(job.jobId, (job.lane + 1) % LANES);
      expect(await dueIds(job.lane, at(DAY))).toEqual([job.jobId]);

      await ledger.dropActiveEntry(job.jobId, job.lane);
      await ledger.dropActiveEntry(job.jobId, job.lane);
      expect(await dueIds(job.lane, at(DAY))).toEqual([]);
    });

    it('lists a running job again when a new run starts it and nothing lists it', async () => {
      const { job } = await admitted();
      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
      // A redrive whose writer died between the job write and listing it again leaves this.
      await ledger.dropActiveEntry(job.jobId, job.lane);
      expect(await dueIds(job.lane, at(DAY))).toEqual([]);

      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(2 * SECOND));
      expect(await dueIds(job.lane, at(2 * SECOND))).toEqual([job.jobId]);
      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(3 * SECOND));
      expect(await dueIds(job.lane, at(DAY))).toEqual([job.jobId]);
    });

    it('counts per tenant the listed jobs that exist and have not ended', async () => {
      const other = uniqueTenantId();
      await admitted();
      const { job: ended } = await admitted();
      await admitted();
      await ledger.applyJobEvent(ended.jobId, { type: 'CANCEL' }, at(SECOND));
      await ledger.admit(admission({ tenantId: other }), LIMITS, at());
      await subjectOf()
        .admitDyingAtCommit(admission({ tenantId: other, inputRef: 'blob://dies' }), LIMITS, at())
        .catch(() => undefined);

      const counts = await ledger.countActiveJobs();
      expect(Object.fromEntries(counts)).toEqual({ [tenantId]: 2, [other]: 1 });
    });
  });

  describe('an admission that dies before its job row', () => {
    async function dyingAdmission() {
      const record = admission({ tenantId, idempotencyKey: 'orphan-key' });
      await expect(subjectOf().admitDyingAtCommit(record, LIMITS, at())).rejects.toThrow();
      return record;
    }

    it('leaves an active entry naming its idempotency record, and a duplicate without job within the grace', async () => {
      const record = await dyingAdmission();

      expect(await ledger.getJob(record.job.jobId)).toBeUndefined();
      expect(await ledger.listDueJobs(record.job.lane, at(GRACE_MS), 100)).toEqual([
        {
          jobId: record.job.jobId,
          tenantId,
          shard: record.job.lane,
          checkAt: at(GRACE_MS).toISOString(),
          createdAt: record.job.createdAt,
          idempotencyScope: record.idempotency.scopeId,
        },
      ]);
      const resent = admission({ tenantId, idempotencyKey: 'orphan-key' }, at(GRACE_MS - 1));
      expect(await ledger.admit(resent, LIMITS, at(GRACE_MS - 1))).toEqual({
        kind: 'duplicate',
        jobId: record.job.jobId,
        steps: [],
      });
    });

    it('admits the command again over the orphan record once the grace has passed', async () => {
      const record = await dyingAdmission();

      const again = admission({ tenantId, idempotencyKey: 'orphan-key' }, at(GRACE_MS));
      const outcome = created(await ledger.admit(again, LIMITS, at(GRACE_MS)));
      expect(outcome.job.jobId).toBe(again.job.jobId);
      expect(outcome.job.jobId).not.toBe(record.job.jobId);

      const resent = admission({ tenantId, idempotencyKey: 'orphan-key' }, at(GRACE_MS + SECOND));
      expect(await ledger.admit(resent, LIMITS, at(GRACE_MS + SECOND))).toMatchObject({
        kind: 'duplicate',
        jobId: again.job.jobId,
        job: { jobId: again.job.jobId },
      });
    });

    it('lets the sweeper remove the orphan record, once, and drop the entry', async () => {
      const record = await dyingAdmission();
      const [entry] = await ledger.listDueJobs(record.job.lane, at(GRACE_MS), 100);
      if (entry === undefined) throw new Error('the orphan has no active entry');

      expect(await ledger.removeOrphanIdempotency(entry)).toBe(true);
      expect(await ledger.removeOrphanIdempotency(entry)).toBe(false);
      await ledger.dropActiveEntry(entry.jobId, entry.shard);

      expect(await dueIds(record.job.lane, at(DAY))).toEqual([]);
      // With the record gone, the command is new again, even within the grace.
      const resent = admission({ tenantId, idempotencyKey: 'orphan-key' }, at(SECOND));
      expect((await ledger.admit(resent, LIMITS, at(SECOND))).kind).toBe('created');
    });

    it('never removes a record whose job exists, or that names another job', async () => {
      const record = admission({ tenantId, idempotencyKey: 'kept' });
      const { job } = created(await ledger.admit(record, LIMITS, at()));

      expect(
        await ledger.removeOrphanIdempotency({
          tenantId,
          idempotencyScope: record.idempotency.scopeId,
          jobId: job.jobId,
        }),
      ).toBe(false);
      expect(
        await ledger.removeOrphanIdempotency({
          tenantId,
          idempotencyScope: record.idempotency.scopeId,
          jobId: randomUUID(),
        }),
      ).toBe(false);
      expect(
        await ledger.removeOrphanIdempotency({ tenantId, idempotencyScope: randomUUID(), jobId: job.jobId }),
      ).toBe(false);

      const resent = admission({ tenantId, idempotencyKey: 'kept' }, at(DAY / 2));
      expect(await ledger.admit(resent, LIMITS, at(DAY / 2))).toMatchObject({ kind: 'duplicate', job });
    });
  });

  describe('purgeJob', () => {
    it('refuses a job that has not ended, and changes nothing', async () => {
      const { job } = await admitted();
      await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));

      await expect(ledger.purgeJob(job.jobId)).rejects.toBeInstanceOf(InvalidTransitionError);
      expect((await ledger.getJob(job.jobId))?.job.status).toBe('RUNNING');
      expect(await dueIds(job.lane, at(DAY))).toEqual([job.jobId]);
    });

    it('removes a finished job with everything it left, and nothing of other jobs', async () => {
      const gone = admission({ tenantId, idempotencyKey: 'purged' });
      await ledger.admit(gone, LIMITS, at());
      const { job: kept } = await admitted();
      await ledger.applyJobEvent(gone.job.jobId, FAIL, at(SECOND));
      await ledger.applyJobEvent(kept.jobId, FAIL, at(2 * SECOND));

      expect(await ledger.purgeJob(gone.job.jobId)).toBe(true);

      expect(await ledger.getJob(gone.job.jobId)).toBeUndefined();
      expect((await ledger.listJobs({ tenantId, limit: 10 })).items.map((s) => s.jobId)).toEqual([
        kept.jobId,
      ]);
      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([
        { jobId: kept.jobId, tenantId, finishedAt: at(2 * SECOND).toISOString() },
      ]);
      expect((await ledger.getJob(kept.jobId))?.steps).toHaveLength(2);
      // Its idempotency record went with it: the same command is admitted anew.
      const resent = admission({ tenantId, idempotencyKey: 'purged' }, at(3 * SECOND));
      expect((await ledger.admit(resent, LIMITS, at(3 * SECOND))).kind).toBe('created');

      expect(await ledger.purgeJob(gone.job.jobId)).toBe(false);
      expect(await ledger.purgeJob(randomUUID())).toBe(false);
    });

    it('keeps the idempotency record when it names a newer job', async () => {
      const first = admission({ tenantId, idempotencyKey: 'reused' });
      await ledger.admit(first, LIMITS, at());
      await ledger.applyJobEvent(first.job.jobId, { type: 'CANCEL' }, at(SECOND));
      // After the window, the same key admits a new job and its record names that job.
      const second = admission({ tenantId, idempotencyKey: 'reused' }, at(25 * HOUR));
      await ledger.admit(second, LIMITS, at(25 * HOUR));

      expect(await ledger.purgeJob(first.job.jobId)).toBe(true);

      const resent = admission({ tenantId, idempotencyKey: 'reused' }, at(26 * HOUR));
      expect(await ledger.admit(resent, LIMITS, at(26 * HOUR))).toMatchObject({
        kind: 'duplicate',
        jobId: second.job.jobId,
      });
    });
  });

  describe('recordRepair', () => {
    it('appends repairs, keeps the last 20, and counts restarts', async () => {
      const { job } = await admitted();
      let last;
      for (let n = 1; n <= 22; n += 1)
        last = await ledger.recordRepair(job.jobId, repair(n), { countsRestart: n % 10 === 0 });

      const found = await ledger.getJob(job.jobId);
      expect(found?.job).toEqual(last);
      expect(found?.job.repairs).toHaveLength(20);
      expect(found?.job.repairs[0]).toEqual(repair(3));
      expect(found?.job.repairs[19]).toEqual(repair(22));
      expect(found?.job.orchestrationRestarts).toBe(2);
      expect(found?.job.status).toBe('ACCEPTED');
      expect((await ledger.listJobs({ tenantId, limit: 1 })).items[0]?.status).toBe('ACCEPTED');
    });

    it('loses no repair to concurrent writers', async () => {
      const { job } = await admitted();

      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          ledger.recordRepair(job.jobId, repair(i), { countsRestart: true }),
        ),
      );

      const found = await ledger.getJob(job.jobId);
      expect(found?.job.repairs).toHaveLength(6);
      expect(found?.job.orchestrationRestarts).toBe(6);
    });

    it('throws JobNotFoundError for an unknown job', async () => {
      await expect(ledger.recordRepair(randomUUID(), repair(1))).rejects.toBeInstanceOf(JobNotFoundError);
    });
  });

  describe('in-flight counters', () => {
    it('notes a suspicion and corrects the count only at the version it was read at', async () => {
      await admitted();
      await admitted();
      const read = await counterOf(tenantId);
      expect(read).toMatchObject({ tenantId, count: 2 });
      expect(read.suspect).toBeUndefined();

      expect(await ledger.markInflightSuspect(tenantId, read.version, 1, at(SECOND))).toBe(true);
      const marked = await counterOf(tenantId);
      expect(marked).toMatchObject({ count: 2, suspect: { expected: 1, seenAt: at(SECOND).toISOString() } });
      expect(marked.version).not.toBe(read.version);
      expect(await ledger.markInflightSuspect(tenantId, read.version, 1, at(2 * SECOND))).toBe(false);
      expect(await ledger.correctInflight(tenantId, read.version, 1)).toBe(false);

      expect(await ledger.correctInflight(tenantId, marked.version, 1)).toBe(true);
      const corrected = await counterOf(tenantId);
      expect(corrected.count).toBe(1);
      expect(corrected.suspect).toBeUndefined();
      expect(await ledger.inflightCount(tenantId)).toBe(1);
      expect(await ledger.correctInflight(tenantId, marked.version, 0)).toBe(false);
    });

    it('drops the suspicion when a slot is taken or given back meanwhile', async () => {
      const { job } = await admitted();
      const read = await counterOf(tenantId);
      await ledger.markInflightSuspect(tenantId, read.version, 0, at(SECOND));
      const marked = await counterOf(tenantId);

      await admitted();
      const afterAdmission = await counterOf(tenantId);
      expect(afterAdmission.count).toBe(2);
      expect(afterAdmission.suspect).toBeUndefined();
      expect(await ledger.correctInflight(tenantId, marked.version, 0)).toBe(false);

      await ledger.markInflightSuspect(tenantId, afterAdmission.version, 0, at(2 * SECOND));
      await ledger.applyJobEvent(job.jobId, { type: 'CANCEL' }, at(3 * SECOND));
      const afterRelease = await counterOf(tenantId);
      expect(afterRelease.count).toBe(1);
      expect(afterRelease.suspect).toBeUndefined();
    });

    it('lists every tenant’s counter', async () => {
      const other = uniqueTenantId();
      await admitted();
      await ledger.admit(admission({ tenantId: other }), LIMITS, at());

      const counters = await ledger.listInflightCounters();
      expect(counters.map((c) => [c.tenantId, c.count]).sort()).toEqual(
        [
          [other, 1],
          [tenantId, 1],
        ].sort(),
      );
    });

    it('never loses a slot to a correction racing admissions', async () => {
      await admitted();
      const read = await counterOf(tenantId);

      const [corrected] = await Promise.all([
        ledger.correctInflight(tenantId, read.version, 7),
        ...Array.from({ length: 4 }, (_, i) =>
          ledger.admit(admission({ tenantId, inputRef: `blob://race-${i}` }), limits(100), at()),
        ),
      ]);

      expect(await ledger.inflightCount(tenantId)).toBe((corrected === true ? 7 : 1) + 4);
    });
  });
}
