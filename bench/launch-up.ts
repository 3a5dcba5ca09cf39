/**
 * A devhost command line running as a child process of a benchmark, on free ports: `up` (what
 * `npm start` runs: Azurite, the Service Bus emulator, devhost hosting this app) through launchUp,
 * or withUp for a fresh temporary folder removed afterwards; any other command (`devhost start
 * --app DIR`) through launchHost. Also the two calls of the Lucius API the benchmarks make on `up`
 * (submitJob, readJob). jobs.bench.ts, busy-lane.bench.ts and bare-durable.bench.ts start their
 * hosts here.
 *
 * - The child's stdout and stderr are kept (`output()`, for the error a failed run prints).
 * - launchHost answers once the output has a line matching `ready` (its match beside the process),
 *   and throws with the output when the child exits first or has not printed it after a minute.
 * - `stop()` sends SIGINT (the command lines shut down cleanly on it), then SIGKILL if the child
 *   has not exited 10 s later; it resolves once the child has exited. A failed launch stops it.
 * - With `countTableOps`, a preload script (`node --require`, so in the command line's process
 *   only, not in the Azurite it may spawn) counts every request that process sends to the
 *   development storage account, grouped by table (the URL's first segment), on Node's
 *   `http.client.request.start` diagnostics channel: no proxy, so no extra hop. An entity group
 *   transaction goes to `$batch`, which names no table: it is counted as `$batch:<table>`, the table
 *   its body's first operation names (every operation of a batch is in one table and partition),
 *   read from the body as the request writes it. `tableOps()` asks for the counts so far with SIGUSR2 and reads them
 *   from the file the child writes in the benchmark's work folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { devTableConnectionString } from '../devhost/azurite';
import { DevIssuer } from '../src/auth/dev-issuer';

/** The command lines, from dist/bench. */
export const LAUNCHER_CLI = join(__dirname, '..', 'launcher', 'cli.js');
export const DEVHOST_CLI = join(__dirname, '..', 'devhost', 'cli.js');

/** Bounds on every wait, so a stuck launch ends with an error instead of hanging. */
const READY_POLLS = 1_200;
const READY_POLL_MS = 50;
const COUNT_POLLS = 500;
const COUNT_POLL_MS = 10;
const KILL_AFTER_MS = 10_000;

/**
 * Loaded into the child: counts its requests to the development account per table (a batch by the
 * table its body names); on SIGUSR2 writes them to BENCH_TABLE_COUNT_FILE.
 */
const PRELOAD = `'use strict';
const dc = require('node:diagnostics_channel');
const fs = require('node:fs');
const http = require('node:http');
const file = process.env.BENCH_TABLE_COUNT_FILE;
const byTable = Object.create(null);
let seq = 0;
const BATCH_TABLE = Symbol('batchTable');
function sniff(request, chunk) {
  if (request[BATCH_TABLE] !== undefined || chunk === undefined || chunk === null) return;
  if (typeof chunk === 'function' || !String(request.path || '').includes('$batch')) return;
  const text = Buffer.isBuffer(chunk) ? chunk.toString('latin1', 0, 8192) : String(chunk).slice(0, 8192);
  const match = /\\/devstoreaccount1\\/([A-Za-z][A-Za-z0-9]*)[(?\\s]/.exec(text);
  if (match !== null) request[BATCH_TABLE] = match[1];
}
for (const method of ['write', 'end']) {
  const original = http.ClientRequest.prototype[method];
  http.ClientRequest.prototype[method] = function (chunk, ...rest) {
    sniff(this, chunk);
    return original.call(this, chunk, ...rest);
  };
}
dc.subscribe('http.client.request.start', ({ request }) => {
  const match = /^\\/devstoreaccount1\\/([^/?(]*)/.exec(request.path || '');
  if (match === null) return;
  let table = decodeURIComponent(match[1]) || '(account)';
  if (table === '$batch') table = '$batch:' + (request[BATCH_TABLE] || '?');
  byTable[table] = (byTable[table] || 0) + 1;
});
process.on('SIGUSR2', () => {
  seq += 1;
  fs.writeFileSync(file + '.tmp', JSON.stringify({ seq, byTable }));
  fs.renameSync(file + '.tmp', file);
});
`;

/** Requests to the development storage account, by table. */
export type TableOps = Record<string, number>;

export interface HostProcess {
  readonly child: ChildProcess;
  output(): string;
  /** The child's table ops so far (only when launched with `countTableOps`). */
  tableOps(): Promise<TableOps>;
  stop(): Promise<void>;
}

export interface HostOptions {
  /** What the errors call the child (`up`, `devhost`). */
  readonly name: string;
  /** The script and its arguments, run with this Node. */
  readonly args: readonly string[];
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** The benchmark's own folder, for the table-op counter's files. */
  readonly workDir: string;
  readonly countTableOps?: boolean;
  /** The line that says the child is ready, and what it says (for the errors). */
  readonly ready: RegExp;
  readonly saying: string;
}

/** `after - before`, table by table. */
export function tableOpsSince(after: TableOps, before: TableOps): TableOps {
  return Object.fromEntries(Object.entries(after).map(([t, n]) => [t, n - (before[t] ?? 0)]));
}

export function totalTableOps(ops: TableOps): number {
  return Object.values(ops).reduce((total, n) => total + n, 0);
}

/**
 * Starts the child; once it has printed `ready`, answers what `whenReady` makes of the match.
 * Stops the child if that, or anything before it, fails.
 */
export async function launchHost<T>(
  options: HostOptions,
  whenReady: (ready: RegExpExecArray, host: HostProcess) => T | Promise<T>,
): Promise<T> {
  const host = startChild(options);
  try {
    for (let poll = 0; poll < READY_POLLS; poll += 1) {
      const ready = options.ready.exec(host.output());
      if (ready !== null) return await whenReady(ready, host);
      if (host.child.exitCode !== null || host.child.signalCode !== null)
        throw new Error(`${options.name} exited before saying ${options.saying}:\n${host.output()}`);
      await delay(READY_POLL_MS);
    }
    throw new Error(`${options.name} did not say ${options.saying}:\n${host.output()}`);
  } catch (error) {
    await host.stop();
    throw error;
  }
}

export interface UpOptions {
  /** The benchmark's own folder; `up` keeps its data (Azurite's, the dev issuer's key) in `data` below it. */
  readonly workDir: string;
  /** The app's function key (DEVHOST_FUNCTION_KEY), which every request carries. */
  readonly functionKey: string;
  /** Added to this process's environment (LUCIUS_TASK_HUB, LUCIUS_RATE_LIMITS, ...). */
  readonly env?: NodeJS.ProcessEnv;
  /** The tenants of the dev token. */
  readonly tenants: readonly string[];
  readonly countTableOps?: boolean;
}

export interface Up extends HostProcess {
  /** `http://localhost:<port>/api`. */
  readonly apiUrl: string;
  readonly serviceBusConnection: string;
  readonly tableConnection: string;
  /** The function key and a bearer token of the dev issuer in `up`'s data folder for every tenant asked for (submit and read). */
  readonly headers: { readonly 'x-functions-key': string; readonly authorization: string };
}

/** `up --no-workers` on free ports, answered once it says Lucius is running, with what it printed. */
export async function launchUp(options: UpOptions): Promise<Up> {
  const dataDir = join(options.workDir, 'data');
  return launchHost(
    {
      name: 'up',
      args: [LAUNCHER_CLI, 'up', '--port', '0', '--servicebus-port', '0', '--data', dataDir, '--no-workers'],
      env: { ...options.env, DEVHOST_FUNCTION_KEY: options.functionKey },
      workDir: options.workDir,
      countTableOps: options.countTableOps,
      ready: /^Lucius is running at (http:\/\/localhost:\d+\/api)\b/m,
      saying: 'Lucius is running',
    },
    async ([, apiUrl], host) => {
      const output = host.output();
      const serviceBus = /^Service Bus emulator:\s+(\S+)$/m.exec(output)?.[1];
      const table = /^Azurite Table service: (http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(output)?.[1];
      if (apiUrl === undefined || serviceBus === undefined || table === undefined)
        throw new Error(`up printed no emulator connection string or Azurite endpoint:\n${output}`);
      const token = await (
        await DevIssuer.open(dataDir)
      ).issueDevToken({
        tenants: options.tenants,
        roles: ['Lucius.Submit', 'Lucius.Read'],
        subject: 'lucius-bench',
        ttlSeconds: 6 * 3600,
      });
      return {
        ...host,
        apiUrl,
        serviceBusConnection: serviceBus,
        tableConnection: devTableConnectionString(table),
        headers: { 'x-functions-key': options.functionKey, authorization: `Bearer ${token}` },
      };
    },
  );
}

/**
 * Runs `use` on `up` launched in a fresh temporary folder (named after `prefix`). When anything
 * fails, prints up's output; whatever happens, stops `up` and removes the folder.
 */
export async function withUp<T>(
  prefix: string,
  options: Omit<UpOptions, 'workDir'>,
  use: (up: Up) => Promise<T>,
): Promise<T> {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  let up: Up | undefined;
  try {
    up = await launchUp({ ...options, workDir });
    return await use(up);
  } catch (error) {
    if (up !== undefined) console.error(`devhost output:\n${up.output()}`);
    throw error;
  } finally {
    await up?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * POST /v1/orchestrate: a 2-step job (`OCR->EMBEDDING`) for `tenant`, its blobs named after `name`;
 * answers its job id.
 */
export async function submitJob(up: Up, tenant: string, name: string): Promise<string> {
  const response = await fetch(`${up.apiUrl}/v1/orchestrate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...up.headers },
    body: JSON.stringify({
      tenant_id: tenant,
      request_type: 'OCR->EMBEDDING',
      input_ref: `blob://in/${name}.pdf`,
      output_ref: `blob://out/${name}`,
      payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
      schema_version: 'v1',
    }),
  });
  const body = (await response.json()) as { jobId?: string };
  if (response.status !== 202 || body.jobId === undefined)
    throw new Error(`orchestrate answered ${response.status}: ${JSON.stringify(body)}`);
  return body.jobId;
}

/** What the benchmarks read of GET /v1/jobs/{id}. */
export interface JobView {
  readonly status?: string;
  readonly failure?: { readonly failureClass?: string };
  readonly steps?: ReadonlyArray<{ readonly staleReplies?: number; readonly attemptNo?: number }>;
}

/** GET /v1/jobs/{id} of `tenant`'s job. */
export async function readJob(up: Up, tenant: string, jobId: string): Promise<JobView> {
  const response = await fetch(`${up.apiUrl}/v1/jobs/${jobId}?tenant_id=${tenant}`, { headers: up.headers });
  if (response.status !== 200) throw new Error(`job ${jobId} answered ${response.status}`);
  return (await response.json()) as JobView;
}

function startChild(options: HostOptions): HostProcess {
  const countFile = join(options.workDir, 'table-ops.json');
  const counting = options.countTableOps === true;
  const preload = join(options.workDir, 'table-counter.cjs');
  if (counting) writeFileSync(preload, PRELOAD);
  const child = spawn(process.execPath, [...(counting ? ['--require', preload] : []), ...options.args], {
    env: { ...process.env, ...options.env, ...(counting ? { BENCH_TABLE_COUNT_FILE: countFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  let seq = 0;
  return {
    child,
    output: () => output,
    async stop() {
      if (!alive()) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    },
    async tableOps() {
      if (!counting) throw new Error(`${options.name} was launched without countTableOps`);
      child.kill('SIGUSR2');
      for (let poll = 0; poll < COUNT_POLLS; poll += 1) {
        if (existsSync(countFile)) {
          const counts = JSON.parse(readFileSync(countFile, 'utf8')) as { seq: number; byTable: TableOps };
          if (counts.seq > seq) {
            seq = counts.seq;
            return counts.byTable;
          }
        }
        await delay(COUNT_POLL_MS);
      }
      throw new Error(`${options.name} wrote no table counts`);
    },
  };
}
