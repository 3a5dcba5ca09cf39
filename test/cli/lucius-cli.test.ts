/**
 * The `lucius` binary as an operator runs it (a child process, from sources): help and exit codes,
 * bulk redrive against a ledger on the run's Azurite with the orchestrations behind a Durable
 * Functions HTTP API (devhost's, over an in-memory backend, served here), and two `lucius loop`
 * processes splitting the shards through lease rows on Azurite.
 */
import { createDurableHttpApi } from '../../devhost/durable/http-api';
import type { JobLedger } from '../../src/ports/job-ledger';
import { SingleTableJobLedger } from '../../src/ledger/single-table-job-ledger';
import type { ShardLease } from '../../src/ports/shard-leases';
import { TableShardLeases } from '../../src/ledger/table-support/table-shard-leases';
import { isMemberSlot } from '../../src/cli/shard-ownership';
import { MemoryDurableClientApi } from '../devhost/durable/http-api/memory-durable-client-api';
import { serve, type Served } from '../devhost/durable/http-api/serve';
import { admission, at, HOUR, LIMITS } from '../contract/ledger/fixtures';
import { eventually } from '../support/devhost-up';
import { testTableConnectionString } from '../support/table-storage';
import { uniqueTableName, uniqueTenantId } from '../support/unique';
import { runLucius, startLucius, type Running } from './run-lucius';

/** Each test starts real processes (a few seconds each on a loaded machine). */
jest.setTimeout(120_000);

function ledgerEnv(table: string): Record<string, string> {
  return {
    LUCIUS_STORAGE_BACKEND: 'ledger',
    LUCIUS_TABLE_CONNECTION: testTableConnectionString(),
    LUCIUS_TABLE_LEDGER: table,
  };
}

describe('lucius (the binary)', () => {
  it('prints help for every command and exits 0', async () => {
    const top = await runLucius(['--help'], {});
    expect(top.code).toBe(0);
    for (const command of ['jobs', 'quarantine', 'sweep', 'dispatch', 'loop'])
      expect(top.stdout).toContain(command);
    const cancel = await runLucius(['jobs', 'cancel', '--help'], {});
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/--dry-run[\s\S]*--concurrency/);
  });

  it('exits 2 on a usage error and 3 for a job that does not exist', async () => {
    const memory = { LUCIUS_STORAGE_BACKEND: 'memory' };
    expect((await runLucius(['jobs', 'lst'], memory)).code).toBe(2);
    expect((await runLucius(['jobs', 'list'], memory)).stderr).toMatch(/--tenant/);
    expect((await runLucius(['jobs', 'list', '--tenant', 't', '--status', 'DONE'], memory)).code).toBe(2);
    const missing = await runLucius(['jobs', 'get', 'no-such-job', '--json'], memory);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { exitCode: 3 } });
  });

  describe('jobs and sweeps on Azurite', () => {
    let table: string;
    let ledger: JobLedger;
    let durable: MemoryDurableClientApi;
    let server: Served;
    let env: Record<string, string>;

    beforeEach(async () => {
      table = uniqueTableName('cli');
      ledger = new SingleTableJobLedger({
        connection: { connectionString: testTableConnectionString() },
        table,
      });
      durable = new MemoryDurableClientApi(['jobOrchestrator']);
      server = await serve((origin) => createDurableHttpApi(durable, { taskHub: 'Lucius', baseUrl: origin }));
      env = {
        ...ledgerEnv(table),
        LUCIUS_DURABLE_API_URL: `${server.origin}/runtime/webhooks/durabletask`,
        LUCIUS_DURABLE_API_KEY: 'system-key',
      };
    });

    afterEach(() => server.close());

    async function failedJob(tenantId: string, createdAt: Date): Promise<string> {
      const record = admission({ tenantId, inputRef: `blob://${createdAt.getTime()}` }, createdAt);
      await ledger.admit(record, LIMITS, createdAt);
      await ledger.applyJobEvent(record.job.jobId, { type: 'START' }, createdAt);
      await ledger.applyJobEvent(
        record.job.jobId,
        { type: 'FAIL', failure: { failureClass: 'PERMANENT', message: 'worker said no' } },
        createdAt,
      );
      return record.job.jobId;
    }

    it('counts without changing anything on --dry-run, then redrives the FAILED jobs it selects', async () => {
      const tenantId = uniqueTenantId();
      const old = await failedJob(tenantId, at());
      const older = await failedJob(tenantId, at(HOUR));
      const recent = await failedJob(tenantId, at(3 * HOUR));
      const running = admission({ tenantId, inputRef: 'blob://running' }, at(2 * HOUR));
      await ledger.admit(running, LIMITS, at(2 * HOUR));
      const before = at(2.5 * HOUR).toISOString();

      const dry = await runLucius(
        [
          'jobs',
          'redrive',
          '--filter',
          '--tenant',
          tenantId,
          '--created-before',
          before,
          '--dry-run',
          '--json',
        ],
        env,
      );
      expect(dry.stderr).toBe('');
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({
        dryRun: true,
        matched: 3,
        applied: 2,
        skipped: 1,
        failed: 0,
      });
      for (const jobId of [old, older]) expect((await ledger.getJob(jobId))?.job.status).toBe('FAILED');
      expect(await durable.status(old)).toBeUndefined();

      // Without --tenant: every tenant the ledger counts jobs for (this table holds only this one).
      const real = await runLucius(
        ['jobs', 'redrive', '--filter', '--created-before', before, '--concurrency', '2', '--json'],
        env,
      );
      expect(real.stderr).toBe('');
      expect(real.code).toBe(0);
      const summary = JSON.parse(real.stdout) as {
        applied: number;
        items: { jobId: string; outcome: string }[];
      };
      expect(summary).toMatchObject({ dryRun: false, matched: 3, applied: 2, skipped: 1, failed: 0 });
      expect(
        summary.items
          .filter((i) => i.outcome === 'applied')
          .map((i) => i.jobId)
          .sort(),
      ).toEqual([old, older].sort());
      for (const jobId of [old, older]) {
        const found = await ledger.getJob(jobId);
        expect(found?.job).toMatchObject({ status: 'RUNNING', redrives: 1 });
        expect(await durable.status(jobId)).toMatchObject({
          name: 'jobOrchestrator',
          runtimeStatus: 'Running',
          input: expect.objectContaining({ jobId, drive: 1 }),
        });
      }
      expect((await ledger.getJob(recent))?.job.status).toBe('FAILED');
      expect((await ledger.getJob(running.job.jobId))?.job.status).toBe('ACCEPTED');

      const again = await runLucius(['jobs', 'redrive', old, '--json'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, job: { status: 'RUNNING' } });
    });

    it('starts the orchestration of a job left ACCEPTED, by job id and by tenant#yyyymm partition', async () => {
      const tenantId = uniqueTenantId();
      const admittedAt = new Date(Date.now() - HOUR);
      const byId = admission({ tenantId, inputRef: 'blob://by-id' }, admittedAt);
      const byPartition = admission({ tenantId, inputRef: 'blob://by-partition' }, admittedAt);
      for (const record of [byId, byPartition]) await ledger.admit(record, LIMITS, admittedAt);

      const one = await runLucius(['sweep', '--job-id', byId.job.jobId, '--tenant', tenantId, '--json'], env);
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout)).toEqual({ jobId: byId.job.jobId, repair: 'ORCHESTRATION_STARTED' });
      expect(await durable.status(byId.job.jobId)).toMatchObject({
        name: 'jobOrchestrator',
        runtimeStatus: 'Running',
      });
      expect(await durable.status(byPartition.job.jobId)).toBeUndefined();

      const month = `${admittedAt.getUTCFullYear()}${String(admittedAt.getUTCMonth() + 1).padStart(2, '0')}`;
      const partition = await runLucius(['dispatch', '--partition', `${tenantId}#${month}`, '--json'], env);
      expect(partition.code).toBe(0);
      // Both of the tenant's jobs in flight that month are examined; only the second needed a start.
      expect(JSON.parse(partition.stdout)).toMatchObject({
        examined: 2,
        repaired: { ORCHESTRATION_STARTED: 1 },
        errors: 0,
      });
      expect(await durable.status(byPartition.job.jobId)).toMatchObject({ runtimeStatus: 'Running' });
      expect((await ledger.getJob(byPartition.job.jobId))?.job.repairs).toEqual([
        expect.objectContaining({ kind: 'ORCHESTRATION_STARTED', by: 'lucius dispatch' }),
      ]);

      const elsewhere = await runLucius(
        ['sweep', '--job-id', byId.job.jobId, '--tenant', 'someone-else'],
        env,
      );
      expect(elsewhere.code).toBe(3);
    });

    it('cancels the selected jobs in bulk, lists them, and watches one to its end', async () => {
      const tenantId = uniqueTenantId();
      const records = [0, 1, 2].map((i) =>
        admission({ tenantId, inputRef: `blob://cancel-${i}` }, at(i * HOUR)),
      );
      for (const record of records) await ledger.admit(record, LIMITS, at());
      await ledger.applyJobEvent((records[2] as (typeof records)[number]).job.jobId, { type: 'START' }, at());

      const cancelled = await runLucius(
        [
          'jobs',
          'cancel',
          '--filter',
          '--tenant',
          tenantId,
          '--status',
          'ACCEPTED',
          '--reason',
          'cleanup',
          '--json',
        ],
        env,
      );
      expect(cancelled.code).toBe(0);
      expect(JSON.parse(cancelled.stdout)).toMatchObject({ matched: 2, applied: 2, skipped: 0, failed: 0 });

      const listed = await runLucius(['jobs', 'list', '--tenant', tenantId, '--json'], env);
      const { items } = JSON.parse(listed.stdout) as { items: Array<{ jobId: string; status: string }> };
      expect(items.map((j) => [j.jobId, j.status])).toEqual([
        [records[2]?.job.jobId, 'RUNNING'],
        [records[1]?.job.jobId, 'CANCELLED'],
        [records[0]?.job.jobId, 'CANCELLED'],
      ]);
      const got = await runLucius(['jobs', 'get', records[0]?.job.jobId ?? '', '--json'], env);
      expect(JSON.parse(got.stdout)).toMatchObject({ job: { status: 'CANCELLED', cancelReason: 'cleanup' } });

      const watched = await runLucius(
        ['jobs', 'watch', records[0]?.job.jobId ?? '', '--tenant', tenantId],
        env,
      );
      expect(watched.code).toBe(1);
      expect(watched.stdout).toMatch(/job \S+ {2}CANCELLED/);
    });

    it('reports jobs it could not act on with exit 4', async () => {
      const tenantId = uniqueTenantId();
      await failedJob(tenantId, at());
      await server.close();
      const result = await runLucius(['jobs', 'redrive', '--filter', '--tenant', tenantId, '--json'], env);
      expect(result.code).toBe(4);
      expect(JSON.parse(result.stdout)).toMatchObject({ matched: 1, applied: 0, failed: 1 });
      server = await serve((origin) => createDurableHttpApi(durable, { taskHub: 'Lucius', baseUrl: origin }));
    });
  });

  describe('lucius loop on Azurite', () => {
    const LANES = 4;
    let table: string;
    let leases: TableShardLeases;
    let loops: Running[];

    beforeEach(() => {
      table = uniqueTableName('loops');
      leases = new TableShardLeases({ connection: { connectionString: testTableConnectionString() }, table });
      loops = [];
    });

    afterEach(async () => {
      for (const loop of loops)
        if (loop.child.exitCode === null && loop.child.signalCode === null) loop.child.kill('SIGKILL');
      await Promise.all(loops.map((loop) => loop.finished));
    });

    function startLoop(owner: string): Running {
      const loop = startLucius(['loop', '--interval', '1', '--kind', 'lease', '--owner', owner, '--json'], {
        ...ledgerEnv(table),
        LUCIUS_LANE_COUNT: String(LANES),
        LUCIUS_SHARD_LEASE_SECONDS: '5',
      });
      loops.push(loop);
      return loop;
    }

    /** The lane leases unexpired at the moment they are read, checked to have one owner per shard. */
    async function liveOwners(): Promise<Map<string, number[]>> {
      const all: readonly ShardLease[] = await leases.list().catch(() => []);
      const now = Date.now();
      const live = all.filter((l) => !isMemberSlot(l) && Date.parse(l.expiresAt) > now);
      const shards = live.map((l) => l.shard);
      expect(new Set(shards).size).toBe(shards.length);
      expect(shards.every((s) => s >= 0 && s < LANES)).toBe(true);
      const byOwner = new Map<string, number[]>();
      for (const lease of live) byOwner.set(lease.owner, [...(byOwner.get(lease.owner) ?? []), lease.shard]);
      return byOwner;
    }

    async function until(
      what: string,
      holds: (byOwner: Map<string, number[]>) => boolean,
      loopsToCheck: Running[],
    ): Promise<void> {
      await eventually(
        what,
        async () => {
          for (const loop of loopsToCheck)
            if (loop.child.exitCode !== null) throw new Error(`a loop exited: ${loop.stderr()}`);
          return holds(await liveOwners()) ? true : undefined;
        },
        300,
        100,
      );
    }

    it('splits the shards between two loops; the survivor owns them all once the dead one lapses', async () => {
      const a = startLoop('loop-a');
      await until('loop-a owns every shard', (o) => o.get('loop-a')?.length === LANES, [a]);

      const b = startLoop('loop-b');
      await until(
        'the loops split the shards',
        (o) => o.get('loop-a')?.length === LANES / 2 && o.get('loop-b')?.length === LANES / 2,
        [a, b],
      );

      b.child.kill('SIGKILL');
      await b.finished;
      await until(
        'loop-a owns every shard again',
        (o) => o.get('loop-a')?.length === LANES && !o.has('loop-b'),
        [a],
      );

      a.child.kill('SIGTERM');
      const stopped = await a.finished;
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toContain('"event":"loop.stopped"');
      expect((await liveOwners()).size).toBe(0);
    });
  });
});
