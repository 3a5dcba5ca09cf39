/**
 * `npm start` killed under load, nothing faked: the launcher's `up` as a real process group (Azurite
 * saving to a temporary data folder, the Service Bus emulator, the app from src/index.ts, the demo
 * workers with OCR slow so jobs stay in flight) takes concurrent admissions of one-, two- and
 * three-step commands; while jobs run and admissions are still under way, the whole group is
 * SIGKILLed (Azurite included), then `up` is started again on the same data folder. After each
 * kill, at a different moment of the load:
 *
 * - every admission answered 202 before the kill is a job that exists;
 * - every one of them reaches SUCCEEDED (the sweepers, run on demand through the admin API as an
 *   operator would, restart what the kill left without an orchestration);
 * - resending an answered command returns the same job (200), and resending one whose answer was
 *   lost to the kill returns a job that exists;
 * - no orchestration instance is left running, and none has a runaway history.
 *
 * The sweepers' own schedules are once a year, so only these runs sweep. Waits poll with bounded
 * counts; nothing asserts on elapsed time. The figures of each round are printed: admissions
 * answered before the kill and cut off by it, jobs in flight at the kill, answered jobs the restart
 * found with no orchestration, restart and recovery times, sweeps until every job finished, the
 * longest history, the repairs recorded and the steps that needed another attempt.
 *
 * The app runs in `LUCIUS_AUTH_MODE=dev` (as `npm start` does): every call carries a dev bearer
 * token for its tenant, minted from the data folder's dev issuer key, which survives the kills. The
 * per-caller rate limits are off: the load comes in bursts far above their defaults, and what is
 * measured here is recovery from a crash, not throttling (test/e2e covers the limits).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../support/devhost-up';
import { DevTokens } from '../support/dev-token';
import { uniqueToken } from '../support/unique';
import { startKillableUp, type KillableUp } from './support-killable-up';

const KEY = 'kill-key';
const MASTER = 'kill-master';
const SYSTEM = 'kill-system';
const NEVER = '0 0 0 1 1 *';

const ENV = {
  DEVHOST_FUNCTION_KEY: KEY,
  DEVHOST_MASTER_KEY: MASTER,
  DEVHOST_SYSTEM_KEY: SYSTEM,
  LUCIUS_DRIFT_SWEEP_SCHEDULE: NEVER,
  LUCIUS_LEASE_SWEEP_SCHEDULE: NEVER,
  LUCIUS_SWEEP_ACCEPT_GRACE_SECONDS: '1',
  LUCIUS_SWEEP_TIMER_GRACE_SECONDS: '1',
  LUCIUS_SWEEP_DISPATCH_GRACE_SECONDS: '5',
  LUCIUS_SWEEP_RECHECK_SECONDS: '1',
  // A directive the killed workers held but had not ACKed expires (its time-to-live is its ACK
  // deadline), so that attempt ends NOT_STARTED and is dispatched again. One they had ACKed is lost
  // with them, as a crashed worker's attempt is on Azure: nothing redelivers it, and the lease
  // sweeper ends the attempt once its lease runs out (a heartbeat extends it), then it is retried.
  // Shorter timings than the defaults (ACK 30 s, lease 15 min) keep both within the test's time.
  LUCIUS_ACK_TIMEOUT_SECONDS: '10',
  LUCIUS_LEASE_MINUTES: '1',
  LUCIUS_REPLY_BACKOFF_SECONDS: '1,1,1',
  LUCIUS_DISPATCH_BACKOFF_SECONDS: '1,1,1',
  LUCIUS_RATE_LIMITS: 'off',
};
/** OCR works 3.5 s with heartbeats, so the jobs admitted last are still running at the kill. */
const WORKERS = ['--workers', 'OCR=slow'];

/** Commands per round, and how many are sent at once. */
const COMMANDS = 60;
const CONCURRENCY = 6;
/**
 * Sweeps (drift then lease, then a second's pause) tried before every job must have finished: enough
 * for the 1-minute lease of an attempt the kill cut off to run out, and its retry to finish.
 */
const SWEEP_ROUNDS = 180;
/** A job of at most three steps takes a few dozen history events; a looping instance takes thousands. */
const MAX_HISTORY_EVENTS = 200;

const STEP_PAYLOADS: Readonly<Record<string, unknown>> = {
  ocr: { output_format: 'TEXT' },
  embedding: { model: 'text-embedding-3-large' },
  sis: { analysis: ['summary'] },
};
const REQUEST_TYPES: readonly (readonly [string, readonly string[]])[] = [
  ['OCR->EMBEDDING', ['ocr', 'embedding']],
  ['OCR->EMBEDDING->SIS', ['ocr', 'embedding', 'sis']],
  ['OCR', ['ocr']],
  ['SIS', ['sis']],
];
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

interface Command {
  readonly tenantId: string;
  readonly idempotencyKey: string;
  readonly body: string;
}
interface Answered {
  readonly command: Command;
  readonly jobId: string;
}
interface JobBody {
  readonly jobId: string;
  readonly status: string;
  readonly finishedAt?: string;
  readonly repairs: readonly { readonly kind: string }[];
  readonly steps: readonly { readonly stepId: string; readonly status: string; readonly attemptNo: number }[];
}
interface InstanceBody {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly historyEvents?: readonly unknown[];
}

let dataDir: string;
let up: KillableUp | undefined;
let tokens: DevTokens | undefined;
/** The jobs of the rounds before (answered before their kill, or got by resending a cut-off command). */
const earlierJobs: Answered[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'lucius-sigkill-'));
});

afterAll(async () => {
  await up?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `work` over every item, `CONCURRENCY` at a time; the results in the items' order. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

function running(): KillableUp {
  if (up === undefined) throw new Error('up is not running');
  return up;
}

/** A dev token for the tenant, from the data folder's dev issuer (the one every restart reuses). */
async function auth(tenantId: string): Promise<{ authorization: string }> {
  tokens ??= await DevTokens.open(dataDir);
  return tokens.headers(tenantId);
}

function commandsOf(round: string): Command[] {
  return Array.from({ length: COMMANDS }, (_, index) => {
    const [requestType, stepIds] = REQUEST_TYPES[
      index % REQUEST_TYPES.length
    ] as (typeof REQUEST_TYPES)[number];
    // A few tenants, so the per-tenant in-flight counters are shared by concurrent admissions.
    const tenantId = `kill-${round}-${index % 6}`;
    const idempotencyKey = `k-${round}-${index}-${uniqueToken()}`;
    const body = JSON.stringify({
      tenant_id: tenantId,
      request_type: requestType,
      input_ref: `blob://in/${index}.pdf`,
      output_ref: `blob://out/${index}`,
      payload: { steps: Object.fromEntries(stepIds.map((id) => [id, STEP_PAYLOADS[id]])) },
      schema_version: 'v1',
      idempotency_key: idempotencyKey,
    });
    return { tenantId, idempotencyKey, body };
  });
}

async function admit(command: Command): Promise<{ status: number; jobId?: string; body: string }> {
  const response = await fetch(`${running().apiUrl}/v1/commands?code=${KEY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await auth(command.tenantId)) },
    body: command.body,
  });
  const body = await response.text();
  const jobId =
    response.status === 200 || response.status === 202
      ? (JSON.parse(body) as { jobId: string }).jobId
      : undefined;
  return { status: response.status, body, ...(jobId === undefined ? {} : { jobId }) };
}

async function jobView(tenantId: string, jobId: string): Promise<{ status: number; job?: JobBody }> {
  const response = await fetch(
    `${running().apiUrl}/v1/jobs/${jobId}?tenant_id=${encodeURIComponent(tenantId)}&code=${KEY}`,
    { headers: await auth(tenantId) },
  );
  if (response.status !== 200) return { status: response.status };
  return { status: 200, job: (await response.json()) as JobBody };
}

/**
 * The Durable HTTP API, with the durabletask_extension system key it requires. An instance's status
 * answers 202 while it is Running or Pending (as on Azure), 200 once it ended.
 */
async function durable(
  path: string,
  headers: Record<string, string> = {},
  expected: readonly number[] = [200],
): Promise<Response> {
  const response = await fetch(`${running().baseUrl}/runtime/webhooks/durabletask/${path}`, {
    headers: { ...headers, 'x-functions-key': SYSTEM },
  });
  if (!expected.includes(response.status)) throw new Error(`GET ${path} answered ${response.status}`);
  return response;
}

interface InstanceSummary {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly events: number;
}

/** Every orchestration instance (the query, page by page), with the length of its history. */
async function instances(): Promise<InstanceSummary[]> {
  const listed: InstanceBody[] = [];
  let continuation: string | null = null;
  do {
    const page = await durable(
      'instances?top=100',
      continuation === null ? {} : { 'x-ms-continuation-token': continuation },
    );
    listed.push(...((await page.json()) as InstanceBody[]));
    continuation = page.headers.get('x-ms-continuation-token');
  } while (continuation !== null);
  return inParallel(listed, async ({ instanceId }) => {
    const status = await durable(`instances/${instanceId}?showHistory=true`, {}, [200, 202]);
    const body = (await status.json()) as InstanceBody;
    return { instanceId, runtimeStatus: body.runtimeStatus, events: body.historyEvents?.length ?? 0 };
  });
}

/** Runs a sweeper now, as an operator would (the admin API answers 202 and runs it in the background). */
async function runSweeper(name: 'driftSweeper' | 'leaseSweeper'): Promise<void> {
  const response = await fetch(`${running().baseUrl}/admin/functions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': MASTER },
    body: '{}',
  });
  if (response.status !== 202) throw new Error(`admin run of ${name} answered ${response.status}`);
}

interface Load {
  readonly answered: Answered[];
  /** Commands sent whose answer the kill cut off. */
  readonly cut: Command[];
  readonly killedAt: Date;
}

/**
 * Sends the round's commands, `CONCURRENCY` at a time, and SIGKILLs `up` once `killAfter` were
 * answered 202 (the others are still being sent or waiting their turn).
 */
async function loadThenKill(round: string, killAfter: number): Promise<Load> {
  const commands = commandsOf(round);
  const answered: Answered[] = [];
  const cut: Command[] = [];
  let next = 0;
  let killing: Promise<Date> | undefined;
  const kill = (): Promise<Date> =>
    (killing ??= (async () => {
      const at = new Date();
      await running().kill();
      return at;
    })());
  const sender = async (): Promise<void> => {
    while (killing === undefined && next < commands.length) {
      const command = commands[next] as Command;
      next += 1;
      let outcome: Awaited<ReturnType<typeof admit>>;
      try {
        outcome = await admit(command);
      } catch {
        cut.push(command);
        continue;
      }
      if (killing !== undefined) {
        // Answered while the kill was under way: it counts as answered only if it was.
        if (outcome.status === 202) answered.push({ command, jobId: outcome.jobId as string });
        continue;
      }
      if (outcome.status !== 202) throw new Error(`admission answered ${outcome.status}: ${outcome.body}`);
      answered.push({ command, jobId: outcome.jobId as string });
      if (answered.length >= killAfter) void kill();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  if (killing === undefined) throw new Error(`only ${answered.length} admissions were answered`);
  return { answered, cut, killedAt: await killing };
}

/** Sweeps until every answered job finished (bounded); the number of sweeps it took. */
async function sweepUntilFinished(answered: readonly Answered[]): Promise<number> {
  let pending = [...answered];
  for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
    const views = await inParallel(pending, (e) => jobView(e.command.tenantId, e.jobId));
    pending = pending.filter((_, i) => !TERMINAL.has(views[i]?.job?.status ?? 'missing'));
    if (pending.length === 0) return round;
    await runSweeper('driftSweeper');
    await runSweeper('leaseSweeper');
    await sleep(1_000);
  }
  const left = await Promise.all(
    pending.map(async (e) => ({ jobId: e.jobId, view: await jobView(e.command.tenantId, e.jobId) })),
  );
  throw new Error(
    `${pending.length} jobs did not finish after ${SWEEP_ROUNDS} sweeps: ${JSON.stringify(left.slice(0, 5))}\n` +
      running().output().slice(-4000),
  );
}

/**
 * Waits (bounded) until no instance is running, then checks that every job has an instance with a
 * history that no longer grows and stays short; the longest history.
 */
async function settledInstances(jobs: readonly Answered[]): Promise<number> {
  let last: InstanceSummary[] = [];
  for (let poll = 0; poll < 60; poll += 1) {
    last = await instances();
    if (last.every((i) => i.runtimeStatus !== 'Running' && i.runtimeStatus !== 'Pending')) break;
    await sleep(500);
  }
  const stillRunning = last.filter((i) => i.runtimeStatus === 'Running' || i.runtimeStatus === 'Pending');
  expect(stillRunning).toEqual([]);
  await sleep(1_000);
  const again = await instances();
  // A finished instance's history does not grow any more.
  expect(again.map((i) => [i.instanceId, i.events]).sort()).toEqual(
    last.map((i) => [i.instanceId, i.events]).sort(),
  );
  const known = new Set(again.filter((i) => i.events > 0).map((i) => i.instanceId));
  expect(jobs.map((j) => j.jobId).filter((id) => !known.has(id))).toEqual([]);
  const longest = Math.max(0, ...again.map((i) => i.events));
  expect(again.filter((i) => i.events >= MAX_HISTORY_EVENTS)).toEqual([]);
  return longest;
}

/** Jobs whose orchestration instance the Durable HTTP API does not know. */
async function withoutInstance(jobs: readonly Answered[]): Promise<string[]> {
  const statuses = await inParallel(jobs, async ({ jobId }) => {
    const response = await fetch(`${running().baseUrl}/runtime/webhooks/durabletask/instances/${jobId}`, {
      headers: { 'x-functions-key': SYSTEM },
    });
    await response.arrayBuffer();
    return response.status;
  });
  return jobs.filter((_, i) => statuses[i] === 404).map((j) => j.jobId);
}

interface Figures {
  readonly answered: number;
  readonly cut: number;
  readonly inFlight: number;
  readonly answeredWithoutInstance: number;
  readonly restartMs: number;
  readonly sweeps: number;
  readonly recoveryMs: number;
  readonly longestHistory: number;
  readonly repairs: Record<string, number>;
  readonly stepsRetried: number;
  /** Jobs whose orchestration a sweep started (none existed), among the answered and the cut-off ones. */
  readonly startedBySweeper: { answered: number; cut: number };
}

/** One kill once `killAfter` admissions were answered, the restart, and every check. */
async function killAndRecover(round: string, killAfter: number): Promise<Figures> {
  const { answered, cut, killedAt } = await loadThenKill(round, killAfter);

  const restartingAt = Date.now();
  up = await startKillableUp(dataDir, WORKERS, ENV);
  const restartedAt = Date.now();

  // Every answered admission is a job.
  const found = await inParallel(answered, ({ command, jobId }) => jobView(command.tenantId, jobId));
  expect(answered.filter((_, i) => found[i]?.status !== 200).map((a) => a.jobId)).toEqual([]);
  const inFlight = found.filter(
    ({ job }) => job?.finishedAt === undefined || new Date(job.finishedAt) > killedAt,
  ).length;
  // Before anything restarts them: how many answered jobs the restart found with no orchestration.
  const answeredWithoutInstance = (await withoutInstance(answered)).length;

  // Resending returns the same job; a command whose answer was cut off gets a job that exists.
  const resent = await inParallel(answered, ({ command }) => admit(command));
  expect(resent.map((r) => ({ status: r.status, jobId: r.jobId }))).toEqual(
    answered.map(({ jobId }) => ({ status: 200, jobId })),
  );
  const cutJobs = await inParallel(cut, async (command) => {
    const again = await admit(command);
    expect([200, 202]).toContain(again.status);
    const jobId = again.jobId as string;
    expect({ jobId, status: (await jobView(command.tenantId, jobId)).status }).toEqual({
      jobId,
      status: 200,
    });
    return { command, jobId };
  });

  const roundJobs = [...answered, ...cutJobs];
  const everyJob = [...earlierJobs, ...roundJobs];
  const sweeps = await sweepUntilFinished(everyJob);
  const recoveryMs = Date.now() - restartedAt;
  const finished = await inParallel(everyJob, ({ command, jobId }) => jobView(command.tenantId, jobId));
  expect(finished.map(({ job }) => job?.status)).toEqual(everyJob.map(() => 'SUCCEEDED'));
  const repairs: Record<string, number> = {};
  let stepsRetried = 0;
  const startedBySweeper = { answered: 0, cut: 0 };
  finished.slice(earlierJobs.length).forEach(({ job }, i) => {
    for (const { kind } of job?.repairs ?? []) repairs[kind] = (repairs[kind] ?? 0) + 1;
    stepsRetried += job?.steps.filter((s) => s.attemptNo > 1).length ?? 0;
    if (job?.repairs.some((r) => r.kind === 'ORCHESTRATION_STARTED'))
      startedBySweeper[i < answered.length ? 'answered' : 'cut'] += 1;
  });
  const longestHistory = await settledInstances(everyJob);
  earlierJobs.push(...roundJobs);
  return {
    answered: answered.length,
    cut: cut.length,
    inFlight,
    answeredWithoutInstance,
    restartMs: restartedAt - restartingAt,
    sweeps,
    recoveryMs,
    longestHistory,
    repairs,
    stepsRetried,
    startedBySweeper,
  };
}

describe('npm start killed under load', () => {
  it('loses no answered admission and leaves no instance running, whatever the moment of the kill', async () => {
    up = await startKillableUp(dataDir, WORKERS, ENV);
    // Early: orchestrations starting, the first directives out.
    const early = await killAndRecover('a', 20);
    process.stdout.write(`sigkill early: ${JSON.stringify(early)}\n`);
    // Late: most of the round admitted, the slow OCR step holding jobs in flight.
    const late = await killAndRecover('b', 50);
    process.stdout.write(`sigkill late: ${JSON.stringify(late)}\n`);
  }, 900_000);
});
