/**
 * SingleTableJobLedger (`ledger` backend): what an admission costs in storage round trips, and the
 * per-process memory of each tenant's counter (its ETag) that makes it cheap, on the run's Azurite.
 * Round trips are counted by a pipeline policy on the ledger's clients, retries included.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import { SingleTableJobLedger } from '../../../src/ledger/single-table-job-ledger';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName, uniqueTenantId } from '../../support/unique';
import { ack, admission, at, dispatch, LIMITS, limits, ORPHAN_GRACE_SECONDS, SECOND } from './fixtures';
import { diesAtFirstTransaction, rawEntities, RoundTrips } from './table-fixtures';

function ledgerOn(table: string, clientOptions?: TableServiceClientOptions): SingleTableJobLedger {
  return new SingleTableJobLedger({
    connection: { connectionString: testTableConnectionString() },
    table,
    ...(clientOptions === undefined ? {} : { clientOptions }),
  });
}

describe('SingleTableJobLedger admission', () => {
  let table: string;
  let trips: RoundTrips;
  let ledger: SingleTableJobLedger;
  let tenantId: string;

  beforeEach(() => {
    table = uniqueTableName('admit');
    trips = new RoundTrips();
    ledger = ledgerOn(table, trips.options);
    tenantId = uniqueTenantId();
  });

  it("admits in three round trips once the process knows the tenant's counter", async () => {
    await ledger.admit(admission({ tenantId, inputRef: 'blob://first' }), LIMITS, at());
    trips.reset();

    for (let i = 0; i < 5; i += 1) {
      const outcome = await ledger.admit(admission({ tenantId, inputRef: `blob://${i}` }), LIMITS, at());
      expect(outcome.kind).toBe('created');
    }

    // Per admission: the tenant-partition transaction, the active entry, the job with its steps.
    expect(trips.count).toBe(5 * 3);
    expect(await ledger.inflightCount(tenantId)).toBe(6);
    expect((await ledger.listJobs({ tenantId, limit: 100 })).items).toHaveLength(6);
  });

  it('takes the slots of concurrent admissions of one tenant in shared transactions (group commit)', async () => {
    await ledger.admit(admission({ tenantId, inputRef: 'blob://first' }), LIMITS, at());
    trips.reset();
    const records = Array.from({ length: 12 }, (_, i) => admission({ tenantId, inputRef: `blob://${i}` }));

    const outcomes = await Promise.all(records.map((record) => ledger.admit(record, LIMITS, at())));

    expect(outcomes.every((o) => o.kind === 'created')).toBe(true);
    // Each its active entry and its job; the slots, records and index rows in fewer transactions
    // than admissions (those that queue behind one in flight go together in the next).
    expect(trips.count).toBeLessThan(3 * records.length);
    expect(await ledger.inflightCount(tenantId)).toBe(13);
    expect((await ledger.listJobs({ tenantId, limit: 100 })).items).toHaveLength(13);
    expect((await rawEntities(table)).filter((r) => r.rowKey?.startsWith('~IDEMP|'))).toHaveLength(13);
  });

  it('answers a resend within the window with the same job and writes nothing', async () => {
    const first = await ledger.admit(admission({ tenantId, idempotencyKey: 'k' }), LIMITS, at());
    if (first.kind !== 'created') throw new Error('expected the first admission to create the job');
    const rowsBefore = (await rawEntities(table)).map((r) => [r.partitionKey, r.rowKey, r.etag]);

    const resent = admission({ tenantId, idempotencyKey: 'k' }, at(SECOND));
    const outcome = await ledger.admit(resent, LIMITS, at(SECOND));

    expect(outcome).toEqual({
      kind: 'duplicate',
      jobId: first.job.jobId,
      job: first.job,
      steps: first.steps,
    });
    expect((await rawEntities(table)).map((r) => [r.partitionKey, r.rowKey, r.etag])).toEqual(rowsBefore);
    expect(await ledger.inflightCount(tenantId)).toBe(1);
  });

  it('re-reads the counter and decides again when another process moved it (412)', async () => {
    const other = ledgerOn(table);
    await ledger.admit(admission({ tenantId, inputRef: 'blob://a' }), LIMITS, at());
    await other.admit(admission({ tenantId, inputRef: 'blob://b' }), LIMITS, at());
    trips.reset();

    const outcome = await ledger.admit(admission({ tenantId, inputRef: 'blob://c' }), LIMITS, at());

    // The transaction on the remembered ETag (refused), the record (not in the way), the counter,
    // the transaction again, the active entry, the job.
    expect(trips.count).toBe(6);
    expect(outcome.kind).toBe('created');
    expect(await ledger.inflightCount(tenantId)).toBe(3);
    trips.reset();
    await ledger.admit(admission({ tenantId, inputRef: 'blob://d' }), LIMITS, at());
    expect(trips.count).toBe(3);
    expect(await other.inflightCount(tenantId)).toBe(4);
  });

  it('reads a remembered count at the limit again before refusing: a slot given back elsewhere is used', async () => {
    const other = ledgerOn(table);
    const first = await ledger.admit(admission({ tenantId, inputRef: 'blob://a' }), limits(1), at());
    if (first.kind !== 'created') throw new Error('expected the first admission to create the job');
    await other.applyJobEvent(first.job.jobId, { type: 'CANCEL' }, at(SECOND));

    const outcome = await ledger.admit(admission({ tenantId, inputRef: 'blob://b' }), limits(1), at(SECOND));

    expect(outcome.kind).toBe('created');
    expect(await other.inflightCount(tenantId)).toBe(1);
  });

  it('ends a job with its index row and its slot in one transaction on the remembered ETags', async () => {
    const first = await ledger.admit(admission({ tenantId }), LIMITS, at());
    if (first.kind !== 'created') throw new Error('expected the first admission to create the job');
    trips.reset();

    await ledger.applyJobEvent(first.job.jobId, { type: 'CANCEL' }, at(SECOND));

    // None read first: the job, its index row and the counter in one transaction, the active entry
    // replaced by the finished entry in another.
    expect(trips.count).toBe(3);
    expect(trips.transactions).toBe(2);
    expect(trips.reads).toBe(0);
    expect(await ledger.inflightCount(tenantId)).toBe(0);
  });

  it('creates one job for identical admissions racing from several processes', async () => {
    const instances = [ledger, ledgerOn(table), ledgerOn(table)];
    const records = Array.from({ length: 12 }, () => admission({ tenantId, idempotencyKey: 'burst' }));

    const outcomes = await Promise.all(
      records.map((record, i) => (instances[i % 3] as SingleTableJobLedger).admit(record, LIMITS, at())),
    );

    const created = outcomes.filter((o) => o.kind === 'created');
    expect(created).toHaveLength(1);
    const jobId = created[0]?.kind === 'created' ? created[0].job.jobId : '';
    expect(new Set(outcomes.map((o) => (o.kind === 'created' ? o.job.jobId : o.jobId)))).toEqual(
      new Set([jobId]),
    );
    expect(await ledger.inflightCount(tenantId)).toBe(1);
    expect((await ledger.listJobs({ tenantId, limit: 100 })).items.map((i) => i.jobId)).toEqual([jobId]);
    expect((await rawEntities(table)).filter((r) => r.rowKey === 'JOB')).toHaveLength(1);
  });

  it('removes the index row of an admission that died before its job with its orphan record', async () => {
    const record = admission({ tenantId, idempotencyKey: 'dies' });
    const dying = ledgerOn(table, diesAtFirstTransaction());
    await expect(dying.admit(record, LIMITS, at())).rejects.toThrow();
    // Listed (the index row is written with the slot and the claim) although the job never committed.
    expect((await ledger.listJobs({ tenantId, limit: 10 })).items.map((i) => i.jobId)).toEqual([
      record.job.jobId,
    ]);

    const [entry] = await ledger.listDueJobs(record.job.lane, at(ORPHAN_GRACE_SECONDS * SECOND), 100);
    if (entry === undefined) throw new Error('the orphan has no active entry');
    expect(await ledger.removeOrphanIdempotency(entry)).toBe(true);

    expect((await ledger.listJobs({ tenantId, limit: 10 })).items).toEqual([]);
  });

  it('drops the index row of an orphan it admits the command again over', async () => {
    const record = admission({ tenantId, idempotencyKey: 'dies' });
    await expect(ledgerOn(table, diesAtFirstTransaction()).admit(record, LIMITS, at())).rejects.toThrow();
    const later = at(ORPHAN_GRACE_SECONDS * SECOND);
    const again = admission({ tenantId, idempotencyKey: 'dies' }, later);

    const outcome = await ledger.admit(again, LIMITS, later);

    expect(outcome.kind).toBe('created');
    expect((await ledger.listJobs({ tenantId, limit: 10 })).items.map((i) => i.jobId)).toEqual([
      again.job.jobId,
    ]);
  });

  it('writes a step event on the row it wrote last in one round trip', async () => {
    const first = await ledger.admit(admission({ tenantId }), LIMITS, at());
    if (first.kind !== 'created') throw new Error('expected the first admission to create the job');
    trips.reset();

    await ledger.applyStepEvent(first.job.jobId, 'ocr', dispatch(1, 'lease-1', at(SECOND)), at(SECOND));
    await ledger.applyStepEvent(
      first.job.jobId,
      'ocr',
      { type: 'PUBLISHED', attemptNo: 1, leaseId: 'lease-1' },
      at(SECOND),
    );

    expect(trips.count).toBe(2);
  });

  it('decides on the stored step when another process wrote it since: no refusal, no lost update', async () => {
    const other = ledgerOn(table);
    const first = await ledger.admit(admission({ tenantId }), LIMITS, at());
    if (first.kind !== 'created') throw new Error('expected the first admission to create the job');
    const jobId = first.job.jobId;
    const published = (lease: string) => ({ type: 'PUBLISHED' as const, attemptNo: 1, leaseId: lease });
    for (const stepId of ['ocr', 'embedding']) {
      await ledger.applyStepEvent(jobId, stepId, dispatch(1, stepId, at(SECOND)), at(SECOND));
      await other.applyStepEvent(jobId, stepId, published(stepId), at(SECOND));
      await other.applyStepEvent(jobId, stepId, ack(1, stepId, at(2 * SECOND)), at(2 * SECOND));
    }

    // This process last saw both steps DISPATCHED; both are IN_PROGRESS in storage.
    // A result, refused on the remembered row, is decided again on the stored one and applied.
    const done = await ledger.applyStepEvent(
      jobId,
      'ocr',
      { type: 'SUCCEED', attemptNo: 1, leaseId: 'ocr', result: { ok: true } },
      at(3 * SECOND),
    );
    expect(done.next.status).toBe('SUCCEEDED');
    // A replayed PUBLISHED would move the remembered row on; its write is refused (412), and on the
    // stored row it changes nothing.
    const replay = await ledger.applyStepEvent(jobId, 'embedding', published('embedding'), at(3 * SECOND));
    expect(replay.changed).toBe(false);
    expect(replay.next.status).toBe('IN_PROGRESS');

    const steps = (await other.getJob(jobId))?.steps;
    expect(steps?.map((step) => step.status)).toEqual(['SUCCEEDED', 'IN_PROGRESS']);
    expect(steps?.[0]?.result).toEqual({ ok: true });
  });
});
