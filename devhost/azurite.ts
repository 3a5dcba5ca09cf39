/**
 * Starts the Azurite Table service (npm `azurite`, no binary download) as a child process on a free
 * loopback port, for the test setup and for `npm start`.
 *
 * - In-memory by default (each start is empty); `location` keeps data on disk across restarts,
 *   and then every write is in a journal on disk before Azurite answers it (azurite-journal.ts), so
 *   an acknowledged write survives a killed Azurite (`durableWrites: false`: only Azurite's own
 *   5 s saves of the whole database, which a kill can lose).
 * - Resolves once Azurite reports it started and the port accepts connections; rejects with
 *   Azurite's own output when it exits early or is not up within `startTimeoutMs`.
 * - `stop()` ends the process and resolves when it has exited (idempotent); `crash()` SIGKILLs it.
 *
 * The connection string uses the well-known development account (devstoreaccount1), which is public
 * and documented; it grants nothing outside the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { journalProgram } from './azurite-journal';

export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const LOOPBACK = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;
/** What Azurite 3.x prints once its server listens (printed even with --silent). */
const STARTED_MESSAGE = 'Azurite Table service successfully started';
/** Keeps the tail of Azurite's output for error messages without growing without bound. */
const MAX_CAPTURED_OUTPUT = 16_000;

export interface StartAzuriteOptions {
  /** Listening port; a free loopback port when absent. */
  readonly port?: number;
  /**
   * Directory for persistent data (created when missing). Absent: in-memory persistence, and the
   * process runs in a fresh temporary directory that `stop()` removes.
   */
  readonly location?: string;
  /**
   * With `location`: journal each write to disk before answering it (default true). False keeps
   * Azurite's own persistence, a save every 5 s, which loses the writes of the last seconds when killed.
   */
  readonly durableWrites?: boolean;
  /**
   * With durable writes: how often Azurite saves the whole database, which empties the journal
   * (default 5000 ms, Azurite's own). Shorter: a smaller journal to replay at start-up, more saving.
   */
  readonly fullSaveIntervalMs?: number;
  /** Print Azurite's access log and messages to this process's stdout/stderr. Default false. */
  readonly verbose?: boolean;
  readonly startTimeoutMs?: number;
}

export interface AzuriteHandle {
  /** e.g. `http://127.0.0.1:53187/devstoreaccount1` */
  readonly tableEndpoint: string;
  /** Account connection string for `TableClient.fromConnectionString`. */
  readonly connectionString: string;
  readonly port: number;
  stop(): Promise<void>;
  /** SIGKILLs Azurite (nothing flushed, as in a crash) and resolves once it has exited. */
  crash(): Promise<void>;
}

export function devTableConnectionString(tableEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};TableEndpoint=${tableEndpoint};`;
}

/**
 * The arguments of the `node` process that runs Azurite's Table service on `port` (for the
 * journal, through the preamble of azurite-journal.ts). Run it in `options.location` when given.
 */
export function azuriteArguments(port: number, options: StartAzuriteOptions = {}): string[] {
  const interval = options.fullSaveIntervalMs;
  if (interval !== undefined && !(Number.isInteger(interval) && interval > 0))
    throw new RangeError(
      `fullSaveIntervalMs must be a positive whole number of milliseconds, got ${interval}`,
    );
  const mainScript = require.resolve('azurite/dist/src/table/main.js');
  const persistence =
    options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location];
  const durable = options.location !== undefined && options.durableWrites !== false;
  const storeModule = join(dirname(mainScript), 'persistence', 'LokiTableMetadataStore.js');
  const launcher = durable
    ? [
        '-e',
        journalProgram({ storeModule, ...(interval === undefined ? {} : { fullSaveIntervalMs: interval }) }),
      ]
    : [];
  return [
    ...launcher,
    mainScript,
    '--tableHost',
    LOOPBACK,
    '--tablePort',
    String(port),
    ...persistence,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    ...(options.verbose === true ? [] : ['--silent']),
  ];
}

export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteHandle> {
  if (options.port !== undefined) return startOn(options.port, options);
  // The free port is released before Azurite binds it, so another process may take it first: then
  // Azurite exits with EADDRINUSE and another port is tried.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOn(await findFreePort(), options);
    } catch (error) {
      if (!(error instanceof AzuriteStartError && error.addressInUse) || attempt >= PORT_ATTEMPTS)
        throw error;
    }
  }
}

class AzuriteStartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'AzuriteStartError';
  }
}

async function startOn(port: number, options: StartAzuriteOptions): Promise<AzuriteHandle> {
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const args = azuriteArguments(port, options);
  // Azurite refuses --inMemoryPersistence together with --location, so the in-memory mode runs in a
  // fresh temporary working directory instead (Azurite writes nothing there, but it checks access).
  let workDir: string;
  let scratchDir: string | undefined;
  if (options.location === undefined) {
    scratchDir = await mkdtemp(join(tmpdir(), 'lucius-azurite-'));
    workDir = scratchDir;
  } else {
    await mkdir(options.location, { recursive: true });
    workDir = options.location;
  }
  const child = spawn(process.execPath, args, {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });

  let output = '';
  const capture = (chunk: Buffer, sink: NodeJS.WriteStream): void => {
    output = (output + chunk.toString('utf8')).slice(-MAX_CAPTURED_OUTPUT);
    if (options.verbose === true) sink.write(chunk);
  };
  child.stdout?.on('data', (chunk: Buffer) => capture(chunk, process.stdout));
  child.stderr?.on('data', (chunk: Buffer) => capture(chunk, process.stderr));
  const exited = waitForExit(child);
  // If this process ends without calling stop() (a crash, Ctrl-C), do not leave Azurite running.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const cleanup = async (): Promise<void> => {
    await killAndWait(child, exited);
    process.removeListener('exit', killOnExit);
    if (scratchDir !== undefined) await rm(scratchDir, { recursive: true, force: true });
  };

  try {
    await waitUntilListening(port, timeoutMs, exited, () => output);
  } catch (error) {
    await cleanup();
    throw error;
  }

  const tableEndpoint = `http://${LOOPBACK}:${port}/${DEV_ACCOUNT_NAME}`;
  let stopping: Promise<void> | undefined;
  return {
    tableEndpoint,
    connectionString: devTableConnectionString(tableEndpoint),
    port,
    stop: () => (stopping ??= cleanup()),
    crash: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await (stopping ??= cleanup());
    },
  };
}

/** Asks the OS for a free loopback port (listen on 0), then releases it for the child to take. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() =>
        port === undefined ? reject(new Error('could not determine a free port')) : resolve(port),
      );
    });
  });
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Started = Azurite says so on stdout (so it is our child that listens, not some other process on
 * the port) and the port accepts connections.
 */
async function waitUntilListening(
  port: number,
  timeoutMs: number,
  exited: Promise<ExitInfo>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: ExitInfo | undefined;
  void exited.then((info) => (exit = info));
  for (;;) {
    if (exit !== undefined) {
      const how =
        exit.error?.message ?? (exit.signal !== null ? `signal ${exit.signal}` : `code ${String(exit.code)}`);
      const text = output();
      throw new AzuriteStartError(
        `Azurite Table service exited before it started (${how}). Output:\n${text || '(none)'}`,
        /EADDRINUSE/.test(text),
      );
    }
    if (output().includes(STARTED_MESSAGE) && (await accepts(port))) return;
    if (Date.now() > deadline) {
      throw new AzuriteStartError(
        `Azurite Table service did not start on ${LOOPBACK}:${port} within ${timeoutMs} ms. Output:\n${output() || '(none)'}`,
        false,
      );
    }
    await delay(50);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function killAndWait(child: ChildProcess, exited: Promise<ExitInfo>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGINT lets Azurite close its server (and flush a persistent store); SIGKILL if it lingers.
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
