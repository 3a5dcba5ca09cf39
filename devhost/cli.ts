/**
 * The devhost command line (compiled: `node dist/devhost/cli.js`; `npm run devhost -- <command>`).
 * It hosts any function app; what is specific to one project (Lucius's `npm start`: its topology,
 * its demo workers, the settings its CLI needs) lives in that project's launcher (launcher/).
 *
 *   start [--app DIR] [--port N] [--key K] [--master-key K] [--system-key K] [--entry FILE]
 *       Hosts a function app directory (default: this project; its package.json `main` must exist,
 *       so build first, or `--entry` names the entry instead, e.g. `src/index.ts` to host from
 *       source). Keys: `--key` sets the function key (and the master key unless `--master-key`);
 *       `--system-key` the `durabletask_extension` system key the Durable HTTP API requires (the master
 *       key works too); DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_SYSTEM_KEY work too;
 *       otherwise generated. `--port 0` picks a free port.
 *   run-timer <name> [--port N] [--key MASTER_KEY]
 *       Runs a timer function now on a running devhost (POST /admin/functions/{name}); for another
 *       kind of function it says what the function is and how it is called, for an unknown name it
 *       lists the timer functions (exit code 1 for both). The master key comes from --key,
 *       DEVHOST_MASTER_KEY, or the key file the running host wrote.
 *   servicebus --config FILE [--port N] [--data DIR]
 *       The Service Bus emulator alone, with the entities of a Config.json-shaped FILE.
 *
 * Every command takes `--help` (or `-h`). Ctrl-C (SIGINT) or SIGTERM stops cleanly. Exit code 1 with
 * a one-line message for an operator's mistake (a DevhostError: bad app, port in use, ...).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DevhostError } from './common/errors';
import {
  DEFAULT_AMQP_PORT,
  DEFAULT_PORT,
  hostApp,
  keyFile,
  onShutdown,
  parseFlags,
  portNumber,
  projectDir,
  runMain,
  synopsis,
  serviceBusEmulator,
  usageError,
  type Flags,
} from './launch';
import { readEmulatorConfig } from './servicebus/emulator';

/** Each command's synopsis, printed by `--help` and under a usage error. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  start:
    'devhost start [--app DIR] [--entry FILE] [--port N] [--key K] [--master-key K] [--system-key K]\n' +
    '    Hosts a function app directory (default: this project; build it first, or --entry src/index.ts).\n' +
    '    Keys: --key (function key; also the master key unless --master-key), --system-key (the Durable\n' +
    '    HTTP API key); or DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_SYSTEM_KEY; else generated.',
  'run-timer':
    'devhost run-timer <name> [--port N] [--key MASTER_KEY]\n' +
    '    Runs a timer function now on a running devhost (POST /admin/functions/<name>); for any other\n' +
    '    name it says what that function is, or lists the timer functions.',
  servicebus:
    'devhost servicebus --config FILE [--port N] [--data DIR]\n' +
    '    The Service Bus emulator alone, with the entities of a Config.json-shaped FILE.',
};

function usageText(command?: string): string {
  return synopsis(COMMAND_USAGE, command);
}

function usage(problem: string, command?: string): DevhostError {
  return usageError(problem, usageText(command));
}

async function start(flags: Flags): Promise<void> {
  const appDir = resolve(flags.values.get('app') ?? projectDir(__dirname));
  const host = await hostApp(appDir, flags, usage);
  process.stdout.write(`\ndevhost is hosting ${appDir} at ${host.apiUrl} (Ctrl-C to stop)\n`);
  onShutdown(() => host.stop());
}

/** `servicebus --config FILE [--port N] [--data DIR]`: the emulator alone, for other teams' tests. */
async function serviceBusAlone(flags: Flags): Promise<void> {
  const file = flags.values.get('config');
  if (file === undefined) throw usage('servicebus needs --config FILE', 'servicebus');
  const data = flags.values.get('data');
  const port = portNumber(flags.values.get('port'), DEFAULT_AMQP_PORT, usage, 'the Service Bus port');
  const emulator = await serviceBusEmulator(
    {
      config: readEmulatorConfig(resolve(file)),
      port,
      ...(data === undefined ? {} : { dataDir: resolve(data) }),
    },
    '--port',
  );
  process.stdout.write(
    `Service Bus emulator (${file}) listening on 127.0.0.1:${emulator.port}\n` +
      `Connection string: ${emulator.connectionString}\n(Ctrl-C to stop)\n`,
  );
  onShutdown(() => emulator.stop());
}

async function runTimer(flags: Flags): Promise<void> {
  const name = flags.positional[1];
  if (name === undefined) throw usage('run-timer needs a function name');
  const port = portNumber(flags.values.get('port'), DEFAULT_PORT, usage, '--port');
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
  // 404 names the timer functions and 400 says what the function is: their detail says it all.
  if (response.status === 404 || response.status === 400) {
    const detail = await problemDetail(response);
    process.stderr.write(`${detail === '' ? `no timer function is named "${name}"` : detail}\n`);
  } else {
    const why =
      response.status === 401
        ? 'the master key was refused (devhost prints it at start-up; pass it with --key)'
        : await problemDetail(response);
    process.stderr.write(`${name}: ${response.status} ${why}\n`);
  }
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
  const flags = parseFlags(argv, new Set(), usage);
  if (flags.switches.has('help')) {
    process.stdout.write(usageText(flags.positional[0]));
    return;
  }
  switch (flags.positional[0]) {
    case 'start':
      return start(flags);
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

if (require.main === module) runMain('devhost', main);
