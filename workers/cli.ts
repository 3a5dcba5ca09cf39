/**
 * The demo workers as a process (compiled: `node dist/workers/cli.js`):
 *
 *   --connection CS      Service Bus connection string (else ServiceBusConnection)
 *   --modes SPEC         e.g. `OCR=flaky:2,EMBEDDING=slow` (else LUCIUS_DEMO_WORKERS; see modes.ts)
 *   --topic-prefix P     lane topics P0..P{n-1} (else LUCIUS_SERVICEBUS_TOPIC_PREFIX, global-bus-p)
 *   --lanes N            lane count (else LUCIUS_LANE_COUNT, 16)
 *   --work-ms N, --slow-work-ms N, --heartbeat-ms N   simulated work timings
 *
 * Prints one line per directive handled. Ctrl-C (SIGINT) or SIGTERM stops cleanly: running work is
 * abandoned to the bus. Exit code 2 for bad arguments, 1 if the workers fail to start or stop.
 */
import { parseArgs } from 'node:util';
import { startDemoWorkers } from './demo-workers';
import { WorkerConfigError } from './errors';
import { describeModes } from './modes';

const USAGE =
  'usage: node dist/workers/cli.js --connection CS [--modes SPEC] [--topic-prefix P] [--lanes N] [--work-ms N] [--slow-work-ms N] [--heartbeat-ms N]';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      connection: { type: 'string' },
      modes: { type: 'string' },
      'topic-prefix': { type: 'string' },
      lanes: { type: 'string' },
      'work-ms': { type: 'string' },
      'slow-work-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
    },
    strict: true,
  });
  const connectionString = values.connection ?? env.ServiceBusConnection;
  if (connectionString === undefined || connectionString === '') {
    throw new WorkerConfigError(['--connection (or ServiceBusConnection) is required']);
  }
  const lanes = values.lanes ?? env.LUCIUS_LANE_COUNT;
  const timings = {
    ...number('workMs', values['work-ms']),
    ...number('slowWorkMs', values['slow-work-ms']),
    ...number('heartbeatMs', values['heartbeat-ms']),
  };
  const workers = await startDemoWorkers({
    connectionString,
    modes: values.modes ?? env.LUCIUS_DEMO_WORKERS ?? '',
    topicPrefix: values['topic-prefix'] ?? env.LUCIUS_SERVICEBUS_TOPIC_PREFIX,
    ...(lanes === undefined ? {} : { lanes: Number(lanes) }),
    timings,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`Demo workers running (${describeModes(workers.modes)}); Ctrl-C to stop\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping demo workers...\n`);
    workers.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function number(name: string, raw: string | undefined): Record<string, number> {
  return raw === undefined ? {} : { [name]: Number(raw) };
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).catch((error: unknown) => {
    const bad =
      error instanceof WorkerConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)}\n${bad ? `${USAGE}\n` : ''}`,
    );
    process.exit(bad ? 2 : 1);
  });
}
