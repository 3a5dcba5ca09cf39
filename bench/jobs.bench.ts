/**
 * End-to-end job benchmark (`npm run bench`, last). Prints figures; never fails on a time.
 *
 * `node dist/launcher/cli.js up --no-workers` (what `npm start` runs: Azurite with data in a fresh
 * temporary folder, the Service Bus emulator, devhost hosting this app with the ledger backend and
 * the Table durable store) runs as a child process on free ports; the demo workers run in this
 * process in `instant` mode on the connection string `up` printed. 2-step jobs (`OCR->EMBEDDING`)
 * are submitted with POST /api/v1/orchestrate across 8 tenants, a bounded number in flight, and
 * each is polled (GET /api/v1/jobs/{id}) until SUCCEEDED. Printed:
 *  - jobs per second over the whole run;
 *  - job latency p50/p95/p99: from just before the POST to the first poll that sees SUCCEEDED (so
 *    it includes up to one poll interval, BENCH_POLL_MS);
 *  - Table Storage operations per job: every HTTP request the devhost process sends to Azurite
 *    (the app's ledger and the durable engine's table store), counted in that process by a preload
 *    script on Node's `http.client.request.start` diagnostics channel (no proxy, so no extra hop),
 *    grouped by table; shown with and without the status polls (table ops per poll are measured
 *    after the run on a finished job), with the idle rate (timers, work-queue polling) beside them;
 *  - Service Bus messages per job: directives the demo workers received plus the replies they sent
 *    (`workers.stats`);
 *  - orchestrator episodes (replays) per job: the OrchestratorStarted frames in the history the
 *    Table durable store holds (one per episode; the HTTP API's `showHistory` leaves them out), read
 *    from this process once every orchestration has completed.
 *
 * A warm-up round runs first and is not reported.
 * Knobs: BENCH_JOBS (default 200), BENCH_CONCURRENCY (default 32), BENCH_POLL_MS (default 25).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTableConnectionString } from '../devhost/azurite';
import { HistoryEventType, TableDurableStore } from '../devhost/durable/engine';
import { startDemoWorkers, type DemoWorkers, type WorkerStats } from '../workers/demo-workers';
import { percentile, runBounded } from './measure';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 25);
const WARM_UP = 20;
const TENANTS = 8;
const KEY = 'bench-key';
const TASK_HUB = 'LuciusBench';
const CLI = join(__dirname, '..', 'launcher', 'cli.js');
/** Bounds on every wait, so a stuck run ends with an error instead of hanging. */
const START_POLLS = 1_200;
const JOB_POLL_LIMIT_MS = 60_000;
const COUNT_POLLS = 500;
const POLLS_PER_POLL_SAMPLE = 20;
const IDLE_MS = 2_000;

/**
 * Loaded into the devhost process (and, through NODE_OPTIONS, into the Azurite child it spawns,
 * where it does nothing). Counts requests to the development account per table; on SIGUSR2 writes
 * the counts to BENCH_TABLE_COUNT_FILE.
 */
const PRELOAD = `'use strict';
if (/cli\\.js$/.test(process.argv[1] || '')) {
  const dc = require('node:diagnostics_channel');
  const fs = require('node:fs');
  const file = process.env.BENCH_TABLE_COUNT_FILE;
  const byTable = Object.create(null);
  let seq = 0;
  dc.subscribe('http.client.request.start', ({ request }) => {
    const match = /^\\/devstoreaccount1\\/([^/?(]*)/.exec(request.path || '');
    if (match === null) return;
    const table = decodeURIComponent(match[1]) || '(account)';
    byTable[table] = (byTable[table] || 0) + 1;
  });
  process.on('SIGUSR2', () => {
    seq += 1;
    fs.writeFileSync(file + '.tmp', JSON.stringify({ seq, byTable }));
    fs.renameSync(file + '.tmp', file);
  });
}
`;

type TableOps = Record<string, number>;

interface Up {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  readonly serviceBusConnection: string;
  readonly tableConnection: string;
  output(): string;
  tableOps(): Promise<TableOps>;
  stop(): Promise<void>;
}

interface Run {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly jobIds: string[];
  /** The tenant of each job in jobIds. */
  readonly tenants: string[];
  readonly polls: number;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startUp(dataDir: string): Promise<Up> {
  const preload = join(dataDir, 'table-counter.cjs');
  const countFile = join(dataDir, 'table-ops.json');
  writeFileSync(preload, PRELOAD);
  const child = spawn(
    process.execPath,
    [CLI, 'up', '--port', '0', '--servicebus-port', '0', '--data', join(dataDir, 'data'), '--no-workers'],
    {
      env: {
        ...process.env,
        DEVHOST_FUNCTION_KEY: KEY,
        LUCIUS_TASK_HUB: TASK_HUB,
        BENCH_TABLE_COUNT_FILE: countFile,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${preload}"`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  let seq = 0;
  const tableOps = async (): Promise<TableOps> => {
    child.kill('SIGUSR2');
    for (let poll = 0; poll < COUNT_POLLS; poll += 1) {
      if (existsSync(countFile)) {
        const counts = JSON.parse(readFileSync(countFile, 'utf8')) as { seq: number; byTable: TableOps };
        if (counts.seq > seq) {
          seq = counts.seq;
          return counts.byTable;
        }
      }
      await delay(10);
    }
    throw new Error('devhost wrote no table counts');
  };
  try {
    for (let poll = 0; poll < START_POLLS; poll += 1) {
      const apiUrl = /^Lucius is running at (http:\/\/localhost:\d+\/api)\b/m.exec(output)?.[1];
      if (apiUrl !== undefined) {
        const serviceBus = /^Service Bus emulator:\s+(\S+)$/m.exec(output)?.[1];
        const table = /^Azurite Table service: (http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(output)?.[1];
        if (serviceBus === undefined || table === undefined)
          throw new Error(`up printed no emulator connection string or Azurite endpoint:\n${output}`);
        return {
          child,
          apiUrl,
          serviceBusConnection: serviceBus,
          tableConnection: devTableConnectionString(table),
          output: () => output,
          tableOps,
          stop,
        };
      }
      if (!alive()) throw new Error(`up exited before Lucius was running:\n${output}`);
      await delay(50);
    }
    throw new Error(`up did not say Lucius is running:\n${output}`);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function submit(up: Up, tenant: string, n: number): Promise<string> {
  const response = await fetch(`${up.apiUrl}/v1/orchestrate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': KEY },
    body: JSON.stringify({
      tenant_id: tenant,
      request_type: 'OCR->EMBEDDING',
      input_ref: `blob://in/bench-${n}.pdf`,
      output_ref: `blob://out/bench-${n}`,
      payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
      schema_version: 'v1',
    }),
  });
  const body = (await response.json()) as { jobId?: string };
  if (response.status !== 202 || body.jobId === undefined)
    throw new Error(`orchestrate answered ${response.status}: ${JSON.stringify(body)}`);
  return body.jobId;
}

async function jobStatus(up: Up, tenant: string, jobId: string): Promise<string | undefined> {
  const response = await fetch(`${up.apiUrl}/v1/jobs/${jobId}?tenant_id=${tenant}`, {
    headers: { 'x-functions-key': KEY },
  });
  const body = (await response.json()) as { status?: string };
  if (response.status !== 200) throw new Error(`job ${jobId} answered ${response.status}`);
  return body.status;
}

/** Polls until the job SUCCEEDED; returns the number of polls. Throws if it ends otherwise. */
async function untilSucceeded(up: Up, tenant: string, jobId: string): Promise<number> {
  const deadline = Date.now() + JOB_POLL_LIMIT_MS;
  for (let polls = 1; ; polls += 1) {
    const status = await jobStatus(up, tenant, jobId);
    if (status === 'SUCCEEDED') return polls;
    if (status === 'FAILED' || status === 'CANCELLED' || Date.now() > deadline)
      throw new Error(`job ${jobId} is ${String(status)} after ${polls} polls`);
    await delay(POLL_MS);
  }
}

async function runJobs(up: Up, total: number, offset: number): Promise<Run> {
  const jobIds: string[] = [];
  const tenants: string[] = [];
  let polls = 0;
  const { seconds, latenciesMs } = await runBounded(total, CONCURRENCY, async (i) => {
    const tenant = `bench-t${i % TENANTS}`;
    const jobId = await submit(up, tenant, offset + i);
    // Read `polls` only after the await: `polls += await …` would read it before, and concurrent
    // jobs would overwrite each other's counts.
    const jobPolls = await untilSucceeded(up, tenant, jobId);
    polls += jobPolls;
    jobIds.push(jobId);
    tenants.push(tenant);
  });
  return { seconds, latenciesMs, jobIds, tenants, polls };
}

/** OrchestratorStarted frames per job, once its orchestration (instance id = job id) has completed. */
async function episodes(store: TableDurableStore, jobIds: readonly string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const jobId of jobIds) {
    const deadline = Date.now() + JOB_POLL_LIMIT_MS;
    let record = await store.getInstance(jobId);
    while (record?.runtimeStatus !== 'Completed') {
      if (Date.now() > deadline) throw new Error(`orchestration ${jobId} is ${record?.runtimeStatus}`);
      await delay(POLL_MS);
      record = await store.getInstance(jobId);
    }
    const history = await store.getHistory(jobId, record.executionId);
    counts.push(history.filter((h) => h.event.EventType === HistoryEventType.OrchestratorStarted).length);
  }
  return counts;
}

function diff(after: TableOps, before: TableOps): TableOps {
  return Object.fromEntries(Object.entries(after).map(([t, n]) => [t, n - (before[t] ?? 0)]));
}

function sum(ops: TableOps): number {
  return Object.values(ops).reduce((total, n) => total + n, 0);
}

function messages(after: WorkerStats, before: WorkerStats): { directives: number; replies: number } {
  const replies = (s: WorkerStats) => s.replies.ack + s.replies.heartbeat + s.replies.result;
  return { directives: after.received - before.received, replies: replies(after) - replies(before) };
}

async function bench(up: Up, workers: DemoWorkers): Promise<void> {
  const store = new TableDurableStore({
    connection: { connectionString: up.tableConnection },
    tablePrefix: TASK_HUB,
  });
  const warmUp = await runJobs(up, WARM_UP, 0); // JIT, sockets, tables, links
  await episodes(store, warmUp.jobIds); // their orchestrations' last table ops land before counting
  const opsBefore = await up.tableOps();
  const statsBefore = workers.stats;
  const run = await runJobs(up, JOBS, WARM_UP);
  const replays = await episodes(store, run.jobIds); // also waits for every orchestration to complete
  const ops = diff(await up.tableOps(), opsBefore);
  const sent = messages(workers.stats, statsBefore);

  // Table ops of one status poll, on a finished job; then the idle rate with nothing submitted.
  const [sample, tenant] = [run.jobIds[0] as string, run.tenants[0] as string];
  const pollBefore = await up.tableOps();
  for (let i = 0; i < POLLS_PER_POLL_SAMPLE; i += 1) {
    await jobStatus(up, tenant, sample);
  }
  const perPoll = sum(diff(await up.tableOps(), pollBefore)) / POLLS_PER_POLL_SAMPLE;
  const idleBefore = await up.tableOps();
  await delay(IDLE_MS);
  const idlePerSecond = sum(diff(await up.tableOps(), idleBefore)) / (IDLE_MS / 1000);

  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  const perJob = (n: number) => (n / JOBS).toFixed(1).padStart(9);
  const total = sum(ops);
  console.log(
    `\njobs: ${JOBS} of OCR->EMBEDDING (instant demo workers), concurrency: ${CONCURRENCY}, ` +
      `${TENANTS} tenants, poll every ${POLL_MS} ms, node ${process.version}, devhost up as a child process`,
  );
  console.log(
    `${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
      `${'polls/job'.padStart(11)}${'table/job'.padStart(11)}${'w/o polls'.padStart(11)}` +
      `${'sb msgs/job'.padStart(13)}${'episodes min/mean/max'.padStart(23)}`,
  );
  const mean = replays.reduce((s, n) => s + n, 0) / replays.length;
  console.log(
    `${(JOBS / run.seconds).toFixed(1).padStart(9)}${[50, 95, 99].map((p) => percentile(sorted, p).toFixed(1).padStart(9)).join('')}` +
      `${perJob(run.polls).padStart(11)}${perJob(total).padStart(11)}${perJob(total - perPoll * run.polls).padStart(11)}` +
      `${perJob(sent.directives + sent.replies).padStart(13)}` +
      `${`${Math.min(...replays)}/${mean.toFixed(2)}/${Math.max(...replays)}`.padStart(23)}`,
  );
  const byTable = Object.entries(ops)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `${t} ${(n / JOBS).toFixed(1)}`)
    .join(', ');
  console.log(
    `table ops: HTTP requests from the devhost process to Azurite (app ledger + durable table store), ` +
      `${perPoll.toFixed(1)} per status poll, ${idlePerSecond.toFixed(1)}/s when idle; per job by table: ${byTable}`,
  );
  console.log(
    `sb msgs: ${perJob(sent.directives).trim()} directives received + ${perJob(sent.replies).trim()} replies sent ` +
      `per job (workers.stats); episodes: OrchestratorStarted frames in each job's stored history`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lucius-bench-jobs-'));
  let up: Up | undefined;
  let workers: DemoWorkers | undefined;
  try {
    up = await startUp(dir);
    workers = await startDemoWorkers({
      connectionString: up.serviceBusConnection,
      modes: 'instant',
      maxConcurrentCalls: 16,
    });
    await bench(up, workers);
  } catch (error) {
    if (up !== undefined) console.error(`devhost output:\n${up.output()}`);
    throw error;
  } finally {
    await workers?.stop();
    await up?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
