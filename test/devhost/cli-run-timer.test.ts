/**
 * `devhost run-timer` end to end: `devhost start` hosts a fixture app with timer functions in a child
 * process (from devhost's TypeScript sources, through test/devhost/fixtures/register-ts.js), and
 * `devhost run-timer` (another process) runs a timer now with the master key from the key file the
 * host wrote; for a function of another kind it says what it is, for an unknown name it lists the
 * timers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFile } from '../../devhost/launch';

const ROOT = join(__dirname, '..', '..');
const REGISTER_TS = join(__dirname, 'fixtures', 'register-ts.js');
const CLI = join(ROOT, 'devhost', 'cli.ts');
const APP_DIR = join(__dirname, 'fixtures', 'timer-app');
const POLL_MS = 50;
const MAX_POLLS = 400;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let scratch: string;
let runLog: string;
let devhost: ChildProcess | undefined;
let port: number;

/** The environment both processes get: no key from this one, no storage (durable state in memory). */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TIMER_APP_LOG: runLog };
  delete env.DEVHOST_MASTER_KEY;
  delete env.DEVHOST_FUNCTION_KEY;
  delete env.AzureWebJobsStorage;
  return env;
}

/** `devhost start` on the fixture app; resolves with its port once it says it is hosting. */
function startDevhost(): Promise<number> {
  const child = spawn(process.execPath, ['-r', REGISTER_TS, CLI, 'start', '--app', APP_DIR, '--port', '0'], {
    cwd: ROOT,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  devhost = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void =>
      reject(new Error(`devhost start exited (${String(code)}) before hosting:\n${output}`));
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const hosting = /devhost is hosting .* at http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (hosting !== null) {
        child.off('exit', onExit);
        resolve(Number(hosting[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Runs `devhost <args>` to completion. */
function devhostCli(args: readonly string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['-r', REGISTER_TS, CLI, ...args], {
    cwd: ROOT,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runs(): string[] {
  return existsSync(runLog)
    ? readFileSync(runLog, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
}

/** Polls the run log until `done` holds (bounded by count, never asserted on time). */
async function untilRuns(done: (lines: string[]) => boolean): Promise<string[]> {
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    const lines = runs();
    if (done(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`the timer runs never matched: ${JSON.stringify(runs())}`);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'devhost-run-timer-'));
  runLog = join(scratch, 'runs.log');
  port = await startDevhost();
}, 60_000);

afterAll(async () => {
  const child = devhost;
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('devhost run-timer', () => {
  it('runs a timer function of a running devhost now, with the key file the host wrote', async () => {
    expect(existsSync(keyFile(port))).toBe(true);
    const run = await devhostCli(['run-timer', 'nightlySweep', '--port', String(port)]);
    expect(run).toMatchObject({
      code: 0,
      stdout: "nightlySweep: triggered (see the host's log for the run)\n",
    });
    expect(await untilRuns((lines) => lines.length > 0)).toEqual(['nightlySweep isPastDue=false']);
  }, 60_000);

  it('finds the timer by its name in any case, as the admin API does', async () => {
    const before = runs().length;
    const run = await devhostCli(['run-timer', 'WEEKLYDIGEST', '--port', String(port)]);
    expect(run.code).toBe(0);
    expect((await untilRuns((lines) => lines.length > before)).slice(before)).toEqual([
      'weeklyDigest isPastDue=false',
    ]);
  }, 60_000);

  it('says what a function of another kind is instead of running it', async () => {
    const run = await devhostCli(['run-timer', 'status', '--port', String(port)]);
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'status is an HTTP function: call GET /api/status\n',
    });
  }, 60_000);

  it('lists the timer functions for an unknown name', async () => {
    const run = await devhostCli(['run-timer', 'nope', '--port', String(port)]);
    expect(run).toMatchObject({
      code: 1,
      stderr: 'no function is named "nope"; its timer functions: nightlySweep, weeklyDigest\n',
    });
  }, 60_000);

  it('refuses a key the host does not hold', async () => {
    const run = await devhostCli(['run-timer', 'nightlySweep', '--port', String(port), '--key', 'wrong']);
    expect(run).toMatchObject({
      code: 1,
      stderr:
        'nightlySweep: 401 the master key was refused (devhost prints it at start-up; pass it with --key)\n',
    });
  }, 60_000);

  it('stops on SIGTERM and removes its key file', async () => {
    const child = devhost as ChildProcess;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(keyFile(port))).toBe(false);
  }, 60_000);
});
