/**
 * The demo workers as a process (compiled: `node dist/workers/cli.js`):
 *
 *   --connection CS      Service Bus connection string (else ServiceBusConnection, else SERVICEBUS_CONNECTION)
 *   --modes SPEC         e.g. `OCR=flaky:2,EMBEDDING=slow` (else LUCIUS_DEMO_WORKERS; see modes.ts)
 *   --topic-prefix P     lane topics P0..P{n-1} (else LUCIUS_SERVICEBUS_TOPIC_PREFIX, else
 *                        SERVICEBUS_TOPIC, else global-bus-p)
 *   --lanes N            lane count: lanes 0..N-1 (else LUCIUS_LANE_COUNT, 16)
 *   --lane L[,L...]      only these lanes (else the lane of SERVICEBUS_TOPIC when it names one)
 *   --reply-prefix P     reply to P{lane} instead of each directive's reply_to (else
 *                        LUCIUS_SERVICEBUS_REPLY_PREFIX, else SERVICEBUS_REPLY_PREFIX)
 *   --work-ms N, --slow-work-ms N, --heartbeat-ms N   simulated work timings
 *   --ack-after MS       lazy ACK: ACK only work still running after MS ms, or at once when less than
 *                        2 × MS remain before the directive's ack_deadline (else
 *                        LUCIUS_DEMO_ACK_AFTER_MS; unset: ACK before the work)
 *
 * The previous system's platform consumers were configured with SERVICEBUS_CONNECTION,
 * SERVICEBUS_TOPIC, SERVICEBUS_SUBSCRIPTION and SERVICEBUS_REPLY_PREFIX; they work here too
 * (`workerCliOptions`):
 * - SERVICEBUS_SUBSCRIPTION (`distributed-ocr`, `vector-ingestion`, `semantic-intelligence`) runs that
 *   platform's worker only;
 * - SERVICEBUS_TOPIC is either the lane topics' name before the lane number (`global-bus-p`: every
 *   lane) or one lane topic (`global-bus-p3`, a name ending in digits: that lane only);
 * - SERVICEBUS_REPLY_PREFIX sends the replies to `{prefix}{lane}`. Lucius reads replies only from its
 *   own reply topics (`LUCIUS_SERVICEBUS_REPLY_PREFIX`, `global-bus-replies-p` by default), so another
 *   prefix needs those topics forwarded to Lucius's.
 * An old and a new name set to different values is an error naming both.
 *
 * Prints one line per directive handled. Ctrl-C (SIGINT) or SIGTERM stops cleanly: running work is
 * abandoned to the bus. Exit code 2 for bad arguments, 1 if the workers fail to start or stop.
 */
import { parseArgs } from 'node:util';
import { startDemoWorkers, type DemoWorkersOptions } from './demo-workers';
import { WorkerConfigError } from './errors';
import { describeModes, parseWorkerModes, workerModes, type WorkerModes } from './modes';
import { PLATFORM_SUBSCRIPTIONS, STEP_TYPES, stepTypeOfSubscription } from './platforms';

const USAGE =
  'usage: node dist/workers/cli.js --connection CS [--modes SPEC] [--topic-prefix P] [--lanes N] [--lane L[,L...]] [--reply-prefix P] [--work-ms N] [--slow-work-ms N] [--heartbeat-ms N] [--ack-after MS]';

type Env = Readonly<Record<string, string | undefined>>;

export interface WorkerCliValues {
  readonly connection?: string;
  readonly modes?: string;
  readonly 'topic-prefix'?: string;
  readonly lanes?: string;
  readonly lane?: string;
  readonly 'reply-prefix'?: string;
  readonly 'work-ms'?: string;
  readonly 'slow-work-ms'?: string;
  readonly 'heartbeat-ms'?: string;
  readonly 'ack-after'?: string;
}

/** What the workers start with, from the command line over the environment (new names, then old ones). */
export type WorkerCliOptions = Omit<DemoWorkersOptions, 'log' | 'onSettled'> & {
  readonly connectionString: string;
  readonly modes: WorkerModes;
  /** Lines to print at start (how the previous system's variables were read). */
  readonly notes: readonly string[];
};

export function workerCliOptions(values: WorkerCliValues, env: Env): WorkerCliOptions {
  const problems: string[] = [];
  const notes: string[] = [];
  const pick = (option: string, flag: string | undefined, current: string, previous: string) => {
    const fromFlag = nonEmpty(flag);
    if (fromFlag !== undefined) return fromFlag;
    const now = nonEmpty(env[current]);
    const before = nonEmpty(env[previous]);
    if (now !== undefined && before !== undefined && now !== before)
      problems.push(`${current} and ${previous} (its previous name) disagree: set one of them, or ${option}`);
    return now ?? before;
  };

  const connectionString = pick(
    '--connection',
    values.connection,
    'ServiceBusConnection',
    'SERVICEBUS_CONNECTION',
  );
  if (connectionString === undefined)
    problems.push('--connection (or ServiceBusConnection, or SERVICEBUS_CONNECTION) is required');

  const { topicPrefix, topicLane } = topicsToRead(values, env, problems);
  if (topicLane !== undefined && nonEmpty(values.lane) === undefined)
    notes.push(`SERVICEBUS_TOPIC=${topicPrefix}${topicLane}: lane ${topicLane} only`);

  const laneCount = nonEmpty(values.lanes) ?? nonEmpty(env.LUCIUS_LANE_COUNT);
  const laneList = nonEmpty(values.lane);
  let lanes: number | readonly number[] | undefined = laneCount === undefined ? undefined : Number(laneCount);
  if (laneList !== undefined) {
    if (/^\d+(\s*,\s*\d+)*$/.test(laneList)) lanes = laneList.split(',').map((lane) => Number(lane));
    else problems.push(`--lane must be lane numbers separated by commas, e.g. 3 or 0,1 (got "${laneList}")`);
  } else if (topicLane !== undefined) {
    lanes = [topicLane];
  }
  if (Array.isArray(lanes) && laneCount !== undefined) {
    const beyond = lanes.filter((lane) => lane >= Number(laneCount));
    const source = values.lanes === undefined ? 'LUCIUS_LANE_COUNT' : '--lanes';
    if (beyond.length > 0)
      problems.push(
        `${laneList === undefined ? 'SERVICEBUS_TOPIC' : '--lane'} names lane ${beyond.join(', ')}, beyond ${source}=${laneCount} (lanes 0..${Number(laneCount) - 1})`,
      );
  }

  const replyPrefix = pick(
    '--reply-prefix',
    values['reply-prefix'],
    'LUCIUS_SERVICEBUS_REPLY_PREFIX',
    'SERVICEBUS_REPLY_PREFIX',
  );
  if (replyPrefix !== undefined)
    notes.push(
      `replies go to ${replyPrefix}{lane}, not each directive's reply_to: Lucius reads them only if that is its LUCIUS_SERVICEBUS_REPLY_PREFIX or they are forwarded to its reply topics`,
    );

  let modes: WorkerModes = workerModes();
  try {
    modes = parseWorkerModes(values.modes ?? env.LUCIUS_DEMO_WORKERS ?? '');
  } catch (error) {
    if (!(error instanceof WorkerConfigError)) throw error;
    problems.push(...error.problems);
  }
  const subscription = nonEmpty(env.SERVICEBUS_SUBSCRIPTION);
  if (subscription !== undefined) {
    const only = stepTypeOfSubscription(subscription);
    if (only === undefined) {
      problems.push(
        `SERVICEBUS_SUBSCRIPTION must be one of ${Object.values(PLATFORM_SUBSCRIPTIONS).join(', ')} (got "${subscription}")`,
      );
    } else {
      modes = Object.fromEntries(
        STEP_TYPES.map((stepType) => [stepType, stepType === only ? modes[stepType] : { mode: 'off' }]),
      ) as WorkerModes;
      notes.push(`SERVICEBUS_SUBSCRIPTION=${subscription}: the ${only} worker only`);
    }
  }

  const ackAfter = nonEmpty(values['ack-after']) ?? nonEmpty(env.LUCIUS_DEMO_ACK_AFTER_MS);
  if (ackAfter !== undefined && !/^[1-9]\d*$/.test(ackAfter))
    problems.push(
      `--ack-after (or LUCIUS_DEMO_ACK_AFTER_MS) must be a positive number of milliseconds (got "${ackAfter}")`,
    );

  if (problems.length > 0) throw new WorkerConfigError(problems);
  return {
    connectionString: connectionString as string,
    modes,
    ...(topicPrefix === undefined ? {} : { topicPrefix }),
    ...(lanes === undefined ? {} : { lanes }),
    ...(replyPrefix === undefined ? {} : { replyPrefix }),
    timings: {
      ...number('workMs', values['work-ms']),
      ...number('slowWorkMs', values['slow-work-ms']),
      ...number('heartbeatMs', values['heartbeat-ms']),
    },
    ...(ackAfter === undefined ? {} : { ackAfterMs: Number(ackAfter) }),
    notes,
  };
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      connection: { type: 'string' },
      modes: { type: 'string' },
      'topic-prefix': { type: 'string' },
      lanes: { type: 'string' },
      lane: { type: 'string' },
      'reply-prefix': { type: 'string' },
      'work-ms': { type: 'string' },
      'slow-work-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'ack-after': { type: 'string' },
    },
    strict: true,
  });
  const { notes, ...options } = workerCliOptions(values, env);
  for (const note of notes) process.stdout.write(`${note}\n`);
  const workers = await startDemoWorkers({ ...options, log: (line) => process.stdout.write(`${line}\n`) });
  const acking = options.ackAfterMs === undefined ? '' : `, ACK only after ${options.ackAfterMs} ms of work`;
  process.stdout.write(`Demo workers running (${describeModes(workers.modes)}${acking}); Ctrl-C to stop\n`);
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

/**
 * The lane topics' prefix, from --topic-prefix, else LUCIUS_SERVICEBUS_TOPIC_PREFIX, else
 * SERVICEBUS_TOPIC; and the one lane SERVICEBUS_TOPIC names when it is a lane topic (`global-bus-p3`:
 * a name ending in digits). A prefix that itself ends in a digit must come from the first two.
 * SERVICEBUS_TOPIC disagreeing with LUCIUS_SERVICEBUS_TOPIC_PREFIX (neither that prefix nor one of
 * its lane topics) is a problem naming both.
 */
function topicsToRead(
  values: WorkerCliValues,
  env: Env,
  problems: string[],
): { readonly topicPrefix?: string; readonly topicLane?: number } {
  const flag = nonEmpty(values['topic-prefix']);
  if (flag !== undefined) return { topicPrefix: flag };
  const current = nonEmpty(env.LUCIUS_SERVICEBUS_TOPIC_PREFIX);
  const previous = nonEmpty(env.SERVICEBUS_TOPIC);
  if (previous === undefined) return current === undefined ? {} : { topicPrefix: current };
  const laneTopic = /^(.*\D)(\d+)$/.exec(previous);
  const lane =
    laneTopic === null ? undefined : { topicPrefix: laneTopic[1], topicLane: Number(laneTopic[2]) };
  if (current === undefined) return lane ?? { topicPrefix: previous };
  if (previous === current) return { topicPrefix: current };
  if (lane?.topicPrefix === current) return lane;
  problems.push(
    'LUCIUS_SERVICEBUS_TOPIC_PREFIX and SERVICEBUS_TOPIC (its previous name) disagree: SERVICEBUS_TOPIC must be that prefix or one of its lane topics; set one of them, or --topic-prefix',
  );
  return { topicPrefix: current };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
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
