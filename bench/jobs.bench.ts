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
 *    from this process once every orchestration has completed;
 *  - function executions per job by trigger kind, their mean wall duration and their mean overlap:
 *    devhost's execution accounting (GET /admin/host/executions, master key), a snapshot before
 *    and after the measured round. The status polls (the `getJob` function) and the timers
 *    (sweepers: per hour, not per job) are shown apart and left out of the job's executions. The
 *    overlap is the one Flex can bill: Flex runs HTTP functions, Durable Functions and each Service
 *    Bus function on instances of their own, so it is the job's execution time ÷ the busy time of
 *    each group, summed; each HTTP function on its own and orchestrations apart from activities,
 *    which shares less than Flex may (a lower bound on the overlap). The host-wide overlap is shown
 *    beside it. The devhost process's highest RSS sample is kept (the cost model's memory estimate
 *    for the Consumption plan).
 *
 * The app runs in `LUCIUS_AUTH_MODE=dev`, as `npm start` does: each request carries a bearer token of
 * the dev issuer in `up`'s data folder for the bench tenants, so token validation is in the figures.
 * The per-caller rate limits are off (LUCIUS_RATE_LIMITS=off): one caller polling every
 * BENCH_POLL_MS with BENCH_CONCURRENCY jobs in flight is far above their defaults, and throttling
 * would measure the limits, not the jobs.
 *
 * A warm-up round runs first and is not reported.
 *
 * Then a second, smaller measured round with the workers restarted with lazy ACK (`ackAfterMs`
 * BENCH_LAZY_ACK_AFTER_MS, 250: instant work sends its RESULT alone, which implies the ACK) counts
 * the same per job (table ops with and without the status polls, by table; Service Bus messages, by
 * reply kind; executions by kind; episodes) and writes them under `lazyAck`; its line is printed
 * beside the main one. The main figures stay those of the round with ACKing workers (issue 13's).
 * Knobs: BENCH_JOBS (default 200), BENCH_CONCURRENCY (default 32), BENCH_POLL_MS (default 25),
 * BENCH_LAZY_JOBS (default 100; 0 skips the lazy round), BENCH_LAZY_ACK_AFTER_MS (default 250).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { HistoryEventType, TableDurableStore } from '../devhost/durable/engine';
import {
  executionsBetween,
  type ExecutionInterval,
  type ExecutionSnapshot,
} from '../devhost/common/execution-stats';
import { startDemoWorkers, type DemoWorkers, type WorkerStats } from '../workers/demo-workers';
import type { ReplyKind } from '../workers/replies';
import { readJob, submitJob, tableOpsSince, totalTableOps, withUp, type Up } from './launch-up';
import { pollUntil, runBounded, runFigures, spread, type RunFigures, type Spread } from './measure';
import { writeResults } from './results';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 25);
const LAZY_JOBS = Number(process.env.BENCH_LAZY_JOBS ?? 100);
const LAZY_ACK_AFTER_MS = Number(process.env.BENCH_LAZY_ACK_AFTER_MS ?? 250);
const WARM_UP = 20;
const TENANTS = 8;
const KEY = 'bench-key';
const TASK_HUB = 'LuciusBench';
/** Bound on every wait, so a stuck run ends with an error instead of hanging. */
const JOB_POLL_LIMIT_MS = 60_000;
const POLLS_PER_POLL_SAMPLE = 20;
const IDLE_MS = 2_000;
/** The function answering the status polls (GET /v1/jobs/{id}): its executions are the polls. */
const STATUS_POLL_FUNCTION = 'getJob';
/** Executions that are not a job's: the sweepers' schedules. */
const HOST_KINDS: readonly string[] = ['timer'];

/** The jobs' executions as devhost counted them (bench/summary.bench.ts hands them to the cost model). */
export interface ExecutionFigures {
  /** Per job, by trigger kind (http, orchestration, activity, serviceBus), status polls left out. */
  readonly perJobByKind: Record<string, number>;
  /** Mean wall duration by kind (ms), status polls left out. */
  readonly meanDurationMsByKind: Record<string, number>;
  /** Over a job's executions (every kind but timers, status polls left out), ms. */
  readonly meanDurationMs: number;
  /** The job's execution time ÷ the busy time of its Flex scaling groups (see above); at least 1. */
  readonly meanOverlap: number;
  /** That busy time, summed over the groups. */
  readonly busySeconds: number;
  /** Per group (http, orchestration, activity, serviceBus): its execution time ÷ its busy time. */
  readonly overlapByGroup: Record<string, number>;
  /** The host's: every execution's duration (polls and timers too) ÷ its busy time. */
  readonly hostOverlap: number;
  readonly statusPollsPerJob: number;
  readonly statusPollMeanMs: number;
  /** Timer executions in the measured round (not per job). */
  readonly timerExecutions: number;
  readonly failedExecutions: number;
  /** The longest execution by kind since devhost started (warm-up included), ms. */
  readonly maxDurationMsByKind: Record<string, number>;
  /** The devhost process's highest RSS sample (it also runs the Service Bus emulator), bytes. */
  readonly maxRssBytes: number;
}

/** What one measured round counted, per job unless said otherwise. */
export interface RoundFigures extends RunFigures {
  readonly jobs: number;
  readonly pollsPerJob: number;
  readonly tableOpsPerJob: number;
  readonly tableOpsWithoutPolls: number;
  readonly tableOpsPerJobByTable: Record<string, number>;
  /** By table, the status polls' ops taken off (the per-poll sample's, by table, × the polls). */
  readonly tableOpsWithoutPollsByTable: Record<string, number>;
  readonly directivesPerJob: number;
  readonly repliesPerJob: number;
  readonly repliesPerJobByKind: Readonly<Record<ReplyKind, number>>;
  readonly episodes: Spread;
  readonly activitiesPerJob: number;
  readonly eventsRaisedPerJob: number;
  readonly executions: ExecutionFigures;
}

/** The round with lazy-ACK workers (their `ackAfterMs`). */
export interface LazyAckFigures extends RoundFigures {
  readonly ackAfterMs: number;
}

/** What the run writes to the results folder (bench/summary.bench.ts reads it); per job unless said otherwise. */
export interface JobsFigures extends RoundFigures {
  readonly concurrency: number;
  readonly pollMs: number;
  readonly taskHub: string;
  readonly tableOpsPerPoll: number;
  readonly tableOpsPerPollByTable: Record<string, number>;
  readonly idleTableOpsPerSecond: number;
  /** Absent when BENCH_LAZY_JOBS=0 (and in figures written before the lazy round existed). */
  readonly lazyAck?: LazyAckFigures;
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

/** devhost's execution accounting so far (GET /admin/host/executions; the bench key is the master key). */
async function readExecutions(up: Up): Promise<ExecutionSnapshot> {
  const response = await fetch(`${new URL(up.apiUrl).origin}/admin/host/executions`, {
    headers: { 'x-functions-key': KEY },
  });
  if (response.status !== 200) throw new Error(`GET /admin/host/executions answered ${response.status}`);
  return (await response.json()) as ExecutionSnapshot;
}

/** The measured round's executions per job, status polls and timers apart. */
function executionFigures(
  interval: ExecutionInterval,
  after: ExecutionSnapshot,
  jobs: number,
): ExecutionFigures {
  const polls = interval.byFunction[STATUS_POLL_FUNCTION] ?? { count: 0, durationMs: 0 };
  const jobKinds = Object.entries(interval.byKind)
    .filter(([kind]) => !HOST_KINDS.includes(kind))
    .map(([kind, tally]) =>
      kind === 'http'
        ? ([
            kind,
            { count: tally.count - polls.count, durationMs: tally.durationMs - polls.durationMs },
          ] as const)
        : ([kind, tally] as const),
    );
  const count = jobKinds.reduce((sum, [, t]) => sum + t.count, 0);
  const durationMs = jobKinds.reduce((sum, [, t]) => sum + t.durationMs, 0);
  // Busy time by Flex scaling group: each of the job's HTTP and Service Bus functions on its own
  // (Flex shares HTTP instances between HTTP functions: counting each apart shares less), and the
  // orchestrations and the activities each by kind.
  const groups = new Map<string, { durationMs: number; busyMs: number }>();
  const add = (group: string, t: { durationMs: number; busyMs: number }): void => {
    const sum = groups.get(group) ?? { durationMs: 0, busyMs: 0 };
    groups.set(group, { durationMs: sum.durationMs + t.durationMs, busyMs: sum.busyMs + t.busyMs });
  };
  for (const [name, t] of Object.entries(interval.byFunction))
    if ((t.kind === 'http' && name !== STATUS_POLL_FUNCTION) || t.kind === 'serviceBus') add(t.kind, t);
  for (const kind of ['orchestration', 'activity']) {
    const t = interval.byKind[kind];
    if (t !== undefined) add(kind, t);
  }
  const busyMs = [...groups.values()].reduce((sum, g) => sum + g.busyMs, 0);
  return {
    perJobByKind: Object.fromEntries(jobKinds.map(([kind, t]) => [kind, t.count / jobs])),
    meanDurationMsByKind: Object.fromEntries(
      jobKinds.map(([kind, t]) => [kind, t.count === 0 ? 0 : t.durationMs / t.count]),
    ),
    meanDurationMs: count === 0 ? 0 : durationMs / count,
    meanOverlap: busyMs > 0 ? Math.max(1, durationMs / busyMs) : 1,
    busySeconds: busyMs / 1000,
    overlapByGroup: Object.fromEntries(
      [...groups].map(([group, g]) => [group, g.busyMs > 0 ? g.durationMs / g.busyMs : 1]),
    ),
    hostOverlap: interval.meanOverlap ?? 1,
    statusPollsPerJob: polls.count / jobs,
    statusPollMeanMs: polls.count === 0 ? 0 : polls.durationMs / polls.count,
    timerExecutions: HOST_KINDS.reduce((sum, kind) => sum + (interval.byKind[kind]?.count ?? 0), 0),
    failedExecutions: interval.total.failed,
    maxDurationMsByKind: Object.fromEntries(
      Object.entries(after.byKind).map(([kind, t]) => [kind, t.maxDurationMs]),
    ),
    maxRssBytes: after.memory.maxRssBytes,
  };
}

function messages(
  after: WorkerStats,
  before: WorkerStats,
): { directives: number; replies: number; byKind: Record<ReplyKind, number> } {
  const byKind = {
    ack: after.replies.ack - before.replies.ack,
    heartbeat: after.replies.heartbeat - before.replies.heartbeat,
    result: after.replies.result - before.replies.result,
  };
  return {
    directives: after.received - before.received,
    replies: byKind.ack + byKind.heartbeat + byKind.result,
    byKind,
  };
}

/** What a measured round counted, before the status polls are taken off. */
interface Measured {
  readonly jobs: number;
  readonly run: Run;
  readonly ops: Record<string, number>;
  readonly sent: ReturnType<typeof messages>;
  readonly replays: Spread;
  readonly histories: { readonly activities: number; readonly events: number };
  readonly executed: ExecutionFigures;
}

/** One measured round of `jobs` jobs on `workers`, every orchestration completed before counting stops. */
async function measureRound(
  up: Up,
  store: TableDurableStore,
  workers: DemoWorkers,
  jobs: number,
  offset: number,
): Promise<Measured> {
  const opsBefore = await up.tableOps();
  const statsBefore = workers.stats;
  const executionsBefore = await readExecutions(up);
  const run = await runJobs(up, jobs, offset);
  const histories = { activities: 0, events: 0 };
  const replays = spread(await episodes(store, run.jobIds, histories)); // also waits for every orchestration to complete
  const executionsAfter = await readExecutions(up);
  const ops = tableOpsSince(await up.tableOps(), opsBefore);
  const sent = messages(workers.stats, statsBefore);
  const executed = executionFigures(
    executionsBetween(executionsAfter, executionsBefore),
    executionsAfter,
    jobs,
  );
  return { jobs, run, ops, sent, replays, histories, executed };
}

/** A round's figures per job, the status polls' table ops taken off with the per-poll sample. */
function roundFigures(m: Measured, perPollByTable: Record<string, number>): RoundFigures {
  const total = totalTableOps(m.ops);
  const perPoll = totalTableOps(perPollByTable);
  const tables = [...new Set([...Object.keys(m.ops), ...Object.keys(perPollByTable)])];
  return {
    ...runFigures(m.jobs, m.run),
    jobs: m.jobs,
    pollsPerJob: m.run.polls / m.jobs,
    tableOpsPerJob: total / m.jobs,
    tableOpsWithoutPolls: (total - perPoll * m.run.polls) / m.jobs,
    tableOpsPerJobByTable: Object.fromEntries(Object.entries(m.ops).map(([t, n]) => [t, n / m.jobs])),
    tableOpsWithoutPollsByTable: Object.fromEntries(
      tables.map((t) => [t, ((m.ops[t] ?? 0) - (perPollByTable[t] ?? 0) * m.run.polls) / m.jobs]),
    ),
    directivesPerJob: m.sent.directives / m.jobs,
    repliesPerJob: m.sent.replies / m.jobs,
    repliesPerJobByKind: {
      ack: m.sent.byKind.ack / m.jobs,
      heartbeat: m.sent.byKind.heartbeat / m.jobs,
      result: m.sent.byKind.result / m.jobs,
    },
    episodes: m.replays,
    activitiesPerJob: m.histories.activities / m.jobs,
    eventsRaisedPerJob: m.histories.events / m.jobs,
    executions: m.executed,
  };
}

const HEADER =
  `${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
  `${'polls/job'.padStart(11)}${'table/job'.padStart(11)}${'w/o polls'.padStart(11)}` +
  `${'sb msgs/job'.padStart(13)}${'episodes min/mean/max'.padStart(23)}`;

/** The round's line under HEADER. */
function roundLine(r: RoundFigures): string {
  const n = (v: number) => v.toFixed(1);
  return (
    `${[r.perSecond, r.p50, r.p95, r.p99].map((v) => n(v).padStart(9)).join('')}` +
    `${n(r.pollsPerJob).padStart(11)}${n(r.tableOpsPerJob).padStart(11)}${n(r.tableOpsWithoutPolls).padStart(11)}` +
    `${n(r.directivesPerJob + r.repliesPerJob).padStart(13)}` +
    `${`${r.episodes.min}/${r.episodes.mean.toFixed(2)}/${r.episodes.max}`.padStart(23)}`
  );
}

function executionsLine(executed: ExecutionFigures, seconds: number): string {
  const byKind = Object.entries(executed.perJobByKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([kind, n]) => `${kind} ${n.toFixed(1)} (${(executed.meanDurationMsByKind[kind] ?? 0).toFixed(1)} ms)`,
    )
    .join(', ');
  return (
    `executions per job (devhost's GET /admin/host/executions, status polls apart): ${byKind}; ` +
    `mean ${executed.meanDurationMs.toFixed(1)} ms, overlap ${executed.meanOverlap.toFixed(2)} ` +
    `(by Flex scaling group; busy ${executed.busySeconds.toFixed(1)} s summed over groups in a ${seconds.toFixed(1)} s round; ` +
    `host-wide ${executed.hostOverlap.toFixed(2)}); ` +
    `status polls ${executed.statusPollsPerJob.toFixed(1)}/job of ${executed.statusPollMeanMs.toFixed(1)} ms; ` +
    `${executed.timerExecutions} timer runs, ${executed.failedExecutions} failed; ` +
    `devhost RSS max ${(executed.maxRssBytes / 2 ** 20).toFixed(0)} MB`
  );
}

function byTableLine(perJobByTable: Record<string, number>): string {
  return Object.entries(perJobByTable)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `${t} ${n.toFixed(1)}`)
    .join(', ');
}

function repliesLine(r: RoundFigures): string {
  const k = r.repliesPerJobByKind;
  return (
    `sb msgs: ${r.directivesPerJob.toFixed(1)} directives received + ${r.repliesPerJob.toFixed(1)} replies sent ` +
    `(${k.ack.toFixed(1)} ACK, ${k.heartbeat.toFixed(1)} heartbeat, ${k.result.toFixed(1)} RESULT) per job (workers.stats)`
  );
}

/** The demo workers the bench runs in this process: instant, ACKing first unless `ackAfterMs`. */
function startWorkers(up: Up, ackAfterMs?: number): Promise<DemoWorkers> {
  return startDemoWorkers({
    connectionString: up.serviceBusConnection,
    modes: 'instant',
    maxConcurrentCalls: 16,
    ...(ackAfterMs === undefined ? {} : { ackAfterMs }),
  });
}

/** Runs `round` on freshly started workers, stopped after it whatever happens. */
async function withWorkers<T>(
  up: Up,
  ackAfterMs: number | undefined,
  round: (workers: DemoWorkers) => Promise<T>,
): Promise<T> {
  const workers = await startWorkers(up, ackAfterMs);
  try {
    return await round(workers);
  } finally {
    await workers.stop();
  }
}

async function bench(up: Up): Promise<void> {
  const store = new TableDurableStore({
    connection: { connectionString: up.tableConnection },
    tablePrefix: TASK_HUB,
  });
  const { main, perPollByTable, idlePerSecond } = await withWorkers(up, undefined, async (workers) => {
    const warmUp = await runJobs(up, WARM_UP, 0); // JIT, sockets, tables, links
    await episodes(store, warmUp.jobIds); // their orchestrations' last table ops land before counting
    const measured = await measureRound(up, store, workers, JOBS, WARM_UP);

    // The idle rate with nothing submitted (late timers of the round's orchestrations still fire),
    // then the table ops of one status poll on a finished job, per table, less what the same time
    // at the idle rate would have brought: the background is not the polls'.
    const idleBefore = await up.tableOps();
    await delay(IDLE_MS);
    const idleOps = tableOpsSince(await up.tableOps(), idleBefore);
    const idle = totalTableOps(idleOps) / (IDLE_MS / 1000);
    const [sample, tenant] = [measured.run.jobIds[0] as string, measured.run.tenants[0] as string];
    const pollBefore = await up.tableOps();
    const pollStarted = Date.now();
    for (let i = 0; i < POLLS_PER_POLL_SAMPLE; i += 1) {
      await readJob(up, tenant, sample);
    }
    const polled = tableOpsSince(await up.tableOps(), pollBefore);
    const pollSeconds = (Date.now() - pollStarted) / 1000;
    const byTable = Object.fromEntries(
      Object.entries(polled).map(([t, n]) => {
        const background = ((idleOps[t] ?? 0) / (IDLE_MS / 1000)) * pollSeconds;
        return [t, Math.max(0, n - background) / POLLS_PER_POLL_SAMPLE];
      }),
    );
    return { main: measured, perPollByTable: byTable, idlePerSecond: idle };
  });
  const lazy =
    LAZY_JOBS > 0
      ? await withWorkers(up, LAZY_ACK_AFTER_MS, (workers) =>
          measureRound(up, store, workers, LAZY_JOBS, WARM_UP + JOBS),
        )
      : undefined;

  const perPoll = totalTableOps(perPollByTable);
  const mainFigures = roundFigures(main, perPollByTable);
  const lazyFigures: LazyAckFigures | undefined =
    lazy === undefined ? undefined : { ...roundFigures(lazy, perPollByTable), ackAfterMs: LAZY_ACK_AFTER_MS };
  console.log(
    `\njobs: ${JOBS} of OCR->EMBEDDING (instant demo workers), concurrency: ${CONCURRENCY}, ` +
      `${TENANTS} tenants, poll every ${POLL_MS} ms, node ${process.version}, devhost up as a child process`,
  );
  console.log(HEADER);
  console.log(roundLine(mainFigures));
  if (lazyFigures !== undefined)
    console.log(
      `${roundLine(lazyFigures)}  lazy ACK: ${LAZY_JOBS} jobs, workers restarted with ackAfterMs ${LAZY_ACK_AFTER_MS}`,
    );
  console.log(
    `table ops: HTTP requests from the devhost process to Azurite (app ledger + durable table store), ` +
      `${perPoll.toFixed(1)} per status poll, ${idlePerSecond.toFixed(1)}/s when idle; per job by table: ` +
      byTableLine(mainFigures.tableOpsPerJobByTable),
  );
  console.log(
    `${repliesLine(mainFigures)}; episodes: OrchestratorStarted frames in each job's stored history`,
  );
  console.log(executionsLine(main.executed, main.run.seconds));
  if (lazyFigures !== undefined && lazy !== undefined) {
    console.log(
      `lazy ACK round: table ops per job w/o polls by table: ${byTableLine(lazyFigures.tableOpsWithoutPollsByTable)}`,
    );
    console.log(`lazy ACK round: ${repliesLine(lazyFigures)}`);
    console.log(`lazy ACK round: ${executionsLine(lazy.executed, lazy.run.seconds)}`);
  }
  const figures: JobsFigures = {
    ...mainFigures,
    concurrency: CONCURRENCY,
    pollMs: POLL_MS,
    taskHub: TASK_HUB,
    tableOpsPerPoll: perPoll,
    tableOpsPerPollByTable: perPollByTable,
    idleTableOpsPerSecond: idlePerSecond,
    ...(lazyFigures === undefined ? {} : { lazyAck: lazyFigures }),
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
  await withUp('lucius-bench-jobs-', options, (up) => bench(up));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
