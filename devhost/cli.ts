/**
 * The devhost command line (compiled: `node dist/devhost/cli.js`; `npm run devhost -- <command>`).
 *
 *   start [--app DIR] [--port N] [--key K] [--master-key K] [--system-key K] [--entry FILE]
 *       Hosts a function app directory (default: this project; its package.json `main` must exist,
 *       so build first, or `--entry` names the entry instead, e.g. `src/index.ts` to host from
 *       source). Keys: `--key` sets the function key (and the master key unless `--master-key`);
 *       `--system-key` the `durabletask_extension` system key the Durable HTTP API requires (the master
 *       key works too); DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_SYSTEM_KEY work too;
 *       otherwise generated. `--port 0` picks a free port.
 *   run-timer <name> [--port N] [--key MASTER_KEY]
 *       Runs a timer function now on a running devhost (POST /admin/functions/{name}). The master key
 *       comes from --key, DEVHOST_MASTER_KEY, or the key file the running host wrote.
 *   up [--port N] [--servicebus-port N] [--data DIR] [--entry FILE] [--key K] [--master-key K]
 *      [--workers SPEC | --no-workers]
 *       What `npm start` runs after the build: Azurite with data kept in ./.azurite (or --data DIR),
 *       the Service Bus emulator with Lucius's topology (data in <data>/servicebus, AMQP on 5672 or
 *       --servicebus-port), then devhost on this project with the ledger backend on that Azurite and
 *       ServiceBusConnection pointing at the emulator, on port 7071 (or --port), then the demo
 *       OCR/EMBEDDING/SIS workers (workers/) on that emulator, in the modes of --workers SPEC or
 *       LUCIUS_DEMO_WORKERS (e.g. `OCR=flaky:2,EMBEDDING=slow`; `off`, like --no-workers, starts
 *       none). Either port may be 0 (a free one); the lines printed once everything runs carry the
 *       ports actually used, the workers' modes, a curl line for the Durable HTTP API and the
 *       environment the `lucius` CLI needs to reach this devhost (also written to <data>/lucius.env).
 *   servicebus [--config FILE] [--port N] [--data DIR]
 *       The Service Bus emulator alone (Lucius's topology, or a Config.json-shaped FILE).
 *
 * Every command takes `--help` (or `-h`). Ctrl-C (SIGINT) or SIGTERM stops cleanly: the demo workers
 * first, then the host, the emulator and Azurite. Exit code 1 with a one-line message for an
 * operator's mistake (a DevhostError: bad app, port in use, ...; a bad setting; a bad worker spec).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startAzurite } from './azurite';
import {
  DEFAULT_AMQP_PORT,
  luciusEmulatorConfig,
  readEmulatorConfig,
  startServiceBusEmulator,
  type ServiceBusEmulator,
} from './servicebus/emulator';
import { DevhostError } from './host/errors';
import { applyLocalSettings, readHostConfig, requireHubName, type HostConfig } from './host/host-config';
import { createDurableSupport } from './durable/durable-support';
import { MemoryDurableStore, TableDurableStore } from './durable/engine';
import { appProcessEnv } from './host/functions-core';
import { DEFAULT_PORT, startHost, type DevHost, type DurableSupport } from './host/host';
import { parseSettings } from '../src/config/settings';
import { startDemoWorkers, type DemoWorkers } from '../workers/demo-workers';
import { WorkerConfigError } from '../workers/errors';
import { describeModes, parseWorkerModes, type WorkerModes } from '../workers/modes';

interface Flags {
  readonly positional: string[];
  readonly values: Map<string, string>;
  /** Flags that take no value (`--no-workers`). */
  readonly switches: Set<string>;
}

const SWITCHES = new Set(['no-workers', 'help']);

function parseFlags(args: readonly string[]): Flags {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '-h') {
      switches.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    if (SWITCHES.has(arg.slice(2))) {
      switches.add(arg.slice(2));
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw usage(`${arg} needs a value`);
      values.set(arg.slice(2), value);
      i += 1;
    }
  }
  return { positional, values, switches };
}

/** Each command's synopsis, printed by `--help` and under a usage error. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  start:
    'devhost start [--app DIR] [--entry FILE] [--port N] [--key K] [--master-key K] [--system-key K]\n' +
    '    Hosts a function app directory (default: this project; build it first, or --entry src/index.ts).\n' +
    '    Keys: --key (function key; also the master key unless --master-key), --system-key (the Durable\n' +
    '    HTTP API key); or DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_SYSTEM_KEY; else generated.',
  'run-timer':
    'devhost run-timer <name> [--port N] [--key MASTER_KEY]\n' +
    '    Runs a timer function now on a running devhost (POST /admin/functions/<name>).',
  up:
    'devhost up [--port N] [--servicebus-port N] [--data DIR] [--entry FILE] [--key K] [--master-key K]\n' +
    '           [--system-key K] [--workers SPEC | --no-workers]\n' +
    '    What `npm start` runs: Azurite (data in .azurite/), the Service Bus emulator, Lucius on devhost\n' +
    '    and the demo workers; prints the keys and the lucius CLI environment (also in <data>/lucius.env).',
  servicebus:
    'devhost servicebus [--config FILE] [--port N] [--data DIR]\n' +
    "    The Service Bus emulator alone (Lucius's topology, or a Config.json-shaped FILE).",
};

function usageText(command?: string): string {
  const known = command === undefined ? undefined : COMMAND_USAGE[command];
  return known === undefined
    ? `usage:\n${Object.values(COMMAND_USAGE)
        .map((text) => `  ${text.split('\n').join('\n  ')}`)
        .join('\n')}\n`
    : `usage: ${known}\n`;
}

function usage(problem: string, command?: string): Error {
  return new DevhostError('invalid_function', `${problem}\n${usageText(command)}`.trimEnd());
}

function portFlag(flags: Flags): number {
  const raw = flags.values.get('port');
  if (raw === undefined) return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usage(`--port must be a port number (got "${raw}")`);
  return port;
}

/** The project this CLI belongs to (the directory with package.json and host.json above it). */
function projectDir(): string {
  let dir = __dirname;
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json')))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

function keyFile(port: number): string {
  return join(tmpdir(), 'lucius-devhost', `${port}.json`);
}

/**
 * Durable support for a hosted app: the engine keeps instances and histories in Table Storage
 * (`<hub>Instances`, `<hub>History`, `<hub>Work`) on the app's AzureWebJobsStorage, so a restarted
 * devhost resumes every in-flight orchestration; without a storage connection they live in memory.
 */
function durableSupportFor(config: HostConfig): DurableSupport {
  const connectionString = appProcessEnv().AzureWebJobsStorage;
  const store =
    connectionString !== undefined && connectionString !== ''
      ? new TableDurableStore({ connection: { connectionString }, tablePrefix: config.durableTask.hubName })
      : new MemoryDurableStore();
  return createDurableSupport({
    config,
    store,
    hostUrl: () => `http://${appProcessEnv().WEBSITE_HOSTNAME ?? `127.0.0.1:${DEFAULT_PORT}`}`,
    log: (level, message) => (level === 'error' ? console.error : console.log)(`[durable] ${message}`),
  });
}

async function runHost(appDir: string, flags: Flags): Promise<DevHost> {
  // As the host will: local settings first, so host.json's %SETTING% names resolve.
  applyLocalSettings(appDir, appProcessEnv());
  const config = readHostConfig(appDir, appProcessEnv());
  requireHubName(config);
  const durable = durableSupportFor(config);
  const functionKey = flags.values.get('key') ?? process.env.DEVHOST_FUNCTION_KEY;
  const masterKey = flags.values.get('master-key') ?? process.env.DEVHOST_MASTER_KEY;
  const systemKey = flags.values.get('system-key') ?? process.env.DEVHOST_SYSTEM_KEY;
  const entry = flags.values.get('entry');
  const host = await startHost({
    appDir,
    ...(entry === undefined ? {} : { entry }),
    port: portFlag(flags),
    keys: {
      ...(functionKey === undefined ? {} : { functionKey }),
      ...(masterKey === undefined ? {} : { masterKey }),
      ...(systemKey === undefined ? {} : { systemKey }),
    },
    durable,
  });
  const file = keyFile(host.port);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ pid: process.pid, masterKey: host.keys.masterKey }), {
    mode: 0o600,
  });
  return {
    ...host,
    stop: async () => {
      await rm(file, { force: true });
      await host.stop();
    },
  };
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping devhost...\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

async function start(flags: Flags): Promise<void> {
  const appDir = resolve(flags.values.get('app') ?? projectDir());
  const host = await runHost(appDir, flags);
  process.stdout.write(`\ndevhost is hosting ${appDir} at ${host.apiUrl} (Ctrl-C to stop)\n`);
  onShutdown(() => host.stop());
}

async function up(flags: Flags): Promise<void> {
  const appDir = projectDir();
  const workerModes = demoWorkerModes(flags);
  const data = flags.values.get('data');
  const dataDir = data === undefined ? join(appDir, '.azurite') : resolve(data);
  const serviceBusDir = join(dataDir, 'servicebus');
  process.stdout.write(`Starting Azurite (data in ${dataDir})...\n`);
  const azurite = await startAzurite({ location: dataDir });
  let serviceBus: ServiceBusEmulator;
  try {
    process.stdout.write(`Starting the Service Bus emulator (data in ${serviceBusDir})...\n`);
    const port = serviceBusPortFlag(flags);
    serviceBus = await startServiceBusEmulator({
      config: luciusEmulatorConfig(appProcessEnv()),
      dataDir: serviceBusDir,
      port,
    }).catch((error: unknown) => {
      throw portInUse(error, port, '--servicebus-port');
    });
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  process.env.LUCIUS_STORAGE_BACKEND = 'ledger';
  process.env.LUCIUS_TABLE_CONNECTION = azurite.connectionString;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.ServiceBusConnection = serviceBus.connectionString;
  process.env.LUCIUS_TASK_HUB ??= 'LuciusLocal';
  let host: DevHost;
  try {
    host = await runHost(appDir, flags);
  } catch (error) {
    await serviceBus.stop();
    await azurite.stop();
    throw error;
  }
  let workers: DemoWorkers | undefined;
  try {
    workers = workerModes === undefined ? undefined : await runDemoWorkers(workerModes, serviceBus);
  } catch (error) {
    await host.stop();
    await serviceBus.stop();
    await azurite.stop();
    throw error;
  }
  process.stdout.write(`\nAzurite Table service: ${azurite.tableEndpoint}\n`);
  process.stdout.write(`Service Bus emulator:  ${serviceBus.connectionString}\n`);
  process.stdout.write(
    `Demo workers:          ${workers === undefined ? 'off' : `${describeModes(workers.modes)} (LUCIUS_DEMO_WORKERS, --workers, --no-workers)`}\n`,
  );
  const envFile = join(dataDir, 'lucius.env');
  await writeFile(envFile, luciusCliEnv(azurite.connectionString, serviceBus.connectionString, host), {
    mode: 0o600,
  });
  process.stdout.write(
    `lucius CLI:            export ${luciusCliEnv(azurite.connectionString, serviceBus.connectionString, host)
      .trimEnd()
      .split('\n')
      .join(' ')}\n` + `                       (also in ${envFile}: set -a; . ${envFile}; set +a)\n`,
  );
  process.stdout.write(
    `Durable HTTP API:      curl -s 'http://127.0.0.1:${host.port}/runtime/webhooks/durabletask/instances?code=${encodeURIComponent(host.keys.systemKey)}'\n`,
  );
  process.stdout.write(
    `Lucius is running at http://localhost:${host.port}/${host.config.routePrefix} (Ctrl-C to stop)\n`,
  );
  onShutdown(async () => {
    await workers?.stop();
    await host.stop();
    await serviceBus.stop();
    await azurite.stop();
  });
}

/**
 * What the `lucius` CLI needs to reach this devhost, as shell assignments (one a line, values
 * single-quoted): the ledger on the Azurite started, the emulator, the Durable HTTP API and its key.
 */
function luciusCliEnv(tableConnection: string, serviceBusConnection: string, host: DevHost): string {
  const values: [string, string][] = [
    ['LUCIUS_STORAGE_BACKEND', 'ledger'],
    ['LUCIUS_TABLE_CONNECTION', tableConnection],
    ['ServiceBusConnection', serviceBusConnection],
    ['LUCIUS_DURABLE_API_URL', `http://127.0.0.1:${host.port}/runtime/webhooks/durabletask`],
    ['LUCIUS_DURABLE_API_KEY', host.keys.systemKey],
  ];
  for (const name of ['LUCIUS_TASK_HUB', 'LUCIUS_TABLE_LEDGER']) {
    const value = appProcessEnv()[name];
    if (value !== undefined) values.push([name, value]);
  }
  return values.map(([name, value]) => `${name}=${shellQuote(value)}`).join('\n') + '\n';
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The demo workers' modes for `up`: `--workers SPEC`, else LUCIUS_DEMO_WORKERS, else all `normal`;
 * undefined (no workers) for `--no-workers` or a spec of `off`. Checked before anything starts.
 */
function demoWorkerModes(flags: Flags): WorkerModes | undefined {
  const spec = flags.values.get('workers') ?? process.env.LUCIUS_DEMO_WORKERS ?? '';
  if (flags.switches.has('no-workers') || spec.trim().toLowerCase() === 'off') return undefined;
  try {
    return parseWorkerModes(spec);
  } catch (error) {
    if (error instanceof WorkerConfigError) throw usage(error.message);
    throw error;
  }
}

/** The demo workers on the emulator, on the lane topics the app publishes to (its own settings). */
async function runDemoWorkers(modes: WorkerModes, serviceBus: ServiceBusEmulator): Promise<DemoWorkers> {
  const { serviceBus: messaging, admission } = parseSettings({
    ...appProcessEnv(),
    LUCIUS_STORAGE_BACKEND: 'memory',
  });
  return startDemoWorkers({
    connectionString: serviceBus.connectionString,
    topicPrefix: messaging.topicPrefix,
    lanes: admission.laneCount,
    modes,
    log: (line) => process.stdout.write(`[workers] ${line}\n`),
  });
}

/** `servicebus [--config FILE] [--port N] [--data DIR]`: the emulator alone, for other teams' tests. */
async function serviceBusAlone(flags: Flags): Promise<void> {
  const file = flags.values.get('config');
  const data = flags.values.get('data');
  const port = serviceBusPortFlag(flags);
  const emulator = await startServiceBusEmulator({
    config: file === undefined ? luciusEmulatorConfig(appProcessEnv()) : readEmulatorConfig(resolve(file)),
    port,
    ...(data === undefined ? {} : { dataDir: resolve(data) }),
  }).catch((error: unknown) => {
    throw portInUse(error, port, '--port');
  });
  process.stdout.write(
    `Service Bus emulator (${file === undefined ? 'Lucius topology' : file}) listening on 127.0.0.1:${emulator.port}\n` +
      `Connection string: ${emulator.connectionString}\n(Ctrl-C to stop)\n`,
  );
  onShutdown(() => emulator.stop());
}

/** The Service Bus listener's EADDRINUSE as the same one-line DevhostError the HTTP port gives. */
function portInUse(error: unknown, port: number, flag: string): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return error;
  return new DevhostError(
    'port_in_use',
    `the Service Bus port ${port} is already in use on 127.0.0.1; choose another with ${flag}`,
    { cause: error },
  );
}

function serviceBusPortFlag(flags: Flags): number {
  const raw =
    flags.values.get('servicebus-port') ??
    (flags.positional[0] === 'servicebus' ? flags.values.get('port') : undefined);
  if (raw === undefined) return DEFAULT_AMQP_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usage(`the Service Bus port must be a port number (got "${raw}")`);
  return port;
}

async function runTimer(flags: Flags): Promise<void> {
  const name = flags.positional[1];
  if (name === undefined) throw usage('run-timer needs a function name');
  const port = portFlag(flags);
  let key = flags.values.get('key') ?? process.env.DEVHOST_MASTER_KEY;
  if (key === undefined) {
    try {
      key = (JSON.parse(await readFile(keyFile(port), 'utf8')) as { masterKey: string }).masterKey;
    } catch {
      throw usage(
        `no devhost key file for port ${port}: is devhost running there? (or pass --key MASTER_KEY)`,
      );
    }
  }
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}/admin/functions/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': key },
      body: JSON.stringify({ input: '' }),
    });
  } catch (error) {
    throw new DevhostError('app_not_found', `no devhost answers on port ${port}`, { cause: error });
  }
  if (response.status === 202) {
    process.stdout.write(`${name}: triggered (see the host's log for the run)\n`);
    return;
  }
  const why =
    response.status === 404
      ? `no function named "${name}"`
      : response.status === 401
        ? 'the key was refused'
        : await problemDetail(response);
  process.stderr.write(response.status === 400 ? `${why}\n` : `${name}: ${response.status} ${why}\n`);
  process.exitCode = 1;
}

/** A problem document's `detail`, else the body as text. */
async function problemDetail(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    return typeof detail === 'string' ? detail : text;
  } catch {
    return text;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const flags = parseFlags(argv);
  if (flags.switches.has('help')) {
    process.stdout.write(usageText(flags.positional[0]));
    return;
  }
  switch (flags.positional[0]) {
    case 'start':
      return start(flags);
    case 'up':
      return up(flags);
    case 'run-timer':
      return runTimer(flags);
    case 'servicebus':
      return serviceBusAlone(flags);
    default:
      throw usage(
        flags.positional[0] === undefined ? 'no command given' : `unknown command "${flags.positional[0]}"`,
      );
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`devhost: ${describeFailure(error)}\n`);
    process.exit(1);
  });
}

/**
 * The operator's mistakes (a DevhostError, a bad setting, a bad worker spec) as their message alone,
 * also when they are the cause of a failed app load; anything else with its stack.
 */
export function describeFailure(error: unknown): string {
  // By name: the app's copy of src/config/errors is not the CLI's (the loader reloads app modules).
  const operatorErrors = ['DevhostError', 'SettingsError', 'WorkerConfigError'];
  if (error instanceof Error && operatorErrors.includes(error.name)) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
