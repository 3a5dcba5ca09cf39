/**
 * Demo platform workers for OCR, EMBEDDING and SIS, written as a platform team writes a real one:
 * only `@azure/service-bus`, the published directive schema, and the contract types.
 *
 * `startDemoWorkers` opens ONE ServiceBusClient; for every platform whose mode is not `off` and every
 * lane it serves (`lanes`: a count N for lanes `0..N-1`, or a list such as `[3]` for one lane topic
 * only) it opens a peek-lock receiver on `{topicPrefix}{lane}` / the platform's subscription and
 * subscribes to it (`maxConcurrentCalls` messages at once per receiver, default 4: at least 2, so a
 * cancel or a redelivery is handled while the attempt it concerns is running).
 *
 * Replies go to each directive's `reply_to`, the reply topic Lucius named. `replyPrefix` overrides
 * that: replies then go to `{replyPrefix}{lane}`, the lane being the one of the topic the directive
 * arrived on (platform teams that route replies through topics of their own). Lucius still only reads
 * its own reply topics (`LUCIUS_SERVICEBUS_REPLY_PREFIX`), so replies sent elsewhere must be
 * forwarded there (e.g. a subscription with auto-forwarding), or Lucius never hears of them and the
 * attempt times out. Replies go through one sender per reply topic, created on first use. Each
 * message is handled by `handleDirective` (directive-handler.ts) and settled as it says.
 *
 * `stop()` stops receiving, stops running work (its directives are abandoned, so another instance
 * takes them over), waits for the handlers, then closes receivers, senders and the client.
 * `stats` counts what happened; `onSettled` reports every message settled (tests wait on it).
 * Options are checked up front (WorkerConfigError, every problem at once); receive errors only
 * reach `log`, as the SDK keeps retrying.
 */
import { hostname } from 'node:os';
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';
import { handleDirective, type Handled, type Outcome, type PlatformWorker } from './directive-handler';
import type { StepDirective } from './directive-contract';
import { WorkerConfigError } from './errors';
import { LeaseBook } from './lease-book';
import {
  DEFAULT_TIMINGS,
  parseWorkerModes,
  workerModes,
  type PlatformMode,
  type WorkerModes,
  type WorkTimings,
} from './modes';
import {
  DEFAULT_LANE_COUNT,
  DEFAULT_TOPIC_PREFIX,
  PLATFORM_SUBSCRIPTIONS,
  STEP_TYPES,
  type StepType,
} from './platforms';
import { withTraceContext, type Reply, type ReplyKind } from './replies';

export interface DemoWorkersOptions {
  /** A Service Bus connection string (the emulator's, or a namespace's). */
  readonly connectionString: string;
  /** `LUCIUS_SERVICEBUS_TOPIC_PREFIX`; `global-bus-p` by default. */
  readonly topicPrefix?: string;
  /**
   * The lanes served: a count N (`LUCIUS_LANE_COUNT`) listens on lanes `0..N-1`; a list listens on
   * exactly those lanes (`[3]`: the one lane topic `{topicPrefix}3`). 16 (lanes 0..15) by default.
   */
  readonly lanes?: number | readonly number[];
  /**
   * Replies go to `{replyPrefix}{lane}` instead of each directive's `reply_to`. They must still
   * reach a reply topic Lucius listens on (`LUCIUS_SERVICEBUS_REPLY_PREFIX`), by forwarding if not
   * directly; unset, the workers reply where each directive says.
   */
  readonly replyPrefix?: string;
  /** A spec string (`OCR=flaky:2,EMBEDDING=slow`, see modes.ts) or modes per step type; `normal` otherwise. */
  readonly modes?: string | Partial<Record<StepType, PlatformMode>>;
  readonly timings?: Partial<WorkTimings>;
  /**
   * Lazy ACK (a positive integer, ms): the work starts at once and the ACK is sent only if it still
   * runs this long later, never once the RESULT is sent, and at once when less than twice this
   * remains before the directive's `ack_deadline` (workers/ack-gate.ts). Unset: ACK before the work.
   */
  readonly ackAfterMs?: number;
  /** Messages handled at once per receiver; 4 by default, at least 2. */
  readonly maxConcurrentCalls?: number;
  /** Sent as the ACK's worker_id; `demo-{step type}@{host}:{pid}` by default. */
  readonly workerId?: string;
  /** One line per message settled, and receive errors. */
  readonly log?: (line: string) => void;
  readonly onSettled?: (event: SettledEvent) => void;
  /** Called when work under a new lease starts (after the expiry check). */
  readonly onStarted?: (directive: StepDirective) => void;
}

export interface SettledEvent {
  readonly stepType: StepType;
  readonly messageId: string | undefined;
  readonly outcome: Outcome;
  readonly settlement: Handled['settlement']['action'];
  readonly kind?: 'directive' | 'cancel';
  readonly jobId?: string;
  readonly stepId?: string;
  readonly attemptNo?: number;
  readonly leaseId?: string;
  readonly detail?: string;
}

export interface WorkerStats {
  /** Directive messages received, both kinds. */
  readonly received: number;
  /** Attempts whose work started (once per lease). */
  readonly started: number;
  /** Of those, attempts started after their ACK deadline (always 0: an expired directive is dropped, see `outcomes.expired`). */
  readonly startedLate: number;
  readonly replies: Readonly<Record<ReplyKind, number>>;
  readonly outcomes: Readonly<Record<Outcome, number>>;
  /** Messages being handled right now. */
  readonly inFlight: number;
}

export interface DemoWorkers {
  readonly modes: WorkerModes;
  /** The lanes listened on, ascending. */
  readonly lanes: readonly number[];
  /** A snapshot of the counters. */
  readonly stats: WorkerStats;
  stop(): Promise<void>;
}

export const DEFAULT_MAX_CONCURRENT_CALLS = 4;

/** Lane numbers a worker can serve (Lucius's `LUCIUS_LANE_COUNT` is at most 64). */
export const MAX_LANES = 64;

const OUTCOMES: readonly Outcome[] = [
  'expired',
  'succeeded',
  'failed',
  'cancelled',
  'silent',
  'invalid-reply',
  'duplicate',
  'cancel',
  'invalid-directive',
  'interrupted',
];

export async function startDemoWorkers(options: DemoWorkersOptions): Promise<DemoWorkers> {
  const config = checkOptions(options);
  const log = options.log ?? (() => undefined);
  const client = new ServiceBusClient(options.connectionString);
  const senders = new Map<string, ServiceBusSender>();
  const leases = new LeaseBook();
  const inFlight = new Set<Promise<void>>();
  const counts = {
    received: 0,
    started: 0,
    startedLate: 0,
    replies: { ack: 0, heartbeat: 0, result: 0 } as Record<ReplyKind, number>,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
  };

  const send = async (reply: Reply): Promise<void> => {
    let sender = senders.get(reply.topic);
    if (sender === undefined) {
      sender = client.createSender(reply.topic);
      senders.set(reply.topic, sender);
    }
    await sender.sendMessages(reply.message);
    counts.replies[reply.kind] += 1;
  };

  const listeners: Array<{ receiver: ServiceBusReceiver; close: () => Promise<void> }> = [];
  for (const stepType of STEP_TYPES) {
    const mode = config.modes[stepType];
    if (mode.mode === 'off') continue;
    const worker: PlatformWorker = {
      stepType,
      mode,
      timings: config.timings,
      ...(config.ackAfterMs === undefined ? {} : { ackAfterMs: config.ackAfterMs }),
      workerId: options.workerId ?? `demo-${stepType.toLowerCase()}@${hostname()}:${process.pid}`,
      leases,
      send,
      started: (directive) => {
        counts.started += 1;
        if (Date.parse(directive.ack_deadline) < Date.now()) counts.startedLate += 1;
        options.onStarted?.(directive);
      },
      now: () => new Date(),
    };
    for (const lane of config.lanes) {
      const topic = `${config.topicPrefix}${lane}`;
      const subscription = PLATFORM_SUBSCRIPTIONS[stepType];
      const receiver = client.createReceiver(topic, subscription, { receiveMode: 'peekLock' });
      const replyTopic = config.replyPrefix === undefined ? undefined : `${config.replyPrefix}${lane}`;
      const handle = async (message: ServiceBusReceivedMessage): Promise<void> => {
        counts.received += 1;
        let handled: Handled;
        try {
          // Replies carry the directive's trace context, so Lucius's ingestion joins the job's trace.
          handled = await handleDirective(message.body, {
            ...worker,
            send: (reply) =>
              send(
                withTraceContext(
                  replyTopic === undefined ? reply : { ...reply, topic: replyTopic },
                  message.applicationProperties,
                ),
              ),
          });
        } catch (error) {
          handled = { outcome: 'interrupted', settlement: { action: 'abandon' }, detail: describe(error) };
        }
        counts.outcomes[handled.outcome] += 1;
        try {
          await settle(receiver, message, handled.settlement);
        } catch (error) {
          log(`[${stepType}] could not settle ${String(message.messageId)}: ${describe(error)}`);
        }
        const event = settledEvent(stepType, message, handled);
        log(describeEvent(event));
        options.onSettled?.(event);
      };
      const subscribed = receiver.subscribe(
        {
          processMessage: async (message) => {
            const running = handle(message);
            inFlight.add(running);
            try {
              await running;
            } finally {
              inFlight.delete(running);
            }
          },
          processError: async (args) => {
            log(
              `[${stepType}] receive error on ${topic}/${subscription} (${args.errorSource}): ${describe(args.error)}`,
            );
          },
        },
        { autoCompleteMessages: false, maxConcurrentCalls: config.maxConcurrentCalls },
      );
      listeners.push({ receiver, close: () => subscribed.close() });
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    modes: config.modes,
    lanes: config.lanes,
    get stats(): WorkerStats {
      return {
        received: counts.received,
        started: counts.started,
        startedLate: counts.startedLate,
        replies: { ...counts.replies },
        outcomes: { ...counts.outcomes },
        inFlight: inFlight.size,
      };
    },
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(listeners.map((listener) => listener.close()));
        leases.stopAll();
        await Promise.allSettled([...inFlight]);
        await Promise.all(listeners.map((listener) => listener.receiver.close()));
        await Promise.all([...senders.values()].map((sender) => sender.close()));
        await client.close();
      })();
      return stopping;
    },
  };
}

async function settle(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
  settlement: Handled['settlement'],
): Promise<void> {
  switch (settlement.action) {
    case 'complete':
      return receiver.completeMessage(message);
    case 'abandon':
      return receiver.abandonMessage(message);
    case 'dead-letter':
      return receiver.deadLetterMessage(message, {
        deadLetterReason: settlement.deadLetterReason,
        deadLetterErrorDescription: settlement.deadLetterErrorDescription,
      });
  }
}

function settledEvent(
  stepType: StepType,
  message: ServiceBusReceivedMessage,
  handled: Handled,
): SettledEvent {
  const d = handled.directive;
  return {
    stepType,
    messageId: message.messageId === undefined ? undefined : String(message.messageId),
    outcome: handled.outcome,
    settlement: handled.settlement.action,
    ...(d === undefined
      ? {}
      : { kind: d.kind, jobId: d.job_id, stepId: d.step_id, attemptNo: d.attempt_no, leaseId: d.lease_id }),
    ...(handled.detail === undefined ? {} : { detail: handled.detail }),
  };
}

const SETTLED: Readonly<Record<SettledEvent['settlement'], string>> = {
  complete: 'completed',
  abandon: 'abandoned',
  'dead-letter': 'dead-lettered',
};

function describeEvent(event: SettledEvent): string {
  const what =
    event.jobId === undefined
      ? `message ${String(event.messageId)}`
      : `${event.kind ?? 'directive'} ${event.jobId}/${event.stepId}#${event.attemptNo}`;
  const detail = event.detail === undefined ? '' : ` (${event.detail})`;
  return `[${event.stepType}] ${what}: ${event.outcome}, ${SETTLED[event.settlement]}${detail}`;
}

interface CheckedOptions {
  readonly topicPrefix: string;
  readonly lanes: readonly number[];
  readonly replyPrefix?: string;
  readonly modes: WorkerModes;
  readonly timings: WorkTimings;
  readonly ackAfterMs?: number;
  readonly maxConcurrentCalls: number;
}

function checkOptions(options: DemoWorkersOptions): CheckedOptions {
  const problems: string[] = [];
  if (options.connectionString.trim() === '') problems.push('connectionString is empty');
  const lanes = checkLanes(options.lanes ?? DEFAULT_LANE_COUNT, problems);
  const topicPrefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  if (topicPrefix === '') problems.push('topicPrefix is empty');
  const { replyPrefix } = options;
  if (replyPrefix !== undefined && !ENTITY_PREFIX.test(replyPrefix))
    problems.push(
      `replyPrefix must be letters, digits, ".", "_" or "-", at most 41 characters (got "${replyPrefix}")`,
    );
  const maxConcurrentCalls = options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS;
  if (!Number.isInteger(maxConcurrentCalls) || maxConcurrentCalls < 2)
    problems.push(`maxConcurrentCalls must be an integer of at least 2 (got ${maxConcurrentCalls})`);
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  for (const [name, value] of Object.entries(timings)) {
    const least = name === 'heartbeatMs' ? 1 : 0;
    if (!Number.isInteger(value) || value < least)
      problems.push(`timings.${name} must be an integer ≥ ${least} (got ${value})`);
  }
  const { ackAfterMs } = options;
  if (ackAfterMs !== undefined && !(Number.isInteger(ackAfterMs) && ackAfterMs >= 1))
    problems.push(`ackAfterMs must be a positive integer of milliseconds (got ${ackAfterMs})`);
  let modes: WorkerModes = workerModes();
  try {
    modes = typeof options.modes === 'string' ? parseWorkerModes(options.modes) : workerModes(options.modes);
  } catch (error) {
    if (!(error instanceof WorkerConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new WorkerConfigError(problems);
  return {
    topicPrefix,
    lanes,
    ...(replyPrefix === undefined ? {} : { replyPrefix }),
    modes,
    timings,
    ...(ackAfterMs === undefined ? {} : { ackAfterMs }),
    maxConcurrentCalls,
  };
}

/** A topic name before its lane number, as Lucius's settings accept one. */
const ENTITY_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/;

/** The lanes to listen on, ascending: `0..count-1`, or the listed ones (each 0..63, once). */
function checkLanes(lanes: number | readonly number[], problems: string[]): readonly number[] {
  if (typeof lanes === 'number') {
    if (Number.isInteger(lanes) && lanes >= 1 && lanes <= MAX_LANES)
      return Array.from({ length: lanes }, (_, lane) => lane);
    problems.push(`lanes must be a count 1..${MAX_LANES} or a list of lanes (got ${lanes})`);
    return [];
  }
  if (lanes.length === 0) problems.push('lanes lists no lane');
  const bad = lanes.filter((lane) => !Number.isInteger(lane) || lane < 0 || lane >= MAX_LANES);
  if (bad.length > 0) problems.push(`lanes must be 0..${MAX_LANES - 1} (got ${bad.join(', ')})`);
  const repeated = lanes.filter((lane, index) => lanes.indexOf(lane) !== index);
  if (repeated.length > 0) problems.push(`lanes lists ${[...new Set(repeated)].join(', ')} more than once`);
  return [...lanes].sort((a, b) => a - b);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
