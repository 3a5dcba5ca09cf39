/**
 * `up`, what `npm start` runs after the build: Azurite with data kept in ./.azurite (or --data DIR),
 * the Service Bus emulator with Lucius's topology (data in <data>/servicebus, AMQP on 5672 or
 * --servicebus-port), then devhost on this project with the ledger backend on that Azurite and
 * ServiceBusConnection pointing at the emulator, on port 7071 (or --port), then the demo workers on
 * that emulator (see demo-workers.ts). Either port may be 0 (a free one); the lines printed once
 * everything runs carry the ports actually used, the workers' modes, a curl line for the Durable HTTP
 * API and the environment the `lucius` CLI needs to reach this devhost (also written to
 * <data>/lucius.env). Ctrl-C (SIGINT) or SIGTERM stops the workers, the host, the emulator and
 * Azurite, in that order.
 *
 * Authentication: the app runs with `LUCIUS_AUTH_MODE=dev` unless the environment sets a mode, its
 * dev issuer's key in the data folder (`LUCIUS_AUTH_DEV_DATA_DIR`, also in lucius.env); `up` prints
 * the `npx lucius token` line that mints a bearer token for it and the dev JWKS URL (local-auth.ts).
 *
 * Logs: the app prints each lifecycle event as one readable line (`LUCIUS_LOG_FORMAT=text`, set here
 * unless the environment or `--log-format text|json` says otherwise); `--verbose` is handed to
 * devhost (with the other flags) for its per-invocation lines.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startAzurite } from '../devhost/azurite';
import { appProcessEnv } from '../devhost/host/functions-core';
import type { DevHost } from '../devhost/host/host';
import {
  DEFAULT_AMQP_PORT,
  hostApp,
  onShutdown,
  portNumber,
  projectDir,
  serviceBusEmulator,
  type Flags,
  type Usage,
} from '../devhost/launch';
import type { ServiceBusEmulator } from '../devhost/servicebus/emulator';
import type { DemoWorkers } from '../workers/demo-workers';
import { describeModes } from '../workers/modes';
import { DEFAULT_DEV_DATA_DIR } from '../src/config/auth-settings';
import { demoWorkerAckAfter, demoWorkerModes, runDemoWorkers } from './demo-workers';
import { authLines, shellQuote, useLocalAuth } from './local-auth';
import { luciusEmulatorConfig } from './lucius-topology';

export async function up(flags: Flags, usage: Usage): Promise<void> {
  const appDir = projectDir(__dirname);
  const workerModes = demoWorkerModes(flags, usage);
  const ackAfterMs = demoWorkerAckAfter(flags, usage);
  const data = flags.values.get('data');
  const dataDir = data === undefined ? join(appDir, '.azurite') : resolve(data);
  const serviceBusDir = join(dataDir, 'servicebus');
  process.stdout.write(`Starting Azurite (data in ${dataDir})...\n`);
  const azurite = await startAzurite({ location: dataDir });
  let serviceBus: ServiceBusEmulator;
  try {
    process.stdout.write(`Starting the Service Bus emulator (data in ${serviceBusDir})...\n`);
    const port = portNumber(
      flags.values.get('servicebus-port'),
      DEFAULT_AMQP_PORT,
      usage,
      'the Service Bus port',
    );
    serviceBus = await serviceBusEmulator(
      { config: luciusEmulatorConfig(appProcessEnv()), dataDir: serviceBusDir, port },
      '--servicebus-port',
    );
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  process.env.LUCIUS_STORAGE_BACKEND = 'ledger';
  process.env.LUCIUS_TABLE_CONNECTION = azurite.connectionString;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.ServiceBusConnection = serviceBus.connectionString;
  process.env.LUCIUS_TASK_HUB ??= 'LuciusLocal';
  process.env.LUCIUS_LOG_FORMAT = logFormat(flags, usage);
  const authMode = useLocalAuth(process.env, dataDir);
  let host: DevHost;
  try {
    host = await hostApp(appDir, flags, usage, { quiet: !flags.switches.has('verbose') });
  } catch (error) {
    await serviceBus.stop();
    await azurite.stop();
    throw error;
  }
  let workers: DemoWorkers | undefined;
  try {
    workers =
      workerModes === undefined
        ? undefined
        : await runDemoWorkers(workerModes, serviceBus.connectionString, ackAfterMs);
  } catch (error) {
    await host.stop();
    await serviceBus.stop();
    await azurite.stop();
    throw error;
  }
  process.stdout.write(`\nAzurite Table service: ${azurite.tableEndpoint}\n`);
  process.stdout.write(`Service Bus emulator:  ${serviceBus.connectionString}\n`);
  process.stdout.write(
    `Demo workers:          ${workers === undefined ? 'off' : `${describeModes(workers.modes)}${ackAfterMs === undefined ? '' : `, lazy ACK after ${ackAfterMs} ms`} (LUCIUS_DEMO_WORKERS, --workers, --no-workers, --ack-after)`}\n`,
  );
  const env = luciusCliEnv(azurite.connectionString, serviceBus.connectionString, host, {
    mode: authMode,
    dataDir,
  });
  const envFile = join(dataDir, 'lucius.env');
  await writeFile(envFile, env, { mode: 0o600 });
  process.stdout.write(
    `lucius CLI:            export ${env.trimEnd().split('\n').join(' ')}\n` +
      `                       (also in ${envFile}: set -a; . ${envFile}; set +a)\n`,
  );
  process.stdout.write(
    `Durable HTTP API:      curl -s 'http://127.0.0.1:${host.port}/runtime/webhooks/durabletask/instances?code=${encodeURIComponent(host.keys.systemKey)}'\n`,
  );
  const apiUrl = `http://localhost:${host.port}/${host.config.routePrefix}`;
  const defaultDataDir = join(appDir, DEFAULT_DEV_DATA_DIR);
  const auth = authLines({
    mode: authMode,
    dataDir,
    defaultDataDir,
    apiUrl,
    functionKey: host.keys.functionKey,
  });
  process.stdout.write(`${auth.join('\n')}\n`);
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
 * single-quoted): the ledger on the Azurite started, the emulator, the Durable HTTP API and its key,
 * the auth mode and the dev issuer's folder (for `lucius token`).
 */
function luciusCliEnv(
  tableConnection: string,
  serviceBusConnection: string,
  host: DevHost,
  auth: { readonly mode: string; readonly dataDir: string },
): string {
  const values: [string, string][] = [
    ['LUCIUS_STORAGE_BACKEND', 'ledger'],
    ['LUCIUS_TABLE_CONNECTION', tableConnection],
    ['ServiceBusConnection', serviceBusConnection],
    ['LUCIUS_DURABLE_API_URL', `http://127.0.0.1:${host.port}/runtime/webhooks/durabletask`],
    ['LUCIUS_DURABLE_API_KEY', host.keys.systemKey],
    ['LUCIUS_AUTH_MODE', auth.mode],
    ['LUCIUS_AUTH_DEV_DATA_DIR', auth.dataDir],
  ];
  for (const name of ['LUCIUS_TASK_HUB', 'LUCIUS_TABLE_LEDGER']) {
    const value = appProcessEnv()[name];
    if (value !== undefined) values.push([name, value]);
  }
  return values.map(([name, value]) => `${name}=${shellQuote(value)}`).join('\n') + '\n';
}

/** `--log-format text|json`, else LUCIUS_LOG_FORMAT, else `text` (readable lines for a terminal). */
function logFormat(flags: Flags, usage: Usage): string {
  const given = flags.values.get('log-format');
  if (given === undefined) return process.env.LUCIUS_LOG_FORMAT ?? 'text';
  if (given !== 'text' && given !== 'json') throw usage(`--log-format must be text or json (got "${given}")`);
  return given;
}
