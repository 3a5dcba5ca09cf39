/**
 * Bare Durable orchestration benchmark (`npm run bench`, after the jobs benchmark). Prints figures
 * and writes them to the results folder (bench/results.ts); never fails on a time.
 *
 * The floor under a Lucius 2-step job on the same host: Azurite with its data on disk and its write
 * journal (as `up` runs it) is started here, and `devhost start` hosts bench/fixtures/bare-durable-app
 * as a child process with AzureWebJobsStorage on it, so its orchestrations live in the Table durable
 * store as the jobs benchmark's do. The app has no Lucius code: an HTTP starter and an orchestration
 * of two activities in sequence that return at once. With the jobs benchmark's knobs and defaults
 * (same number, same concurrency, same poll interval), orchestrations are started with
 * POST /api/bare/start and each is polled (GET /api/bare/{id}) until Completed. Printed:
 *  - orchestrations per second over the whole run;
 *  - latency p50/p95/p99: from just before the start request to the first poll that sees
 *    Completed (so it includes up to one poll interval);
 *  - Table operations per orchestration (every request the devhost process sends to Azurite,
 *    counted there through the `http.client.request.start` diagnostics channel: bench/launch-up.ts), with the status
 *    polls left out (table ops per poll measured after the run on a finished instance);
 *  - episodes per orchestration: OrchestratorStarted events in each stored history.
 *
 * A warm-up round runs first and is not reported.
 * Knobs: BENCH_JOBS (default 200), BENCH_CONCURRENCY (default 32), BENCH_POLL_MS (default 25).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { HistoryEventType, TableDurableStore } from '../devhost/durable/engine';
import { DEVHOST_CLI, launchHost, totalTableOps, type HostProcess } from './launch-up';
import { pollUntil, runBounded, runFigures, spread, type RunFigures, type Spread } from './measure';
import { writeResults } from './results';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 25);
const WARM_UP = 20;
const KEY = 'bench-key';
const TASK_HUB = 'BareBench';
const APP_NAME = 'bare-durable-app';
/** Run from dist/bench (npm run bench) or from the sources. */
const APP_DIR = [
  join(__dirname, 'fixtures', APP_NAME),
  join(__dirname, '..', '..', 'bench', 'fixtures', APP_NAME),
].find((dir) => existsSync(join(dir, 'package.json')));
/** Bound on every wait, so a stuck run ends with an error instead of hanging. */
const POLL_LIMIT_MS = 60_000;
const POLLS_PER_POLL_SAMPLE = 20;

/** What bench/summary.bench.ts reads. */
export interface BareDurableFigures extends RunFigures {
  readonly orchestrations: number;
  readonly concurrency: number;
  readonly pollMs: number;
  readonly pollsPerOrchestration: number;
  readonly tableOpsPerOrchestration: number;
  readonly tableOpsWithoutPolls: number;
  readonly episodes: Spread;
}

interface Host extends HostProcess {
  readonly apiUrl: string;
}

/** `devhost start` hosting the bare app on a free port, counting its table ops. */
async function startDevhost(dir: string, azurite: AzuriteHandle): Promise<Host> {
  if (APP_DIR === undefined) throw new Error(`bench/fixtures/${APP_NAME} not found from ${__dirname}`);
  return launchHost(
    {
      name: 'devhost',
      args: [DEVHOST_CLI, 'start', '--app', APP_DIR, '--port', '0', '--key', KEY],
      env: { AzureWebJobsStorage: azurite.connectionString },
      workDir: dir,
      countTableOps: true,
      ready: /devhost is hosting .* at (http:\/\/\S+) \(Ctrl-C/,
      saying: 'it is hosting the app',
    },
    ([, apiUrl], host) => {
      if (apiUrl === undefined) throw new Error(`devhost printed no URL:\n${host.output()}`);
      return { ...host, apiUrl };
    },
  );
}

async function startOne(host: Host, n: number): Promise<string> {
  const response = await fetch(`${host.apiUrl}/bare/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': KEY },
    body: JSON.stringify({ input_ref: `blob://in/bench-${n}.pdf` }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 202 || body.id === undefined)
    throw new Error(`start answered ${response.status}: ${JSON.stringify(body)}`);
  return body.id;
}

async function statusOf(host: Host, id: string): Promise<string | undefined> {
  const response = await fetch(`${host.apiUrl}/bare/${id}`, { headers: { 'x-functions-key': KEY } });
  const body = (await response.json()) as { runtimeStatus?: string };
  if (response.status !== 200) throw new Error(`status of ${id} answered ${response.status}`);
  return body.runtimeStatus;
}

/** Polls until the instance Completed; returns the number of polls. Throws if it ends otherwise. */
function untilCompleted(host: Host, id: string): Promise<number> {
  return pollUntil(`instance ${id}`, () => statusOf(host, id), {
    done: 'Completed',
    failed: ['Failed', 'Terminated'],
    pollMs: POLL_MS,
    limitMs: POLL_LIMIT_MS,
  });
}

async function run(host: Host, total: number, offset: number) {
  const ids: string[] = [];
  let polls = 0;
  const { seconds, latenciesMs } = await runBounded(total, CONCURRENCY, async (i) => {
    const id = await startOne(host, offset + i);
    const instancePolls = await untilCompleted(host, id);
    polls += instancePolls;
    ids.push(id);
  });
  return { seconds, latenciesMs, ids, polls };
}

async function episodes(store: TableDurableStore, ids: readonly string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const id of ids) {
    const record = await store.getInstance(id);
    if (record === undefined) throw new Error(`instance ${id} is not in the store`);
    const history = await store.getHistory(id, record.executionId);
    counts.push(history.filter((h) => h.event.EventType === HistoryEventType.OrchestratorStarted).length);
  }
  return counts;
}

async function bench(host: Host, azurite: AzuriteHandle): Promise<BareDurableFigures> {
  const store = new TableDurableStore({
    connection: { connectionString: azurite.connectionString },
    tablePrefix: TASK_HUB,
  });
  const tableOps = async () => totalTableOps(await host.tableOps());
  await run(host, WARM_UP, 0);
  const before = await tableOps();
  const measured = await run(host, JOBS, WARM_UP);
  const ops = (await tableOps()) - before;
  const pollBefore = await tableOps();
  for (let i = 0; i < POLLS_PER_POLL_SAMPLE; i += 1) await statusOf(host, measured.ids[0] as string);
  const perPoll = ((await tableOps()) - pollBefore) / POLLS_PER_POLL_SAMPLE;
  const replays = await episodes(store, measured.ids);
  return {
    orchestrations: JOBS,
    concurrency: CONCURRENCY,
    pollMs: POLL_MS,
    ...runFigures(JOBS, measured),
    pollsPerOrchestration: measured.polls / JOBS,
    tableOpsPerOrchestration: ops / JOBS,
    tableOpsWithoutPolls: (ops - perPoll * measured.polls) / JOBS,
    episodes: spread(replays),
  };
}

function print(f: BareDurableFigures): void {
  const num = (v: number, width = 9) => v.toFixed(1).padStart(width);
  console.log(
    `\nbare orchestrations: ${f.orchestrations} of 2 sequential instant activities (no Lucius code), ` +
      `concurrency: ${f.concurrency}, poll every ${f.pollMs} ms, node ${process.version}, devhost start as a child process, Azurite on disk with its journal`,
  );
  console.log(
    `${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
      `${'polls/orch'.padStart(11)}${'table/orch'.padStart(11)}${'w/o polls'.padStart(11)}${'episodes min/mean/max'.padStart(23)}`,
  );
  console.log(
    `${num(f.perSecond)}${num(f.p50)}${num(f.p95)}${num(f.p99)}${num(f.pollsPerOrchestration, 11)}` +
      `${num(f.tableOpsPerOrchestration, 11)}${num(f.tableOpsWithoutPolls, 11)}` +
      `${`${f.episodes.min}/${f.episodes.mean.toFixed(2)}/${f.episodes.max}`.padStart(23)}`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lucius-bench-bare-'));
  let azurite: AzuriteHandle | undefined;
  let host: Host | undefined;
  try {
    azurite = await startAzurite({ location: join(dir, 'azurite') });
    host = await startDevhost(dir, azurite);
    const figures = await bench(host, azurite);
    print(figures);
    console.log(`figures written to ${writeResults('bare-durable', figures)}`);
  } catch (error) {
    if (host !== undefined) console.error(`devhost output:\n${host.output()}`);
    throw error;
  } finally {
    await host?.stop();
    await azurite?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
