/**
 * The launcher's `up` (what `npm start` runs) as a real child process, from its TypeScript sources
 * through test/launcher/fixtures/launcher-cli.js (no build needed; the app is this project's src/index.ts),
 * with its own Azurite and Service Bus emulator, data in a fresh temporary folder and every port
 * picked free. Resolves once `up` printed that Lucius runs, with the URLs and connection string it
 * printed. Waits poll with a bounded number of short sleeps; nothing asserts on elapsed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '..', 'launcher', 'fixtures', 'launcher-cli.js');
const POLL_MS = 50;
/** Polls while `up` starts (Azurite, the emulator, the app). */
const START_POLLS = 600;

export interface Up {
  readonly child: ChildProcess;
  /** `http://localhost:<port>/api`, as printed. */
  readonly apiUrl: string;
  /** `http://localhost:<port>` */
  readonly baseUrl: string;
  readonly serviceBusConnection: string;
  readonly ports: { readonly host: number; readonly azurite: number; readonly serviceBus: number };
  readonly dataDir: string;
  /** Everything the child printed so far (for failure messages). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGINT, then SIGKILL if it lingers; removes the data folder. */
  stop(): Promise<void>;
}

export async function startUp(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Up> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lucius-up-'));
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
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let poll = 0; poll < START_POLLS; poll += 1) {
      const apiUrl = /^Lucius is running at (http:\/\/localhost:(\d+)\/api)\b/m.exec(output);
      if (apiUrl !== null) {
        const serviceBus = /^Service Bus emulator:\s+(\S+)$/m.exec(output)?.[1];
        const azurite = /^Azurite Table service: http:\/\/127\.0\.0\.1:(\d+)\//m.exec(output)?.[1];
        const serviceBusPort = /Endpoint=sb:\/\/[^:;]+:(\d+);/.exec(serviceBus ?? '')?.[1];
        if (serviceBus === undefined || azurite === undefined || serviceBusPort === undefined) {
          throw new Error(`up printed no emulator connection string or Azurite endpoint:\n${output}`);
        }
        const hostPort = Number(apiUrl[2]);
        return {
          child,
          apiUrl: apiUrl[1] as string,
          baseUrl: `http://localhost:${hostPort}`,
          serviceBusConnection: serviceBus,
          ports: { host: hostPort, azurite: Number(azurite), serviceBus: Number(serviceBusPort) },
          dataDir,
          output: () => output,
          exited,
          stop,
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
    await stop();
    throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; throws after `polls`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  polls = 600,
  everyMs = 100,
): Promise<T> {
  let last: unknown;
  for (let poll = 0; poll < polls; poll += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what} did not happen${last === undefined ? '' : `: ${String(last)}`}`);
}
