/**
 * Kill and restart, nothing faked: devhost runs as a real child process (test/devhost/fixtures/
 * restart-app/start-devhost.js) hosting a fixture app whose orchestrations wait on durable timers and
 * external events, with the durable engine on Table Storage in the test Azurite. Once every instance
 * is provably mid-flight (one with an activity still running, one with an event raised before it
 * waits for it), the child is SIGKILLed; a new child on the same tables finishes every instance.
 * The app logs each activity execution with its process id, so the test checks which ran where.
 *
 * The durable timers are real (a few seconds): the child runs on the system clock. Waits poll the
 * Durable HTTP API with a bounded number of short sleeps; nothing asserts on elapsed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testTableConnectionString } from '../../support/table-storage';
import { uniqueTablePrefix } from '../../support/unique';

const BOOTSTRAP = join(__dirname, '..', 'fixtures', 'restart-app', 'start-devhost.js');
const DURABLE = '/runtime/webhooks/durabletask';
/** Long enough for every instance to be started and checked before the kill; short for the test. */
const TIMER_SECONDS = 4;
const POLL_MS = 50;
const MAX_POLLS = 400;

interface Devhost {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  /** The Durable HTTP API's key header (the master key the host printed at start-up). */
  readonly keyHeader: Record<string, string>;
  /** Everything the child printed so far (for failure messages). */
  readonly output: () => string;
}

interface HistoryEvent {
  readonly EventType: string;
  readonly Name?: string;
  readonly FunctionName?: string;
}

interface Status {
  readonly runtimeStatus: string;
  readonly output: unknown;
  readonly historyEvents?: HistoryEvent[];
}

const workDir = mkdtempSync(join(tmpdir(), 'devhost-restart-'));
const activityLog = join(workDir, 'activities.log');
const hub = uniqueTablePrefix('restart');
const children: ChildProcess[] = [];

/** Starts devhost on the fixture app in a child process; resolves once it printed its port. */
function startDevhost(gate: 'block' | 'pass'): Promise<Devhost> {
  const child = spawn(process.execPath, [BOOTSTRAP], {
    env: {
      ...process.env,
      AzureWebJobsStorage: testTableConnectionString(),
      RESTART_APP_HUB: hub,
      RESTART_APP_LOG: activityLog,
      RESTART_APP_GATE: gate,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /^devhost-port=(\d+)$/m.exec(output)?.[1];
      const masterKey = /Master key:\s+(\S+)/.exec(output)?.[1];
      if (port !== undefined && masterKey !== undefined && child.pid !== undefined) {
        child.off('exit', onExit);
        resolve({
          child,
          pid: child.pid,
          baseUrl: `http://127.0.0.1:${port}`,
          keyHeader: { 'x-functions-key': masterKey },
          output: () => output,
        });
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

async function startInstance(host: Devhost, name: string, id: string, input: unknown): Promise<void> {
  const response = await fetch(`${host.baseUrl}${DURABLE}/orchestrators/${name}/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...host.keyHeader },
    body: JSON.stringify(input),
  });
  expect(response.status).toBe(202);
}

async function raiseEvent(host: Devhost, id: string, event: string, data: unknown): Promise<void> {
  const response = await fetch(`${host.baseUrl}${DURABLE}/instances/${id}/raiseEvent/${event}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...host.keyHeader },
    body: JSON.stringify(data),
  });
  expect(response.status).toBe(202);
}

async function status(host: Devhost, id: string): Promise<Status> {
  const response = await fetch(`${host.baseUrl}${DURABLE}/instances/${id}?showHistory=true`, {
    headers: host.keyHeader,
  });
  if (response.status !== 200 && response.status !== 202) {
    throw new Error(`GET instances/${id}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as Status;
}

/** Polls the instance until `done` holds (a bounded number of times, never asserting on time). */
async function waitForInstance(
  host: Devhost,
  id: string,
  what: string,
  done: (status: Status) => boolean,
): Promise<Status> {
  let last: Status | undefined;
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    last = await status(host, id);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `instance ${id} never got to "${what}": ${JSON.stringify(last)}\n--- devhost output ---\n${host.output()}`,
  );
}

function has(status: Status, eventType: string, name?: string): boolean {
  return (status.historyEvents ?? []).some(
    (event) =>
      event.EventType === eventType && (name === undefined || (event.FunctionName ?? event.Name) === name),
  );
}

/** Waits on its timer: the activity before it completed, the timer has not fired. */
const onTimer = (s: Status): boolean =>
  has(s, 'TaskCompleted', 'work') && has(s, 'TimerCreated') && !has(s, 'TimerFired');

/** Every activity execution so far, as `<first|second|?> <instanceId> <step>`, sorted. */
function executions(first: Devhost, second?: Devhost): string[] {
  if (!existsSync(activityLog)) return [];
  return readFileSync(activityLog, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [pid, ...rest] = line.split(' ');
      const who = pid === String(first.pid) ? 'first' : pid === String(second?.pid) ? 'second' : `pid ${pid}`;
      return `${who} ${rest.join(' ')}`;
    })
    .sort();
}

afterAll(async () => {
  await Promise.all(children.map(kill));
  rmSync(workDir, { recursive: true, force: true });
});

describe('devhost killed mid-flight and started again on the same tables', () => {
  it('finishes every orchestration, delivers buffered events and re-runs only the interrupted activity', async () => {
    const first = await startDevhost('block');
    const timerInput = { seconds: TIMER_SECONDS };
    await startInstance(first, 'timerSequence', 'timer-1', timerInput);
    await startInstance(first, 'timerSequence', 'timer-2', timerInput);
    await startInstance(first, 'timerThenEvent', 'early-event', timerInput);
    await startInstance(first, 'approvalOrTimeout', 'approval', null);
    await startInstance(first, 'gatedSteps', 'gated', null);

    // Provably mid-flight before the kill.
    await waitForInstance(first, 'timer-1', 'waiting on its timer', onTimer);
    await waitForInstance(first, 'timer-2', 'waiting on its timer', onTimer);
    await waitForInstance(first, 'early-event', 'waiting on its timer', onTimer);
    await raiseEvent(first, 'early-event', 'go', 'raised-before-kill');
    const buffered = await waitForInstance(
      first,
      'early-event',
      'holding the go event while its timer waits',
      (s) => has(s, 'EventRaised', 'go'),
    );
    expect(has(buffered, 'TimerFired')).toBe(false);
    await waitForInstance(
      first,
      'approval',
      'waiting for approval',
      (s) => has(s, 'TaskCompleted', 'work') && has(s, 'TimerCreated') && !has(s, 'EventRaised'),
    );
    await waitForInstance(
      first,
      'gated',
      'running the gate activity',
      (s) => has(s, 'TaskCompleted', 'work') && has(s, 'TaskScheduled', 'gate'),
    );
    const beforeKill = executions(first);
    expect(beforeKill).toContain('first gated gate');
    await kill(first.child);

    const second = await startDevhost('pass');
    await raiseEvent(second, 'approval', 'approve', 'alice');
    const completed = (s: Status): boolean => s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending';
    const outputs: Record<string, [string, unknown]> = {};
    for (const id of ['timer-1', 'timer-2', 'early-event', 'approval', 'gated']) {
      const done = await waitForInstance(second, id, 'finished', completed);
      outputs[id] = [done.runtimeStatus, done.output];
    }

    expect(outputs).toEqual({
      'timer-1': ['Completed', ['BEFORE-TIMER', 'AFTER-TIMER']],
      'timer-2': ['Completed', ['BEFORE-TIMER', 'AFTER-TIMER']],
      'early-event': [
        'Completed',
        { before: 'BEFORE-TIMER', go: 'raised-before-kill', after: 'AFTER-RAISED-BEFORE-KILL' },
      ],
      approval: ['Completed', { before: 'BEFORE-APPROVAL', approvedBy: 'alice', after: 'AFTER-APPROVAL' }],
      gated: ['Completed', ['BEFORE-GATE', 'GATE', 'AFTER-GATE']],
    });
    // Activities that completed before the kill ran once, in the first process; the gate activity,
    // running when it was killed, ran again in the second; everything after ran once, in the second.
    expect(executions(first, second)).toEqual(
      [
        'first timer-1 before-timer',
        'second timer-1 after-timer',
        'first timer-2 before-timer',
        'second timer-2 after-timer',
        'first early-event before-timer',
        'second early-event after-raised-before-kill',
        'first approval before-approval',
        'second approval after-approval',
        'first gated before-gate',
        'first gated gate',
        'second gated gate',
        'second gated after-gate',
      ].sort(),
    );
  }, 120_000);
});
