/**
 * TableJobLedger (`table` backend, separate tables) on the run's Azurite: the shared contract, then
 * what only this layout has (which rows land in which table, the job row as the commit point).
 */
import { FORBIDDEN_KEY_CHARS } from '../../../src/ledger/keys';
import { JobNotFoundError, LedgerUnavailableError } from '../../../src/ledger/errors';
import { TableJobLedger, type LedgerTableNames } from '../../../src/ledger/table-job-ledger';
import { LedgerEntityTooLargeError } from '../../../src/ledger/errors';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTablePrefix, uniqueTenantId } from '../../support/unique';
import { admission, at, dispatch, LIMITS, limits } from './fixtures';
import { describeJobLedgerContract } from './job-ledger.contract';
import {
  diesAtFirstTransaction,
  rawEntities,
  rawTable,
  unreachableConnectionString,
  withoutProperties,
} from './table-fixtures';

function uniqueTables(): LedgerTableNames {
  const prefix = uniqueTablePrefix('tbl');
  return {
    jobs: `${prefix}Jobs`,
    steps: `${prefix}Steps`,
    idempotency: `${prefix}Idem`,
    jobIndex: `${prefix}Index`,
    inflight: `${prefix}Inflight`,
    sweep: `${prefix}Sweep`,
  };
}

function ledgerOn(tables: LedgerTableNames): TableJobLedger {
  return new TableJobLedger({ connection: { connectionString: testTableConnectionString() }, tables });
}

describeJobLedgerContract('TableJobLedger', async () => {
  const tables = uniqueTables();
  return {
    ledger: ledgerOn(tables),
    admitDyingAtCommit: async (record, admissionLimits, now) => {
      await new TableJobLedger({
        connection: { connectionString: testTableConnectionString() },
        tables,
        clientOptions: diesAtFirstTransaction(),
      }).admit(record, admissionLimits, now);
    },
  };
});

describe('TableJobLedger on Table Storage', () => {
  let tables: LedgerTableNames;
  let ledger: TableJobLedger;
  let tenantId: string;

  beforeEach(() => {
    tables = uniqueTables();
    ledger = ledgerOn(tables);
    tenantId = uniqueTenantId();
  });

  it('writes each kind of row to its own table, with keys Azure accepts', async () => {
    const oddTenant = `acme/eu#1?x\\y\u0001${tenantId}`;
    const record = admission({ tenantId: oddTenant, idempotencyKey: 'key/with#odd?chars' });
    await ledger.admit(record, LIMITS, at());
    await ledger.applyJobEvent(record.job.jobId, { type: 'START' }, at(1000));
    await ledger.applyStepEvent(record.job.jobId, 'ocr', dispatch(1, 'lease-1', at(2000)), at(2000));

    const rows = {
      jobs: await rawEntities(tables.jobs),
      steps: await rawEntities(tables.steps),
      idempotency: await rawEntities(tables.idempotency),
      jobIndex: await rawEntities(tables.jobIndex),
      inflight: await rawEntities(tables.inflight),
      sweep: await rawEntities(tables.sweep),
    };
    expect(rows.jobs.map((r) => [r.partitionKey, r.rowKey])).toEqual([[record.job.jobId, 'JOB']]);
    expect(rows.steps.map((r) => [r.partitionKey, r.rowKey])).toEqual([
      [record.job.jobId, 'STEP|000|ocr'],
      [record.job.jobId, 'STEP|001|embedding'],
    ]);
    expect(rows.idempotency).toHaveLength(1);
    expect(rows.jobIndex).toHaveLength(1);
    expect(rows.jobIndex[0]).toMatchObject({
      jobId: record.job.jobId,
      status: 'RUNNING',
      tenantId: oddTenant,
    });
    expect(rows.inflight).toHaveLength(1);
    expect(rows.inflight[0]).toMatchObject({ count: 1, tenantId: oddTenant });
    expect(rows.sweep.map((r) => [r.partitionKey, r.rowKey])).toEqual([
      [`active|${record.job.lane}`, record.job.jobId],
    ]);
    for (const row of Object.values(rows).flat()) {
      expect(row.partitionKey).not.toMatch(FORBIDDEN_KEY_CHARS);
      expect(row.rowKey).not.toMatch(FORBIDDEN_KEY_CHARS);
    }
  });

  it('treats steps without their job row as no job (the job row is the commit point)', async () => {
    const record = admission({ tenantId });
    const steps = rawTable(tables.steps);
    await ledger.ping();
    await steps.createEntity({ partitionKey: record.job.jobId, rowKey: 'STEP|000|ocr', stepId: 'ocr' });

    expect(await ledger.getJob(record.job.jobId)).toBeUndefined();
    await expect(
      ledger.applyStepEvent(record.job.jobId, 'ocr', { type: 'CANCEL' }, at()),
    ).rejects.toBeInstanceOf(JobNotFoundError);
    // Admitting the job for real overwrites the leftovers.
    await ledger.admit(record, LIMITS, at());
    expect((await ledger.getJob(record.job.jobId))?.steps).toEqual(record.steps);
  });

  it('splits JSON longer than one property allows and refuses rows larger than an entity', async () => {
    const long = admission({
      tenantId,
      payload: { steps: { ocr: { hint: 'a'.repeat(70_000) }, embedding: {} } },
    });
    await ledger.admit(long, LIMITS, at());
    const [ocrRow] = await rawEntities(tables.steps);
    expect(ocrRow).toMatchObject({ payload_chunks: 3 });

    const huge = admission({
      tenantId,
      inputRef: 'huge',
      payload: { steps: { ocr: { hint: 'b'.repeat(600_000) }, embedding: {} } },
    });
    await expect(ledger.admit(huge, LIMITS, at())).rejects.toBeInstanceOf(LedgerEntityTooLargeError);
    expect(await ledger.getJob(huge.job.jobId)).toBeUndefined();
    expect(await ledger.inflightCount(tenantId)).toBe(1);
    expect(await rawEntities(tables.idempotency)).toHaveLength(1);
  });

  it('keeps the tenant limit across ledger instances sharing the tables', async () => {
    const instances = [ledger, ledgerOn(tables), ledgerOn(tables)];
    const records = Array.from({ length: 9 }, (_, i) => admission({ tenantId, inputRef: `blob://${i}` }));

    const settled = await Promise.allSettled(
      records.map((record, i) => (instances[i % 3] as TableJobLedger).admit(record, limits(4), at())),
    );

    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(4);
    expect(await ledger.inflightCount(tenantId)).toBe(4);
    expect(await rawEntities(tables.jobs)).toHaveLength(4);
    expect(await rawEntities(tables.idempotency)).toHaveLength(4);
  });

  it('reads jobs and steps written before redrives existed as never redriven', async () => {
    const record = admission({ tenantId });
    await ledger.admit(record, LIMITS, at());
    const jobId = record.job.jobId;
    await withoutProperties(tables.jobs, { partitionKey: jobId, rowKey: 'JOB' }, ['redrives']);
    await withoutProperties(tables.steps, { partitionKey: jobId, rowKey: 'STEP|000|ocr' }, ['attemptBase']);
    expect((await rawEntities(tables.jobs))[0]).not.toHaveProperty('redrives');
    expect((await rawEntities(tables.steps))[0]).not.toHaveProperty('attemptBase');

    const found = await ledger.getJob(jobId);
    expect(found?.job).toEqual(record.job);
    expect(found?.job.redrives).toBe(0);
    expect(found?.steps[0]?.attemptBase).toBe(0);
    // The next write stores them.
    await ledger.applyJobEvent(jobId, { type: 'START' }, at(1000));
    await ledger.applyStepEvent(jobId, 'ocr', dispatch(1, 'lease-1', at(2000)), at(2000));
    const [jobRow] = await rawEntities(tables.jobs);
    const [stepRow] = await rawEntities(tables.steps);
    expect(jobRow).toMatchObject({ redrives: 0 });
    expect(stepRow).toMatchObject({ attemptBase: 0 });
  });

  it('reports an unreachable store as LedgerUnavailableError', async () => {
    const offline = new TableJobLedger({
      connection: { connectionString: await unreachableConnectionString() },
      tables,
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    await expect(offline.ping()).rejects.toBeInstanceOf(LedgerUnavailableError);
    await expect(offline.getJob('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'ledger_unavailable',
      retryable: true,
    });
  });
});
