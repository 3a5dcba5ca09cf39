/**
 * devhost's Service Bus triggers: each `app.serviceBusQueue` / `app.serviceBusTopic` function
 * receives through `@azure/service-bus` (against the emulator, or any namespace its connection
 * setting names) with the Functions host's semantics:
 *
 * - peek-lock; the message is completed when the handler succeeds and abandoned when it throws, so
 *   the entity's max delivery count dead-letters a message that keeps failing;
 * - cardinality `one` (a message per invocation, up to `maxConcurrentCalls` at once) or `many`
 *   (batches of up to `maxMessageBatchSize`, all settled together);
 * - locks renewed automatically for up to `maxAutoLockRenewalDuration` (host.json);
 * - the trigger value is the body (JSON text parsed, as the host does), and `triggerMetadata` carries
 *   messageId, deliveryCount, enqueuedTimeUtc, correlationId, applicationProperties, ... (with
 *   `...Array` variants for `many`);
 * - the extension's client retry policy (host.json `clientRetryOptions`; defaults: exponential from
 *   0.8 s up to 1 min, 3 retries, 1 min try timeout), so a trigger whose namespace goes away keeps
 *   trying and receives again once it is back;
 * - `context.traceContext` continues the trace of a single message's `Diagnostic-Id` (or
 *   `traceparent`) application property, with its `tracestate`, as the extension parents the
 *   processing span on it; a batch (`many`) starts a new trace.
 *
 * `stop()` aborts pending receives and reconnection attempts, then closes receivers and clients,
 * each within a bounded wait: a connection that dropped cannot confirm a close, and the host must
 * stop anyway.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RetryMode,
  ServiceBusClient,
  type RetryOptions,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { DevhostError } from '../../common/errors';
import type { ServiceBusFunction } from '../../common/functions';
import type { HostConfig, ServiceBusClientRetryOptions } from '../../common/host-config';
import type { InvocationOptions } from '../../common/host-parts';

export interface ServiceBusListenerOptions {
  readonly functions: readonly ServiceBusFunction[];
  readonly env: NodeJS.ProcessEnv;
  readonly config: HostConfig['serviceBus'];
  readonly invoke: (
    fn: ServiceBusFunction,
    trigger: unknown,
    triggerMetadata: Record<string, unknown>,
    invocation?: InvocationOptions,
  ) => Promise<unknown>;
  readonly log: (line: string) => void;
}

export interface ServiceBusListeners {
  stop(): Promise<void>;
}

/** host.json `clientRetryOptions` as `@azure/service-bus` takes them. */
export function sdkRetryOptions(options: ServiceBusClientRetryOptions): RetryOptions {
  return {
    mode: options.mode === 'fixed' ? RetryMode.Fixed : RetryMode.Exponential,
    retryDelayInMs: options.delayMs,
    maxRetryDelayInMs: options.maxDelayMs,
    maxRetries: options.maxRetries,
    timeoutInMs: options.tryTimeoutMs,
  };
}

/** How long `stop()` waits for a subscription, receiver or client to confirm its close. */
const CLOSE_WAIT_MS = 5_000;

export async function startServiceBusListeners(
  options: ServiceBusListenerOptions,
): Promise<ServiceBusListeners> {
  const clients = new Map<string, ServiceBusClient>();
  const stops: Array<() => Promise<void>> = [];
  const stopping = new AbortController();
  for (const fn of options.functions) {
    let client = clients.get(fn.connection);
    if (client === undefined) {
      client = new ServiceBusClient(connectionStringOf(fn, options.env), {
        retryOptions: sdkRetryOptions(options.config.clientRetryOptions),
      });
      clients.set(fn.connection, client);
    }
    const receiverOptions = {
      receiveMode: 'peekLock' as const,
      maxAutoLockRenewalDurationInMs: options.config.maxAutoLockRenewalDurationMs,
    };
    const receiver =
      fn.queueName !== undefined
        ? client.createReceiver(fn.queueName, receiverOptions)
        : client.createReceiver(fn.topicName as string, fn.subscriptionName as string, receiverOptions);
    const listen = fn.cardinality === 'one' ? listenOne : listenMany;
    stops.push(listen(fn, receiver, stopping.signal, options));
  }
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await Promise.all(stops.map((stop) => stop()));
        await Promise.all(
          [...clients].map(([connection, client]) =>
            closeWithin(`the Service Bus client for ${connection}`, () => client.close(), options.log),
          ),
        );
      })()),
  };
}

/**
 * Waits for `close` at most CLOSE_WAIT_MS; a close that fails or does not finish is logged, not
 * thrown, so one dead link cannot keep the host from stopping.
 */
async function closeWithin(
  what: string,
  close: () => Promise<void>,
  log: (line: string) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), CLOSE_WAIT_MS);
  });
  try {
    if ((await Promise.race([close(), timedOut])) === 'timed out') {
      log(`[devhost] ${what} did not close within ${CLOSE_WAIT_MS} ms; stopping without it`);
    }
  } catch (error) {
    log(`[devhost] closing ${what} failed: ${describe(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The wait before the `failures`-th retry, as the client retry policy (fixed or exponential) spaces them. */
export function retryDelayMs(options: ServiceBusClientRetryOptions, failures: number): number {
  const factor = options.mode === 'fixed' ? 1 : 2 ** Math.max(0, failures - 1);
  return Math.min(options.delayMs * factor, options.maxDelayMs);
}

function connectionStringOf(fn: ServiceBusFunction, env: NodeJS.ProcessEnv): string {
  const value = env[fn.connection];
  if (value !== undefined && value !== '') return value;
  const identity =
    env[`${fn.connection}__fullyQualifiedNamespace`] !== undefined
      ? ` (${fn.connection}__fullyQualifiedNamespace is set, but devhost needs a connection string)`
      : '';
  throw new DevhostError(
    'invalid_function',
    `function "${fn.name}": the Service Bus connection setting ${fn.connection} is not set${identity}`,
  );
}

/**
 * Cardinality `one`: the SDK's subscription, which reconnects on its own (retrying until `stopping`
 * aborts it) and calls the handler for each message.
 */
function listenOne(
  fn: ServiceBusFunction,
  receiver: ServiceBusReceiver,
  stopping: AbortSignal,
  options: ServiceBusListenerOptions,
): () => Promise<void> {
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        try {
          await options.invoke(fn, triggerValue(message.body), metadataOf(message), {
            parentTrace: parentTraceOf(message),
          });
        } catch (error) {
          options.log(
            `[devhost] ${fn.name} failed; message ${String(message.messageId)} abandoned (delivery ${(message.deliveryCount ?? 0) + 1}): ${describe(error)}`,
          );
          await receiver.abandonMessage(message);
          return;
        }
        await receiver.completeMessage(message);
      },
      processError: async (args) => {
        if (stopping.aborted) return;
        options.log(
          `[devhost] ${fn.name}: Service Bus receive error (${args.errorSource}): ${describe(args.error)}`,
        );
      },
    },
    {
      autoCompleteMessages: false,
      maxConcurrentCalls: options.config.maxConcurrentCalls,
      abortSignal: stopping,
    },
  );
  return async () => {
    await closeWithin(`${fn.name}'s subscription`, () => subscription.close(), options.log);
    await closeWithin(`${fn.name}'s receiver`, () => receiver.close(), options.log);
  };
}

/**
 * Cardinality `many`: a receive loop. A failed receive (the namespace is unreachable) is retried
 * after the retry policy's delay, so an outage neither spins nor ends the loop.
 */
function listenMany(
  fn: ServiceBusFunction,
  receiver: ServiceBusReceiver,
  stopping: AbortSignal,
  options: ServiceBusListenerOptions,
): () => Promise<void> {
  const loop = (async () => {
    let failures = 0;
    while (!stopping.aborted) {
      let batch: ServiceBusReceivedMessage[];
      try {
        batch = await receiver.receiveMessages(options.config.maxMessageBatchSize, {
          maxWaitTimeInMs: 500,
          abortSignal: stopping,
        });
      } catch (error) {
        if (stopping.aborted) return;
        failures += 1;
        const delay = retryDelayMs(options.config.clientRetryOptions, failures);
        options.log(
          `[devhost] ${fn.name}: Service Bus receive error: ${describe(error)}; retrying in ${delay} ms`,
        );
        await sleep(delay, undefined, { signal: stopping }).catch(() => undefined);
        continue;
      }
      failures = 0;
      // Received while stopping: left locked, so they are delivered again once the lock expires.
      if (batch.length === 0 || stopping.aborted) continue;
      await invokeBatch(fn, receiver, batch, options);
    }
  })();
  return async () => {
    await loop;
    await closeWithin(`${fn.name}'s receiver`, () => receiver.close(), options.log);
  };
}

async function invokeBatch(
  fn: ServiceBusFunction,
  receiver: ServiceBusReceiver,
  batch: readonly ServiceBusReceivedMessage[],
  options: ServiceBusListenerOptions,
): Promise<void> {
  let settle: (message: ServiceBusReceivedMessage) => Promise<void>;
  try {
    await options.invoke(
      fn,
      batch.map((message) => triggerValue(message.body)),
      batchMetadataOf(batch),
    );
    settle = (message) => receiver.completeMessage(message);
  } catch (error) {
    options.log(`[devhost] ${fn.name} failed; ${batch.length} messages abandoned: ${describe(error)}`);
    settle = (message) => receiver.abandonMessage(message);
  }
  try {
    await Promise.all(batch.map(settle));
  } catch (error) {
    // The lock is gone with the connection: the messages come back once it expires.
    options.log(`[devhost] ${fn.name}: settling ${batch.length} messages failed: ${describe(error)}`);
  }
}

/** The host hands Node the body as JSON when it parses, else as text or bytes. */
export function triggerValue(body: unknown): unknown {
  const text =
    typeof body === 'string'
      ? body
      : body instanceof Uint8Array
        ? Buffer.from(body).toString('utf8')
        : undefined;
  if (text === undefined) return body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return typeof body === 'string' ? body : Buffer.from(body as Uint8Array);
  }
}

export function metadataOf(message: ServiceBusReceivedMessage): Record<string, unknown> {
  const properties = message.applicationProperties ?? {};
  return dropUndefined({
    messageId: message.messageId,
    correlationId: message.correlationId,
    contentType: message.contentType,
    subject: message.subject,
    label: message.subject,
    to: message.to,
    replyTo: message.replyTo,
    sessionId: message.sessionId,
    // The Functions host reports the .NET SDK's count (1 on the first delivery); the JS SDK counts
    // earlier deliveries (0 on the first).
    deliveryCount: (message.deliveryCount ?? 0) + 1,
    sequenceNumber: message.sequenceNumber?.toNumber(),
    lockToken: message.lockToken,
    enqueuedTimeUtc: message.enqueuedTimeUtc?.toISOString(),
    expiresAtUtc: message.expiresAtUtc?.toISOString(),
    lockedUntilUtc: message.lockedUntilUtc?.toISOString(),
    deadLetterSource: message.deadLetterSource,
    applicationProperties: properties,
    userProperties: properties,
  });
}

/**
 * The trace a message continues: its `Diagnostic-Id` application property (what the Service Bus SDKs
 * set when they trace a send), else a `traceparent` one, with the `tracestate` property.
 */
export function parentTraceOf(message: ServiceBusReceivedMessage): InvocationOptions['parentTrace'] {
  const properties = message.applicationProperties ?? {};
  const traceParent = properties['Diagnostic-Id'] ?? properties.traceparent;
  const traceState = properties.tracestate;
  return {
    ...(typeof traceParent === 'string' ? { traceParent } : {}),
    ...(typeof traceState === 'string' ? { traceState } : {}),
  };
}

function batchMetadataOf(batch: readonly ServiceBusReceivedMessage[]): Record<string, unknown> {
  const each = batch.map(metadataOf);
  const keys = new Set(each.flatMap((m) => Object.keys(m)));
  return Object.fromEntries([...keys].map((key) => [`${key}Array`, each.map((m) => m[key])]));
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
