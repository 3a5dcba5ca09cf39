/**
 * The launcher's `up` (what `npm start` runs) as a real child process that a test can kill like a
 * crash: started from its TypeScript sources through test/launcher/fixtures/launcher-cli.js (no build
 * needed; the app is this project's src/index.ts), detached into its own process group so that one
 * `SIGKILL` to the group takes `up` and every child it started (Azurite included) at once, and on a
 * data folder the caller owns, so a second `up` on the same folder resumes what the first left.
 * Every port is picked free on each start.
 *
 * Resolves once `up` printed that Lucius runs. Waits poll with a bounded number of short sleeps;
 * nothing asserts on elapsed time.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from '../support/devhost-up';

const CLI = join(__dirname, 'fixtures', 'launcher-cli.js');
const POLL_MS = 50;
/** Polls while `up` starts (Azurite loading its data, the emulator, the app). */
const START_POLLS = 3_000;
/** Polls for the group to be gone after a SIGKILL. */
const GONE_POLLS = 200;

export interface KillableUp {
  /** The process id of `up`, which is also its process group id. */
  readonly pid: number;
  /** `http://localhost:<port>/api`, as printed. */
  readonly apiUrl: string;
  /** `http://localhost:<port>` */
  readonly baseUrl: string;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  /** SIGKILLs the whole process group (`up`, Azurite, everything in it); resolves once all are gone. */
  kill(): Promise<void>;
}

/** Starts `up` on `dataDir` with `args` (worker modes, ...) and `env` over this process's environment. */
export async function startKillableUp(
  dataDir: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<KillableUp> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'up',
      '--entry',
      'src/index.ts',
      '--port',
      '0',
      '--servicebus-port',
      '0',
      '--data',
      dataDir,
      ...args,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('up could not be started');
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const kill = async (): Promise<void> => {
    signalGroup(pid, 'SIGKILL');
    for (let poll = 0; poll < GONE_POLLS && groupAlive(pid); poll += 1) await sleep(POLL_MS);
    if (groupAlive(pid)) throw new Error(`process group ${pid} is still alive after SIGKILL`);
  };
  try {
    for (let poll = 0; poll < START_POLLS; poll += 1) {
      const apiUrl = /^Lucius is running at (http:\/\/localhost:(\d+)\/api)\b/m.exec(output);
      if (apiUrl !== null) {
        return {
          pid,
          apiUrl: apiUrl[1] as string,
          baseUrl: `http://localhost:${apiUrl[2]}`,
          output: () => output,
          kill,
        };
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `up exited before Lucius was running (${child.exitCode ?? child.signalCode}):\n${output}`,
        );
      }
      await sleep(POLL_MS);
    }
    throw new Error(`up did not say Lucius is running:\n${output}`);
  } catch (error) {
    await kill();
    throw error;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Whether any process of the group is left (zombies of the group leader aside, reaped by node). */
function groupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}
