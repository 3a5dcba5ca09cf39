/**
 * The sweepers' work lists on both Table backends, where they are stored: a shard's active and
 * finished entries share the shard's partition (row keys apart: job id, `~done|{finishedAt}|{jobId}`),
 * so a job's end and a redrive each replace the one by the other in one entity-group transaction;
 * finished entries written before they moved there (day partitions) are still listed and purged.
 * The requests of the ledger's clients are recorded by a pipeline policy.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';
import type { JobEvent } from '../../../src/domain/job';
import { SingleTableJobLedger, singleTableLayout } from '../../../src/ledger/single-table-job-ledger';
import { separateTablesLayout, TableJobLedger } from '../../../src/ledger/table-job-ledger';
import type { TableLedgerLayout } from '../../../src/ledger/table-support/layout';
import type { JobLedger } from '../../../src/ports/job-ledger';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTableName, uniqueTablePrefix, uniqueTenantId } from '../../support/unique';
import { admission, at, HOUR, LIMITS, SECOND } from './fixtures';
import { rawEntities, rawTable } from './table-fixtures';

const FAIL: JobEvent = { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'boom' } };
const DAY = 24 * HOUR;

interface Backend {
  readonly layout: TableLedgerLayout;
  ledger(clientOptions?: TableServiceClientOptions): JobLedger;
}

function singleTable(): Backend {
  const table = uniqueTableName('lists');
  const connection = { connectionString: testTableConnectionString() };
  return {
    layout: singleTableLayout(table),
    ledger: (clientOptions) =>
      new SingleTableJobLedger({
        connection,
        table,
        ...(clientOptions === undefined ? {} : { clientOptions }),
      }),
  };
}

function separateTables(): Backend {
  const prefix = uniqueTablePrefix('lists');
  const tables = {
    jobs: `${prefix}Jobs`,
    steps: `${prefix}Steps`,
    idempotency: `${prefix}Idem`,
    jobIndex: `${prefix}Index`,
    inflight: `${prefix}Inflight`,
    sweep: `${prefix}Sweep`,
  };
  const connection = { connectionString: testTableConnectionString() };
  return {
    layout: separateTablesLayout(tables),
    ledger: (clientOptions) =>
      new TableJobLedger({ connection, tables, ...(clientOptions === undefined ? {} : { clientOptions }) }),
  };
}

interface RecordedRequest {
  readonly method: string;
  readonly batch: boolean;
  /** URL and body, percent-decoded. */
  readonly text: string;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Records every request of the clients given `options` (retries included). */
class Requests {
  seen: RecordedRequest[] = [];
  readonly options: TableServiceClientOptions = {
    additionalPolicies: [
      {
        position: 'perRetry',
        policy: {
          name: 'recordRequests',
          sendRequest: async (request, next) => {
            const body = typeof request.body === 'string' ? request.body : '';
            this.seen.push({
              method: request.method,
              batch: new URL(request.url).pathname.endsWith('$batch'),
              text: `${decoded(request.url)}\n${decoded(body)}`,
            });
            return next(request);
          },
        },
      },
    ],
  };

  /** The requests naming `partition` (in a key, a filter or a transaction's rows). */
  naming(partition: string): RecordedRequest[] {
    return this.seen.filter((r) => r.text.includes(`'${partition}'`) || r.text.includes(`"${partition}"`));
  }

  reset(): void {
    this.seen = [];
  }
}

describe.each([
  ['SingleTableJobLedger', singleTable],
  ['TableJobLedger', separateTables],
])('%s work lists', (_name, backendOf) => {
  let backend: Backend;
  let requests: Requests;
  let ledger: JobLedger;
  let tenantId: string;

  beforeEach(() => {
    backend = backendOf();
    requests = new Requests();
    ledger = backend.ledger(requests.options);
    tenantId = uniqueTenantId();
  });

  async function admitted(tenant = tenantId) {
    const record = admission({ tenantId: tenant, inputRef: `blob://${uniqueTenantId('in')}` });
    const outcome = await ledger.admit(record, LIMITS, at());
    if (outcome.kind !== 'created') throw new Error('expected the admission to create the job');
    return record.job;
  }

  /** The row keys stored in `partition` of the work lists' table, in key order. */
  async function rowKeys(partition: string): Promise<string[]> {
    return (await rawEntities(backend.layout.tables.sweep))
      .filter((row) => row.partitionKey === partition)
      .map((row) => row.rowKey ?? '');
  }

  const finishedKey = (finishedAt: Date, jobId: string): string =>
    `~done|${finishedAt.toISOString()}|${jobId}`;

  it("replaces a job's active entry by its finished entry in one transaction when it ends", async () => {
    const job = await admitted();
    await ledger.applyJobEvent(job.jobId, { type: 'START' }, at(SECOND));
    const shard = backend.layout.shardPartition(job.lane);
    expect(await rowKeys(shard)).toEqual([job.jobId]);
    requests.reset();

    await ledger.applyJobEvent(job.jobId, { type: 'SUCCEED' }, at(2 * SECOND));

    // One request in the shard's partition, a transaction, and nothing read there first.
    expect(requests.naming(shard).map((r) => ({ method: r.method, batch: r.batch }))).toEqual([
      { method: 'POST', batch: true },
    ]);
    expect(await rowKeys(shard)).toEqual([finishedKey(at(2 * SECOND), job.jobId)]);
    expect(await ledger.listFinishedJobs(at(HOUR), 10)).toEqual([
      { jobId: job.jobId, tenantId, finishedAt: at(2 * SECOND).toISOString() },
    ]);
  });

  it('never lists a finished entry as due nor an active one as finished, in one partition', async () => {
    const [running, ended] = [await admitted(), await admitted()];
    expect(running.lane).toBe(ended.lane);
    await ledger.applyJobEvent(ended.jobId, FAIL, at(SECOND));
    const shard = backend.layout.shardPartition(running.lane);
    expect(await rowKeys(shard)).toEqual([running.jobId, finishedKey(at(SECOND), ended.jobId)].sort());

    expect((await ledger.listDueJobs(running.lane, at(DAY), 100)).map((e) => e.jobId)).toEqual([
      running.jobId,
    ]);
    expect((await ledger.listFinishedJobs(at(DAY), 100)).map((e) => e.jobId)).toEqual([ended.jobId]);
    expect(Object.fromEntries(await ledger.countActiveJobs())).toEqual({ [tenantId]: 1 });
    // A late check of the ended job does not bring it back, and dropping it touches no finished row.
    await ledger.scheduleCheck(ended.jobId, ended.lane, at(SECOND));
    await ledger.dropActiveEntry(ended.jobId, ended.lane);
    expect(await rowKeys(shard)).toEqual([running.jobId, finishedKey(at(SECOND), ended.jobId)].sort());
  });

  it('puts a redriven job back in flight in one transaction, and ends it again the same way', async () => {
    const job = await admitted();
    await ledger.applyJobEvent(job.jobId, FAIL, at(SECOND));
    const shard = backend.layout.shardPartition(job.lane);
    requests.reset();

    await ledger.applyJobEvent(job.jobId, { type: 'REDRIVE' }, at(HOUR), LIMITS);

    expect(requests.naming(shard).map((r) => ({ method: r.method, batch: r.batch }))).toEqual([
      { method: 'POST', batch: true },
    ]);
    expect(await rowKeys(shard)).toEqual([job.jobId]);
    expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([]);
    requests.reset();

    await ledger.applyJobEvent(job.jobId, FAIL, at(2 * HOUR));

    // The entry the redrive wrote is remembered: the end is one transaction again, with no read.
    expect(requests.naming(shard).map((r) => ({ method: r.method, batch: r.batch }))).toEqual([
      { method: 'POST', batch: true },
    ]);
    expect(await rowKeys(shard)).toEqual([finishedKey(at(2 * HOUR), job.jobId)]);
  });

  it('lists the oldest finished jobs over every shard, past a shard that fills the limit', async () => {
    // Tenants on two different lanes: three jobs end late on one, one ends early on the other.
    const tenants = Array.from({ length: 8 }, () => uniqueTenantId());
    const lanes = tenants.map((t) => admission({ tenantId: t }).job.lane);
    const busy = tenants[0] as string;
    const other = tenants[lanes.findIndex((lane) => lane !== lanes[0])] as string;
    const late = [];
    for (let i = 1; i <= 3; i += 1) {
      const job = await admitted(busy);
      await ledger.applyJobEvent(job.jobId, FAIL, at(10 * HOUR + i * SECOND));
      late.push(job.jobId);
    }
    const early = await admitted(other);
    await ledger.applyJobEvent(early.jobId, FAIL, at(HOUR));

    expect((await ledger.listFinishedJobs(at(DAY), 2)).map((e) => e.jobId)).toEqual([early.jobId, late[0]]);
    expect((await ledger.listFinishedJobs(at(DAY), 100)).map((e) => e.jobId)).toEqual([early.jobId, ...late]);
    expect((await ledger.listFinishedJobs(at(10 * HOUR + 2 * SECOND), 100)).map((e) => e.jobId)).toEqual([
      early.jobId,
      late[0],
    ]);
  });

  describe('a finished entry written before the entries moved to the shards (day partition)', () => {
    /** Moves a job's finished entry to where it was written before: its day's partition. */
    async function asListedBefore(jobId: string, lane: number, finishedAt: Date): Promise<string> {
      const table = rawTable(backend.layout.tables.sweep);
      const iso = finishedAt.toISOString();
      await table.deleteEntity(backend.layout.shardPartition(lane), finishedKey(finishedAt, jobId));
      const day = backend.layout.legacyFinishedPartition(iso.slice(0, 10));
      await table.createEntity({
        partitionKey: day,
        rowKey: `${iso}|${jobId}`,
        jobId,
        tenantId,
        finishedAt: iso,
      });
      return day;
    }

    it('is still listed, in finish order with the others, and purged', async () => {
      const [old, recent] = [await admitted(), await admitted()];
      await ledger.applyJobEvent(old.jobId, FAIL, at(SECOND));
      await ledger.applyJobEvent(recent.jobId, FAIL, at(2 * SECOND));
      const day = await asListedBefore(old.jobId, old.lane, at(SECOND));

      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([
        { jobId: old.jobId, tenantId, finishedAt: at(SECOND).toISOString() },
        { jobId: recent.jobId, tenantId, finishedAt: at(2 * SECOND).toISOString() },
      ]);
      expect(await ledger.listFinishedJobs(at(SECOND), 100)).toEqual([]);
      expect((await ledger.listFinishedJobs(at(DAY), 1)).map((e) => e.jobId)).toEqual([old.jobId]);

      expect(await ledger.purgeJob(old.jobId)).toBe(true);

      expect(await rowKeys(day)).toEqual([]);
      expect((await ledger.listFinishedJobs(at(DAY), 100)).map((e) => e.jobId)).toEqual([recent.jobId]);
    });

    it('is removed when the job is redriven', async () => {
      const job = await admitted();
      await ledger.applyJobEvent(job.jobId, FAIL, at(SECOND));
      const day = await asListedBefore(job.jobId, job.lane, at(SECOND));

      await ledger.applyJobEvent(job.jobId, { type: 'REDRIVE' }, at(HOUR), LIMITS);

      expect(await rowKeys(day)).toEqual([]);
      expect(await ledger.listFinishedJobs(at(DAY), 100)).toEqual([]);
      expect((await ledger.listDueJobs(job.lane, at(HOUR), 100)).map((e) => e.jobId)).toEqual([job.jobId]);
    });
  });

  it('leaves one finished entry and no active one when processes end a job concurrently', async () => {
    const processes = [ledger, backend.ledger(), backend.ledger(), backend.ledger()];
    const jobs = [await admitted(), await admitted(), await admitted()];
    const events: JobEvent[] = [FAIL, { type: 'CANCEL', reason: 'twice' }, FAIL, { type: 'CANCEL' }];

    await Promise.allSettled(
      jobs.flatMap((job) =>
        processes.map((process, i) => process.applyJobEvent(job.jobId, events[i] as JobEvent, at(SECOND))),
      ),
    );
    // Replays of the ends (an at-least-once writer's retries) change nothing.
    await Promise.allSettled(jobs.map((job) => backend.ledger().applyJobEvent(job.jobId, FAIL, at(SECOND))));

    const shard = backend.layout.shardPartition(jobs[0]?.lane ?? 0);
    expect(await rowKeys(shard)).toEqual(jobs.map((job) => finishedKey(at(SECOND), job.jobId)).sort());
    expect(await ledger.listDueJobs(jobs[0]?.lane ?? 0, at(DAY), 100)).toEqual([]);
    expect((await ledger.listFinishedJobs(at(DAY), 100)).map((e) => e.jobId).sort()).toEqual(
      jobs.map((job) => job.jobId).sort(),
    );
  });
});
