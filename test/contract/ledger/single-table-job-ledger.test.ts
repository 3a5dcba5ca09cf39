/**
 * SingleTableJobLedger (`ledger` backend, one table) on the run's Azurite: the shared contract, then
 * what only this layout has (a job and its steps in one partition; prefixed partitions for the rest).
 */
import { FORBIDDEN_KEY_CHARS } from '../../../src/ledger/keys';
import { LedgerUnavailableError } from '../../../src/ledger/errors';
import { SingleTableJobLedger } from '../../../src/ledger/single-table-job-ledger';
import { LedgerEntityTooLargeError } from '../../../src/ledger/errors';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName, uniqueTenantId } from '../../support/unique';
import { admission, at, dispatch, LIMITS, limits } from './fixtures';
import { describeJobLedgerContract } from './job-ledger.contract';
import {
  diesAtFirstTransaction,
  rawEntities,
  unreachableConnectionString,
  withoutProperties,
} from './table-fixtures';

function ledgerOn(table: string): SingleTableJobLedger {
  return new SingleTableJobLedger({ connection: { connectionString: testTableConnectionString() }, table });
}

describeJobLedgerContract('SingleTableJobLedger', async () => {
  const table = uniqueTableName('ledger');
  return {
    ledger: ledgerOn(table),
    admitDyingAtCommit: async (record, admissionLimits, now) => {
      await new SingleTableJobLedger({
        connection: { connectionString: testTableConnectionString() },
        table,
        clientOptions: diesAtFirstTransaction(),
      }).admit(record, admissionLimits, now);
    },
  };
});

describe('SingleTableJobLedger on Table Storage', () => {
  let table: string;
  let ledger: SingleTableJobLedger;
  let tenantId: string;

  beforeEach(() => {
    table = uniqueTableName('ledger');
    ledger = ledgerOn(table);
    tenantId = uniqueTenantId();
  });

  it("keeps a job and its steps in one partition, the tenant's index, counter and records in another, with keys Azure accepts", async () => {
    const oddTenant = `acme/eu#1?x\\y\u0001${tenantId}`;
    const record = admission({ tenantId: oddTenant, idempotencyKey: 'key/with#odd?chars' });
    await ledger.admit(record, LIMITS, at());
    await ledger.applyJobEvent(record.job.jobId, { type: 'START' }, at(1000));
    await ledger.applyStepEvent(record.job.jobId, 'ocr', dispatch(1, 'lease-1', at(2000)), at(2000));

    const rows = await rawEntities(table);
    const jobPartition = rows.filter((r) => r.partitionKey === record.job.jobId).map((r) => r.rowKey);
    expect(jobPartition).toEqual(['JOB', 'STEP|000|ocr', 'STEP|001|embedding']);
    const others = rows.filter((r) => r.partitionKey !== record.job.jobId);
    expect(others.map((r) => (r.partitionKey ?? '').split('|')[0]).sort()).toEqual([
      'INFLIGHT',
      'SWEEP',
      'TENANT',
      'TENANT',
      'TENANT',
    ]);
    expect(others.find((r) => r.partitionKey?.startsWith('SWEEP|'))).toMatchObject({
      partitionKey: `SWEEP|active|${record.job.lane}`,
      rowKey: record.job.jobId,
    });
    // The tenant's partition: its index row, then (after every index row) its counter and its record.
    const tenantRows = others.filter((r) => r.partitionKey?.startsWith('TENANT|'));
    expect(new Set(tenantRows.map((r) => r.partitionKey)).size).toBe(1);
    expect(tenantRows.map((r) => r.rowKey)).toEqual([
      expect.stringMatching(new RegExp(`^\\d{15}\\|${record.job.jobId}$`)),
      `~IDEMP|${record.idempotency.scopeId}`,
      '~INFLIGHT',
    ]);
    expect(tenantRows[0]).toMatchObject({ jobId: record.job.jobId, status: 'RUNNING' });
    expect(tenantRows[1]).toMatchObject({ jobId: record.job.jobId, key: 'key/with#odd?chars' });
    expect(tenantRows[2]).toMatchObject({ count: 1, tenantId: oddTenant });
    // The counters' directory names the tenant once.
    expect(others.filter((r) => r.partitionKey === 'INFLIGHT|')).toMatchObject([{ tenantId: oddTenant }]);
    for (const row of rows) {
      expect(row.partitionKey).not.toMatch(FORBIDDEN_KEY_CHARS);
      expect(row.rowKey).not.toMatch(FORBIDDEN_KEY_CHARS);
    }
  });

  it('refuses rows larger than an entity and writes nothing', async () => {
    const huge = admission({
      tenantId,
      payload: { steps: { ocr: { hint: 'b'.repeat(600_000) }, embedding: {} } },
    });
    await expect(ledger.admit(huge, LIMITS, at())).rejects.toBeInstanceOf(LedgerEntityTooLargeError);
    expect(await ledger.inflightCount(tenantId)).toBe(0);
    expect(await rawEntities(table)).toEqual([]);
  });

  it('refuses a job whose rows exceed one transaction and writes nothing', async () => {
    const each = { hint: 'c'.repeat(480_000) };
    const huge = admission({ tenantId, payload: { steps: { ocr: each, embedding: each } } });
    const withMore = {
      ...huge,
      steps: [...huge.steps, ...huge.steps.map((s, i) => ({ ...s, stepId: `extra${i}`, index: 2 + i }))],
    };
    await expect(ledger.admit(withMore, LIMITS, at())).rejects.toBeInstanceOf(LedgerEntityTooLargeError);
    await ledger.ping();
    expect(await rawEntities(table)).toEqual([]);
  });

  it('keeps the tenant limit across ledger instances sharing the table', async () => {
    const instances = [ledger, ledgerOn(table), ledgerOn(table)];
    const records = Array.from({ length: 9 }, (_, i) => admission({ tenantId, inputRef: `blob://${i}` }));

    const settled = await Promise.allSettled(
      records.map((record, i) => (instances[i % 3] as SingleTableJobLedger).admit(record, limits(4), at())),
    );

    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(4);
    expect(await ledger.inflightCount(tenantId)).toBe(4);
    expect((await rawEntities(table)).filter((r) => r.rowKey === 'JOB')).toHaveLength(4);
    expect((await rawEntities(table)).filter((r) => r.rowKey?.startsWith('~IDEMP|'))).toHaveLength(4);
  });

  it("keeps the work lists in SWEEP partitions: active and finished entries in the job's shard", async () => {
    const record = admission({ tenantId });
    await ledger.admit(record, LIMITS, at());
    const sweepRows = async (): Promise<Array<[string | undefined, string | undefined]>> =>
      (await rawEntities(table))
        .filter((r) => r.partitionKey?.startsWith('SWEEP|'))
        .map((r) => [r.partitionKey, r.rowKey]);
    expect(await sweepRows()).toEqual([[`SWEEP|active|${record.job.lane}`, record.job.jobId]]);

    await ledger.applyJobEvent(record.job.jobId, { type: 'CANCEL' }, at(1000));

    const finishedAt = at(1000).toISOString();
    expect(await sweepRows()).toEqual([
      [`SWEEP|active|${record.job.lane}`, `~done|${finishedAt}|${record.job.jobId}`],
    ]);
    for (const [partitionKey, rowKey] of await sweepRows()) {
      expect(partitionKey).not.toMatch(FORBIDDEN_KEY_CHARS);
      expect(rowKey).not.toMatch(FORBIDDEN_KEY_CHARS);
    }
  });

  it('reads jobs and steps written before redrives existed as never redriven', async () => {
    const record = admission({ tenantId });
    await ledger.admit(record, LIMITS, at());
    const jobId = record.job.jobId;
    await withoutProperties(table, { partitionKey: jobId, rowKey: 'JOB' }, ['redrives']);
    await withoutProperties(table, { partitionKey: jobId, rowKey: 'STEP|001|embedding' }, ['attemptBase']);

    const found = await ledger.getJob(jobId);
    expect(found?.job).toEqual(record.job);
    expect(found?.steps).toEqual(record.steps);
  });

  it('reports an unreachable store as LedgerUnavailableError', async () => {
    const offline = new SingleTableJobLedger({
      connection: { connectionString: await unreachableConnectionString() },
      table,
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    await expect(offline.ping()).rejects.toBeInstanceOf(LedgerUnavailableError);
    await expect(offline.inflightCount(tenantId)).rejects.toMatchObject({ code: 'ledger_unavailable' });
  });
});
