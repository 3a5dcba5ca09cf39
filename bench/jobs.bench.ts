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
 *    grouped by table (bench/launch-up.ts); shown with and without the status polls (table ops per poll are measured
 *    after the run on a finished job), with the idle rate (timers, work-queue polling) beside them;
 *  - Service Bus messages per job: directives the demo workers received plus the replies they sent
 *    (`workers.stats`);
 *  - orchestrator episodes (replays) per job: the OrchestratorStarted frames in the history the
 *    Table durable store holds (one per episode; the HTTP API's `showHistory` leaves them out), read
 *    from this process once every orchestration has completed.
 *
 * The app runs in `LUCIUS_AUTH_MODE=dev`, as `npm start` does: each request carries a bearer token of
 * the dev issuer in `up`'s data folder for the bench tenants, so token validation is in the figures.
 * The per-caller rate limits are off (LUCIUS_RATE_LIMITS=off): one caller polling every
 * BENCH_POLL_MS with BENCH_CONCURRENCY jobs in flight is far above their defaults, and throttling
 * would measure the limits, not the jobs.
 *
 * A warm-up round runs first and is not reported.
 * Knobs: BENCH_JOBS (default 200), BENCH_CONCURRENCY (default 32), BENCH_POLL_MS (default 25).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { HistoryEventType, TableDurableStore } from '../devhost/durable/engine';
import { startDemoWorkers, type DemoWorkers, type WorkerStats } from '../workers/demo-workers';
import { readJob, submitJob, tableOpsSince, totalTableOps, withUp, type Up } from './launch-up';
import { pollUntil, runBounded, runFigures, spread, type RunFigures, type Spread } from './measure';
import { writeResults } from './results';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 25);
const WARM_UP = 20;
const TENANTS = 8;
const KEY = 'bench-key';
const TASK_HUB = 'LuciusBench';
/** Bound on every wait, so a stuck run ends with an error instead of hanging. */
const JOB_POLL_LIMIT_MS = 60_000;
const POLLS_PER_POLL_SAMPLE = 20;
const IDLE_MS = 2_000;

/** What the run writes to the results folder (bench/summary.bench.ts reads it); per job unless said otherwise. */
export interface JobsFigures extends RunFigures {
  readonly jobs: number;
  readonly concurrency: number;
  readonly pollMs: number;
  readonly taskHub: string;
  readonly pollsPerJob: number;
  readonly tableOpsPerJob: number;
  readonly tableOpsPerPoll: number;
  readonly tableOpsWithoutPolls: number;
  readonly tableOpsPerJobByTable: Record<string, number>;
  readonly idleTableOpsPerSecond: number;
  readonly directivesPerJob: number;
  readonly repliesPerJob: number;
  readonly episodes: Spread;
  readonly activitiesPerJob: number;
  readonly eventsRaisedPerJob: number;
}

interface Run {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly jobIds: string[];
  /** The tenant of each job in jobIds. */
  readonly tenants: string[];
  readonly polls: number;
}

function tenantName(index: number): string {
  return `bench-t${index}`;
}

/** Polls until the job SUCCEEDED; returns the number of polls. Throws if it ends otherwise. */
function untilSucceeded(up: Up, tenant: string, jobId: string): Promise<number> {
  return pollUntil(`job ${jobId}`, async () => (await readJob(up, tenant, jobId)).status, {
    done: 'SUCCEEDED',
    failed: ['FAILED', 'CANCELLED'],
    pollMs: POLL_MS,
    limitMs: JOB_POLL_LIMIT_MS,
  });
}

async function runJobs(up: Up, total: number, offset: number): Promise<Run> {
  const jobIds: string[] = [];
  const tenants: string[] = [];
  let polls = 0;
  const { seconds, latenciesMs } = await runBounded(total, CONCURRENCY, async (i) => {
    const tenant = tenantName(i % TENANTS);
    const jobId = await submitJob(up, tenant, `bench-${offset + i}`);
    // Read `polls` only after the await: `polls += await …` would read it before, and concurrent
    // jobs would overwrite each other's counts.
    const jobPolls = await untilSucceeded(up, tenant, jobId);
    polls += jobPolls;
    jobIds.push(jobId);
    tenants.push(tenant);
  });
  return { seconds, latenciesMs, jobIds, tenants, polls };
}

/** Per job, once its orchestration (instance id = job id) has completed: OrchestratorStarted frames (episodes), activities scheduled and events raised. */
async function episodes(
  store: TableDurableStore,
  jobIds: readonly string[],
  histories: { activities: number; events: number } = { activities: 0, events: 0 },
): Promise<number[]> {
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
    histories.activities += history.filter(
      (h) => h.event.EventType === HistoryEventType.TaskScheduled,
    ).length;
    histories.events += history.filter((h) => h.event.EventType === HistoryEventType.EventRaised).length;
  }
  return counts;
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
  const histories = { activities: 0, events: 0 };
  const replays = spread(await episodes(store, run.jobIds, histories)); // also waits for every orchestration to complete
  const ops = tableOpsSince(await up.tableOps(), opsBefore);
  const sent = messages(workers.stats, statsBefore);

  // Table ops of one status poll, on a finished job; then the idle rate with nothing submitted.
  const [sample, tenant] = [run.jobIds[0] as string, run.tenants[0] as string];
  const pollBefore = await up.tableOps();
  for (let i = 0; i < POLLS_PER_POLL_SAMPLE; i += 1) {
    await readJob(up, tenant, sample);
  }
  const perPoll = totalTableOps(tableOpsSince(await up.tableOps(), pollBefore)) / POLLS_PER_POLL_SAMPLE;
  const idleBefore = await up.tableOps();
  await delay(IDLE_MS);
  const idlePerSecond = totalTableOps(tableOpsSince(await up.tableOps(), idleBefore)) / (IDLE_MS / 1000);

  const { perSecond, p50, p95, p99 } = runFigures(JOBS, run);
  const perJob = (n: number) => (n / JOBS).toFixed(1).padStart(9);
  const total = totalTableOps(ops);
  console.log(
    `\njobs: ${JOBS} of OCR->EMBEDDING (instant demo workers), concurrency: ${CONCURRENCY}, ` +
      `${TENANTS} tenants, poll every ${POLL_MS} ms, node ${process.version}, devhost up as a child process`,
  );
  console.log(
    `${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
      `${'polls/job'.padStart(11)}${'table/job'.padStart(11)}${'w/o polls'.padStart(11)}` +
      `${'sb msgs/job'.padStart(13)}${'episodes min/mean/max'.padStart(23)}`,
  );
  console.log(
    `${[perSecond, p50, p95, p99].map((v) => v.toFixed(1).padStart(9)).join('')}` +
      `${perJob(run.polls).padStart(11)}${perJob(total).padStart(11)}${perJob(total - perPoll * run.polls).padStart(11)}` +
      `${perJob(sent.directives + sent.replies).padStart(13)}` +
      `${`${replays.min}/${replays.mean.toFixed(2)}/${replays.max}`.padStart(23)}`,
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
  const figures: JobsFigures = {
    jobs: JOBS,
    concurrency: CONCURRENCY,
    pollMs: POLL_MS,
    taskHub: TASK_HUB,
    perSecond,
    p50,
    p95,
    p99,
    pollsPerJob: run.polls / JOBS,
    tableOpsPerJob: total / JOBS,
    tableOpsPerPoll: perPoll,
    tableOpsWithoutPolls: (total - perPoll * run.polls) / JOBS,
    tableOpsPerJobByTable: Object.fromEntries(Object.entries(ops).map(([t, n]) => [t, n / JOBS])),
    idleTableOpsPerSecond: idlePerSecond,
    directivesPerJob: sent.directives / JOBS,
    repliesPerJob: sent.replies / JOBS,
    episodes: replays,
    activitiesPerJob: histories.activities / JOBS,
    eventsRaisedPerJob: histories.events / JOBS,
  };
  console.log(`figures written to ${writeResults('jobs', figures)}`);
}

async function main(): Promise<void> {
  const options = {
    functionKey: KEY,
    env: { LUCIUS_TASK_HUB: TASK_HUB, LUCIUS_RATE_LIMITS: 'off' },
    tenants: Array.from({ length: TENANTS }, (_, t) => tenantName(t)),
    countTableOps: true,
  };
  await withUp('lucius-bench-jobs-', options, async (up) => {
    const workers = await startDemoWorkers({
      connectionString: up.serviceBusConnection,
      modes: 'instant',
      maxConcurrentCalls: 16,
    });
    try {
      await bench(up, workers);
    } finally {
      await workers.stop();
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
