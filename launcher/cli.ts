/**
 * Lucius's launcher: what is specific to Lucius in running it locally, over devhost (which hosts
 * any function app and knows nothing of Lucius). Compiled: `node dist/launcher/cli.js`;
 * `npm start` = build + `up`; `npm run launcher -- <command>`.
 *
 *   up [--port N] [--servicebus-port N] [--data DIR] [--entry FILE] [--key K] [--master-key K]
 *      [--system-key K] [--workers SPEC | --no-workers] [--ack-after MS] [--log-format text|json] [--verbose]
 *       Azurite, the Service Bus emulator with Lucius's topology, devhost on this project and the
 *       demo workers (up.ts). Lifecycle events print as one readable line each (`--log-format json`:
 *       JSON lines); `--verbose` adds devhost's per-invocation lines.
 *   servicebus [--port N] [--data DIR]
 *       The Service Bus emulator alone with Lucius's topology (from its settings); `npm run devhost --
 *       servicebus --config FILE` takes any Config.json-shaped file.
 *
 * Every command takes `--help` (or `-h`). Exit code 1 with a one-line message for an operator's
 * mistake (a DevhostError: port in use, ...; a bad setting; a bad worker spec).
 */
import { resolve } from 'node:path';
import { appProcessEnv } from '../devhost/host/functions-core';
import {
  DEFAULT_AMQP_PORT,
  onShutdown,
  parseFlags,
  portNumber,
  runMain,
  synopsis,
  serviceBusEmulator,
  usageError,
  type Flags,
} from '../devhost/launch';
import { luciusEmulatorConfig } from './lucius-topology';
import { up } from './up';

/** Lucius's errors that are the operator's mistake: printed as their message alone. */
export const OPERATOR_ERRORS = ['SettingsError', 'WorkerConfigError'] as const;

const COMMAND_USAGE: Readonly<Record<string, string>> = {
  up:
    'launcher up [--port N] [--servicebus-port N] [--data DIR] [--entry FILE] [--key K] [--master-key K]\n' +
    '            [--system-key K] [--workers SPEC | --no-workers] [--ack-after MS] [--log-format text|json] [--verbose]\n' +
    '    What `npm start` runs: Azurite (data in .azurite/), the Service Bus emulator, Lucius on devhost\n' +
    '    and the demo workers; prints the keys and the lucius CLI environment (also in <data>/lucius.env).\n' +
    '    Lifecycle events print one line each (--log-format, or LUCIUS_LOG_FORMAT; default text);\n' +
    "    --verbose adds devhost's per-invocation lines.",
  servicebus:
    'launcher servicebus [--port N] [--data DIR]\n' +
    "    The Service Bus emulator alone, with Lucius's topology (from its settings).",
};

function usageText(command?: string): string {
  return synopsis(COMMAND_USAGE, command);
}

function usage(problem: string): Error {
  return usageError(problem, usageText());
}

/** `servicebus [--port N] [--data DIR]`: the emulator alone with Lucius's topology. */
async function serviceBusAlone(flags: Flags): Promise<void> {
  const data = flags.values.get('data');
  const port = portNumber(
    flags.values.get('port') ?? flags.values.get('servicebus-port'),
    DEFAULT_AMQP_PORT,
    usage,
    'the Service Bus port',
  );
  const emulator = await serviceBusEmulator(
    {
      config: luciusEmulatorConfig(appProcessEnv()),
      port,
      ...(data === undefined ? {} : { dataDir: resolve(data) }),
    },
    '--port',
  );
  process.stdout.write(
    `Service Bus emulator (Lucius topology) listening on 127.0.0.1:${emulator.port}\n` +
      `Connection string: ${emulator.connectionString}\n(Ctrl-C to stop)\n`,
  );
  onShutdown(() => emulator.stop());
}

export async function main(argv: readonly string[]): Promise<void> {
  const flags = parseFlags(argv, new Set(['no-workers', 'verbose']), usage);
  if (flags.switches.has('help')) {
    process.stdout.write(usageText(flags.positional[0]));
    return;
  }
  switch (flags.positional[0]) {
    case 'up':
      return up(flags, usage);
    case 'servicebus':
      return serviceBusAlone(flags);
    default:
      throw usage(
        flags.positional[0] === undefined ? 'no command given' : `unknown command "${flags.positional[0]}"`,
      );
  }
}

if (require.main === module) runMain('launcher', main, OPERATOR_ERRORS);
