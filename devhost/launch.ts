/**
 * What a command line that runs devhost's services needs, shared by devhost's own CLI (cli.ts) and
 * a project's launcher (Lucius's is launcher/, beside devhost): flag parsing, hosting an app
 * directory with its parts wired in (durable support, Service Bus triggers) and the key file
 * `run-timer` reads, the Service Bus emulator with a
 * port in use as one line, a clean stop on SIGINT/SIGTERM, and a failure as one line when it is the
 * operator's mistake. Nothing here knows which app it hosts.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DevhostError } from './common/errors';
import { applyLocalSettings, readHostConfig, requireHubName, type HostConfig } from './common/host-config';
import { createDurableSupport, type DurableSupport } from './durable/durable-support';
import { MemoryDurableStore, TableDurableStore } from './durable/engine';
import { appProcessEnv } from './host/functions-core';
import { DEFAULT_PORT, startHost, type DevHost } from './host/host';
import {
  DEFAULT_AMQP_PORT,
  startServiceBusEmulator,
  type ServiceBusEmulator,
  type ServiceBusEmulatorOptions,
} from './servicebus/emulator';
import { createServiceBusSupport } from './servicebus/triggers/service-bus-support';

export { DEFAULT_AMQP_PORT, DEFAULT_PORT };

export interface Flags {
  readonly positional: string[];
  readonly values: Map<string, string>;
  /** Flags that take no value (`--no-workers`). */
  readonly switches: Set<string>;
}

/** A usage error: `problem`, then the synopsis of the command concerned. */
export type Usage = (problem: string) => Error;

/** `--name value` or `--name=value`; `switches` take no value; `-h` is `--help`. */
export function parseFlags(args: readonly string[], switches: ReadonlySet<string>, usage: Usage): Flags {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const given = new Set<string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '-h' || arg === '--help') {
      given.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    if (switches.has(arg.slice(2))) {
      given.add(arg.slice(2));
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
  return { positional, values, switches: given };
}

/** `usage: <the command's synopsis>`, or every command's for an unknown or absent command. */
export function synopsis(commands: Readonly<Record<string, string>>, command?: string): string {
  const known = command === undefined ? undefined : commands[command];
  return known === undefined
    ? `usage:\n${Object.values(commands)
        .map((text) => `  ${text.split('\n').join('\n  ')}`)
        .join('\n')}\n`
    : `usage: ${known}\n`;
}

/** A usage error as devhost reports it: the problem, then the synopsis. */
export function usageError(problem: string, synopsis: string): DevhostError {
  return new DevhostError('invalid_usage', `${problem}\n${synopsis}`.trimEnd());
}

/** The port number given as `raw` (a flag's value), else `fallback`; 0 means a free one. */
export function portNumber(raw: string | undefined, fallback: number, usage: Usage, what: string): number {
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usage(`${what} must be a port number (got "${raw}")`);
  return port;
}

/** The project a launcher belongs to: the directory with package.json and host.json above `from`. */
export function projectDir(from: string): string {
  let dir = from;
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json')))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** Where a running host keeps its master key for `run-timer`. */
export function keyFile(port: number): string {
  return join(tmpdir(), 'devhost-keys', `${port}.json`);
}

/**
 * Durable support for a hosted app: the engine keeps instances and histories in Table Storage
 * (`<hub>Instances`, large values in `<hub>Payloads`) on the app's AzureWebJobsStorage, so a restarted
 * devhost resumes every in-flight orchestration; without a storage connection they live in memory.
 */
function durableSupportFor(config: HostConfig, quiet: boolean): DurableSupport {
  const connectionString = appProcessEnv().AzureWebJobsStorage;
  const store =
    connectionString !== undefined && connectionString !== ''
      ? new TableDurableStore({ connection: { connectionString }, tablePrefix: config.durableTask.hubName })
      : new MemoryDurableStore();
  return createDurableSupport({
    config,
    store,
    hostUrl: () => `http://${appProcessEnv().WEBSITE_HOSTNAME ?? `127.0.0.1:${DEFAULT_PORT}`}`,
    log: (level, message) => {
      if (level === 'error') console.error(`[durable] ${message}`);
      else if (level === 'warning' || !quiet) console.log(`[durable] ${message}`);
    },
  });
}

/**
 * Hosts `appDir`, with durable support and Service Bus triggers, with the flags `start` takes (`--entry`, `--port`, `--key`, `--master-key`,
 * `--system-key`; the keys also from DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_SYSTEM_KEY)
 * and writes the key file `run-timer` reads; `stop` removes it.
 */
export interface HostAppOptions {
  /**
   * Leaves out the routine lines (each invocation's Executing/Executed, the durable engine's
   * information lines); failures and warnings are still logged. A launcher sets it unless asked to be verbose.
   */
  readonly quiet?: boolean;
}

export async function hostApp(
  appDir: string,
  flags: Flags,
  usage: Usage,
  options: HostAppOptions = {},
): Promise<DevHost> {
  const quiet = options.quiet === true;
  // As the host will: local settings first, so host.json's %SETTING% names resolve.
  applyLocalSettings(appDir, appProcessEnv());
  const config = readHostConfig(appDir, appProcessEnv());
  requireHubName(config);
  const durable = durableSupportFor(config, quiet);
  const functionKey = flags.values.get('key') ?? process.env.DEVHOST_FUNCTION_KEY;
  const masterKey = flags.values.get('master-key') ?? process.env.DEVHOST_MASTER_KEY;
  const systemKey = flags.values.get('system-key') ?? process.env.DEVHOST_SYSTEM_KEY;
  const entry = flags.values.get('entry');
  const host = await startHost({
    appDir,
    ...(entry === undefined ? {} : { entry }),
    port: portNumber(flags.values.get('port'), DEFAULT_PORT, usage, '--port'),
    keys: {
      ...(functionKey === undefined ? {} : { functionKey }),
      ...(masterKey === undefined ? {} : { masterKey }),
      ...(systemKey === undefined ? {} : { systemKey }),
    },
    parts: [durable, createServiceBusSupport()],
    invocationLines: !quiet,
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

/** The Service Bus emulator; its port in use is the same one-line DevhostError the HTTP port gives. */
export async function serviceBusEmulator(
  options: ServiceBusEmulatorOptions & { readonly port: number },
  portFlag: string,
): Promise<ServiceBusEmulator> {
  return startServiceBusEmulator(options).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw error;
    throw new DevhostError(
      'port_in_use',
      `the Service Bus port ${options.port} is already in use on 127.0.0.1; choose another with ${portFlag}`,
      { cause: error },
    );
  });
}

/** Ctrl-C (SIGINT) or SIGTERM runs `stop` once, then exits 0 (1 if stopping failed). */
export function onShutdown(stop: () => Promise<void>): void {
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

/**
 * The operator's mistakes (errors named in `operatorErrors`; a DevhostError always) as their message
 * alone; anything else with its stack. By name: an app's copy of its error classes is not the CLI's
 * (the loader reloads app modules).
 */
export function describeFailure(error: unknown, operatorErrors: readonly string[] = []): string {
  if (error instanceof Error && ['DevhostError', ...operatorErrors].includes(error.name))
    return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Runs a command line's `main` as the process's entry: a failure is one line on stderr and exit 1. */
export function runMain(
  name: string,
  main: (argv: readonly string[]) => Promise<void>,
  operatorErrors: readonly string[] = [],
): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${name}: ${describeFailure(error, operatorErrors)}\n`);
    process.exit(1);
  });
}
