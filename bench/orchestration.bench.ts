/**
 * Orchestration benchmark (`npm run bench`, after the admission benchmark). Prints figures; never
 * fails on a time.
 *
 * devhost runs in process (`startHost`, port 0) hosting bench/fixtures/orchestration-app: an
 * orchestration of five sequential activities that return at once, registered through the real
 * `df.app.orchestration` / `df.app.activity`. For each durable store (memory; Table Storage on an
 * in-memory Azurite started here; Table Storage on Azurite with data on disk, once with Azurite's
 * own 5 s autosave, which a kill can lose, and once journaling each write before answering it, as
 * devhost does), orchestrations are started through the Durable HTTP API
 * (`POST orchestrators/{name}`), a bounded number in flight, and each is polled
 * (`GET instances/{id}`) until it has finished. Printed:
 *  - orchestrations per second over the whole run;
 *  - completion latency p50/p95/p99: from just before the start request to the first poll that sees
 *    Completed (so it includes up to one poll interval, BENCH_POLL_MS);
 *  - orchestrator episodes (replays) per orchestration: every call of the orchestrator handler the
 *    engine makes, counted by wrapping the handler the host registers;
 *  - history length, sampled on a few instances: `historyEvents.length` as the HTTP API shows it
 *    (`?showHistory=true`, scheduled tasks folded into their completions) and the events the store
 *    holds (with the OrchestratorStarted/Completed frames of every episode).
 *
 * Each store gets a fresh host; a warm-up round runs first on the same host and is not reported.
 * Knobs: BENCH_ORCHESTRATIONS (default 200), BENCH_CONCURRENCY (default 16), BENCH_POLL_MS (default 10).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { createDurableSupport, type DurableSupport } from '../devhost/durable/durable-support';
import { MemoryDurableStore, TableDurableStore, type DurableStore } from '../devhost/durable/engine';
import { startHost, type DevHost } from '../devhost/host/host';
import { readHostConfig } from '../devhost/common/host-config';
import { percentile, RoundTrips, runBounded } from './measure';

const ORCHESTRATIONS = Number(process.env.BENCH_ORCHESTRATIONS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 10);
const WARM_UP = Math.min(ORCHESTRATIONS, 32);
const HISTORY_SAMPLES = 5;
const ORCHESTRATOR = 'benchFiveSteps';
const EXPECTED_OUTPUT = 5;
const DURABLE_PATH = '/runtime/webhooks/durabletask';

const APP_NAME = 'orchestration-app';
/** Run from dist/bench (npm run bench) or from the sources. */
const APP_DIR = [
  join(__dirname, 'fixtures', APP_NAME),
  join(__dirname, '..', '..', 'bench', 'fixtures', APP_NAME),
].find((dir) => existsSync(join(dir, 'package.json')));

interface Run {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly instanceIds: string[];
  readonly polls: number;
}

interface Figures {
  readonly label: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly episodes: { readonly min: number; readonly mean: number; readonly max: number };
  readonly pollsPerOrchestration: number;
  /** Storage round trips per orchestration, status polls (one each) left out; undefined for memory. */
  readonly tripsPerOrchestration: number | undefined;
  readonly apiHistory: number[];
  readonly storedHistory: number[];
}

/** Handler calls per instance: the host registers orchestrators through this wrapper. */
function countingEpisodes(support: DurableSupport, episodes: Map<string, number>): DurableSupport {
  const { engine } = support;
  const register = engine.registerOrchestrator.bind(engine);
  engine.registerOrchestrator = (name, handler) =>
    register(name, (trigger, context) => {
      const instanceId = String((trigger as { instanceId?: unknown }).instanceId);
      episodes.set(instanceId, (episodes.get(instanceId) ?? 0) + 1);
      return handler(trigger, context);
    });
  return support;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startOne(host: DevHost, input: number): Promise<string> {
  const response = await fetch(`${host.baseUrl}${DURABLE_PATH}/orchestrators/${ORCHESTRATOR}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...keyHeader(host) },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 202 || body.id === undefined)
    throw new Error(`start answered ${response.status}: ${JSON.stringify(body)}`);
  return body.id;
}

/** Polls until the instance has finished; returns the number of polls. Throws unless it Completed as expected. */
async function untilCompleted(host: DevHost, instanceId: string): Promise<number> {
  for (let polls = 1; ; polls += 1) {
    const response = await fetch(`${host.baseUrl}${DURABLE_PATH}/instances/${instanceId}`, {
      headers: keyHeader(host),
    });
    const body = (await response.json()) as { runtimeStatus?: string; output?: unknown };
    if (response.status === 200) {
      if (body.runtimeStatus !== 'Completed' || body.output !== EXPECTED_OUTPUT)
        throw new Error(`instance ${instanceId} finished as ${JSON.stringify(body)}`);
      return polls;
    }
    if (response.status !== 202) throw new Error(`status of ${instanceId} answered ${response.status}`);
    await delay(POLL_MS);
  }
}

async function runOrchestrations(host: DevHost, total: number): Promise<Run> {
  const instanceIds: string[] = [];
  let polls = 0;
  const { seconds, latenciesMs } = await runBounded(total, CONCURRENCY, async () => {
    const instanceId = await startOne(host, 0);
    polls += await untilCompleted(host, instanceId);
    instanceIds.push(instanceId);
  });
  return { seconds, latenciesMs, instanceIds, polls };
}

async function historyLengths(
  host: DevHost,
  store: DurableStore,
  instanceId: string,
): Promise<{ api: number; stored: number }> {
  const response = await fetch(`${host.baseUrl}${DURABLE_PATH}/instances/${instanceId}?showHistory=true`, {
    headers: keyHeader(host),
  });
  const body = (await response.json()) as { historyEvents?: unknown[] };
  const record = await store.getInstance(instanceId);
  if (record === undefined) throw new Error(`instance ${instanceId} is not in the store`);
  const stored = await store.getHistory(instanceId, record.executionId);
  return { api: body.historyEvents?.length ?? Number.NaN, stored: stored.length };
}

async function benchStore(label: string, store: DurableStore, trips?: RoundTrips): Promise<Figures> {
  if (APP_DIR === undefined) throw new Error(`bench/fixtures/${APP_NAME} not found from ${__dirname}`);
  const config = readHostConfig(APP_DIR);
  const episodes = new Map<string, number>();
  // The Durable HTTP API reads the host's address at its first request, once the host listens.
  let baseUrl = '';
  const support = createDurableSupport({
    config,
    store,
    hostUrl: () => baseUrl,
    log: (level, message) => {
      if (level === 'error') console.error(`[durable] ${message}`);
    },
  });
  const host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: () => undefined,
    parts: [countingEpisodes(support, episodes)],
  });
  baseUrl = host.baseUrl;
  try {
    await runOrchestrations(host, WARM_UP); // JIT, sockets, tables
    if (trips !== undefined) trips.count = 0;
    const run = await runOrchestrations(host, ORCHESTRATIONS);
    const tripsPerOrchestration =
      trips === undefined ? undefined : (trips.count - run.polls) / ORCHESTRATIONS;
    const sorted = [...run.latenciesMs].sort((a, b) => a - b);
    const counts = run.instanceIds.map((id) => episodes.get(id) ?? 0);
    const step = Math.max(1, Math.floor(run.instanceIds.length / HISTORY_SAMPLES));
    const samples = run.instanceIds.filter((_, i) => i % step === 0).slice(0, HISTORY_SAMPLES);
    const lengths = [];
    for (const id of samples) lengths.push(await historyLengths(host, store, id));
    return {
      label,
      perSecond: ORCHESTRATIONS / run.seconds,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      episodes: {
        min: Math.min(...counts),
        mean: counts.reduce((sum, n) => sum + n, 0) / counts.length,
        max: Math.max(...counts),
      },
      pollsPerOrchestration: run.polls / ORCHESTRATIONS,
      tripsPerOrchestration,
      apiHistory: lengths.map((l) => l.api),
      storedHistory: lengths.map((l) => l.stored),
    };
  } finally {
    await host.stop();
  }
}

function print(rows: Figures[]): void {
  const num = (v: number, digits = 1) => v.toFixed(digits).padStart(9);
  const spread = (values: number[]) => {
    const low = Math.min(...values);
    const high = Math.max(...values);
    return (low === high ? String(low) : `${low}-${high}`).padStart(10);
  };
  console.log(
    `\norchestrations: ${ORCHESTRATIONS} of ${ORCHESTRATOR} (5 sequential instant activities), ` +
      `concurrency: ${CONCURRENCY}, poll every ${POLL_MS} ms, node ${process.version}, devhost in process`,
  );
  console.log(
    `${'durable store'.padEnd(28)}${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}` +
      `${'p99 ms'.padStart(9)}${'episodes min/mean/max'.padStart(23)}${'polls/orch'.padStart(11)}` +
      `${'trips/orch'.padStart(11)}${'api hist'.padStart(10)}${'stored'.padStart(10)}`,
  );
  for (const r of rows) {
    const episodes = `${r.episodes.min}/${r.episodes.mean.toFixed(2)}/${r.episodes.max}`;
    console.log(
      `${r.label.padEnd(28)}${num(r.perSecond)}${num(r.p50)}${num(r.p95)}${num(r.p99)}` +
        `${episodes.padStart(23)}${num(r.pollsPerOrchestration).padStart(11)}` +
        `${(r.tripsPerOrchestration === undefined ? '-' : r.tripsPerOrchestration.toFixed(1)).padStart(11)}` +
        `${spread(r.apiHistory)}${spread(r.storedHistory)}`,
    );
  }
  console.log(
    `history sampled on ${HISTORY_SAMPLES} instances per store: 'api hist' is historyEvents.length from ` +
      `GET instances/{id}?showHistory=true, 'stored' the events the store holds; 'trips/orch' counts ` +
      `Table Storage round trips without the status polls`,
  );
}

/** The Durable HTTP API takes the master key. */
function keyHeader(host: DevHost): Record<string, string> {
  return { 'x-functions-key': host.keys.masterKey };
}

/** A Table store on `azurite` whose round trips `trips` counts, under a fresh table prefix. */
function tableStore(azurite: AzuriteHandle, trips: RoundTrips): TableDurableStore {
  return new TableDurableStore({
    connection: { connectionString: azurite.connectionString },
    tablePrefix: `BenchOrch${Date.now() % 1_000_000}`,
    clientOptions: { additionalPolicies: [{ policy: trips.policy, position: 'perRetry' }] },
  });
}

/** Azurite with its data on disk, journaling each write before answering (devhost's way) or saving every 5 s (its own). */
async function benchOnDisk(label: string, durableWrites: boolean): Promise<Figures> {
  const location = await mkdtemp(join(tmpdir(), 'bench-orchestration-'));
  const azurite = await startAzurite({ location, durableWrites });
  try {
    const trips = new RoundTrips();
    return await benchStore(label, tableStore(azurite, trips), trips);
  } finally {
    await azurite.stop();
    await rm(location, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows = [await benchStore('memory', new MemoryDurableStore())];
  const azurite = await startAzurite();
  try {
    const trips = new RoundTrips();
    rows.push(await benchStore('table (Azurite, in memory)', tableStore(azurite, trips), trips));
  } finally {
    await azurite.stop();
  }
  rows.push(await benchOnDisk('table (disk, 5 s autosave)', false));
  rows.push(await benchOnDisk('table (disk, journal)', true));
  print(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
