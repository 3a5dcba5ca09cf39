/**
 * Fault injection at every commit step of the durable engine, nothing faked: devhost runs as a real
 * child process (test/devhost/fixtures/crash-app/start-devhost.js) with DEVHOST_CRASH_AT=<step>, so it
 * SIGKILLs itself the first time the engine finishes that step. A new child on the same tables must
 * finish every instance exactly as an uncrashed run does: the same status and output, every
 * activity's side effect at least once, and a bounded history (no instance loops).
 *
 * Starts that the killed child never answered are retried on the new one, as a client would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMIT_STEPS } from '../../../devhost/durable/engine/crash-points';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTablePrefix } from '../../support/unique';

const BOOTSTRAP = join(__dirname, '..', 'fixtures', 'crash-app', 'start-devhost.js');
const DURABLE = '/runtime/webhooks/durabletask';
const POLL_MS = 50;
const MAX_POLLS = 400;
/** The master key start-devhost.js gives the host. */
const KEY_HEADER = { 'x-functions-key': 'crash-app-master-key' };
/** The longest uncrashed history (the parent's, as the display shows it) is 8 events. */
const MAX_HISTORY_EVENTS = 12;

interface Devhost {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly exited: Promise<string>;
  readonly output: () => string;
}

interface Status {
  readonly runtimeStatus: string;
  readonly output: unknown;
  readonly historyEvents?: unknown[];
}

const LEASED = { lease: 'matches', first: 'FIRST', after: 'AFTER-GRANT' };
/** Each instance: how it is started, and what it ends with when nothing crashes. */
const INSTANCES = [
  { id: 'leased', name: 'leased', input: null, expected: ['Completed', LEASED] },
  {
    id: 'parent',
    name: 'parent',
    input: null,
    expected: ['Completed', { child: LEASED, start: 'PARENT-START', end: 'PARENT-END' }],
  },
  { id: 'looping', name: 'looping', input: 0, expected: ['Completed', 'ROUND-2 done'] },
] as const;
/** Every side effect an uncrashed run has, as `<instanceId> <step>`. */
const SIDE_EFFECTS = [
  'leased grant',
  'leased first',
  'leased after-grant',
  'parent parent-start',
  'parent parent-end',
  'parent-child grant',
  'parent-child first',
  'parent-child after-grant',
  'looping round-0',
  'looping round-1',
  'looping round-2',
].sort();

const workDir = mkdtempSync(join(tmpdir(), 'devhost-crash-'));
const children: ChildProcess[] = [];

function startDevhost(hub: string, log: string, crashAt?: string): Promise<Devhost> {
  const child = spawn(process.execPath, [BOOTSTRAP], {
    env: {
      ...process.env,
      AzureWebJobsStorage: testTableConnectionString(),
      CRASH_APP_HUB: hub,
      CRASH_APP_LOG: log,
      DEVHOST_CRASH_AT: crashAt ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /^devhost-port=(\d+)$/m.exec(output)?.[1];
      if (port !== undefined) {
        child.off('exit', onExit);
        resolve({ child, baseUrl: `http://127.0.0.1:${port}`, exited, output: () => output });
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new Error(`devhost exited before listening (${code ?? signal}):\n${output}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Starts an instance; false when the process died before answering (the client retries). */
async function tryStart(host: Devhost, instance: (typeof INSTANCES)[number]): Promise<boolean> {
  try {
    const response = await fetch(`${host.baseUrl}${DURABLE}/orchestrators/${instance.name}/${instance.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...KEY_HEADER },
      body: JSON.stringify(instance.input),
    });
    // 409: a start the killed process answered after all is running already.
    if (response.status !== 202 && response.status !== 409)
      throw new Error(`start ${instance.id}: ${response.status} ${await response.text()}`);
    return true;
  } catch (error) {
    // fetch failed: connection refused or reset (undici's TypeError, from outside jest's realm).
    if ((error as Error).message === 'fetch failed') return false;
    throw error;
  }
}

async function waitForFinish(host: Devhost, id: string): Promise<Status> {
  let last: Status | undefined;
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    const response = await fetch(`${host.baseUrl}${DURABLE}/instances/${id}?showHistory=true`, {
      headers: KEY_HEADER,
    });
    if (response.status === 200 || response.status === 202) {
      last = (await response.json()) as Status;
      if (last.runtimeStatus !== 'Running' && last.runtimeStatus !== 'Pending') return last;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `instance ${id} never finished: ${JSON.stringify(last)}\n--- devhost ---\n${host.output()}`,
  );
}

/** The side effects seen, as `<instanceId> <step>`, each once, sorted. */
function sideEffects(log: string): string[] {
  if (!existsSync(log)) return [];
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(' ').slice(1).join(' '));
  return [...new Set(lines)].sort();
}

afterAll(async () => {
  await Promise.all(children.map(kill));
  rmSync(workDir, { recursive: true, force: true });
});

describe('devhost killed at each commit step of the durable engine', () => {
  it.each(COMMIT_STEPS)(
    'finishes every instance as an uncrashed run does after a kill at %s',
    async (step) => {
      const hub = uniqueTablePrefix('crash');
      const log = join(workDir, `${hub}.log`);
      const first = await startDevhost(hub, log, step);
      const unanswered = [];
      for (const instance of INSTANCES) if (!(await tryStart(first, instance))) unanswered.push(instance);
      expect(await first.exited).toBe('SIGKILL');
      expect(first.output()).toContain(`DEVHOST_CRASH_AT=${step} reached`);

      const second = await startDevhost(hub, log);
      for (const instance of unanswered) expect(await tryStart(second, instance)).toBe(true);
      const finished: Record<string, unknown> = {};
      for (const { id } of [...INSTANCES, { id: 'parent-child' }]) {
        const status = await waitForFinish(second, id);
        finished[id] = [status.runtimeStatus, status.output];
        expect((status.historyEvents ?? []).length).toBeLessThanOrEqual(MAX_HISTORY_EVENTS);
      }

      expect(finished).toEqual({
        ...Object.fromEntries(INSTANCES.map(({ id, expected }) => [id, expected])),
        'parent-child': ['Completed', LEASED],
      });
      expect(sideEffects(log)).toEqual(SIDE_EFFECTS);
    },
    60_000,
  );
});
