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
 *   `...Array` variants for `many`).
 */
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { DevhostError } from '../../host/errors';
import type { ServiceBusFunction } from '../../host/function-table';
import type { HostConfig } from '../../host/host-config';

export interface ServiceBusListenerOptions {
  readonly functions: readonly ServiceBusFunction[];
  readonly env: NodeJS.ProcessEnv;
  readonly config: HostConfig['serviceBus'];
  readonly invoke: (
    fn: ServiceBusFunction,
    trigger: unknown,
    triggerMetadata: Record<string, unknown>,
  ) => Promise<unknown>;
  readonly log: (line: string) => void;
}

export interface ServiceBusListeners {
  stop(): Promise<void>;
}

export async function startServiceBusListeners(
  options: ServiceBusListenerOptions,
): Promise<ServiceBusListeners> {
  const clients = new Map<string, ServiceBusClient>();
  const stops: Array<() => Promise<void>> = [];
  for (const fn of options.functions) {
    let client = clients.get(fn.connection);
    if (client === undefined) {
      client = new ServiceBusClient(connectionStringOf(fn, options.env));
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
    stops.push(
      fn.cardinality === 'one' ? listenOne(fn, receiver, options) : listenMany(fn, receiver, options),
    );
  }
  return {
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
      await Promise.all([...clients.values()].map((client) => client.close()));
    },
  };
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

function listenOne(
  fn: ServiceBusFunction,
  receiver: ServiceBusReceiver,
  options: ServiceBusListenerOptions,
): () => Promise<void> {
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        try {
          await options.invoke(fn, triggerValue(message.body), metadataOf(message));
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
        options.log(
          `[devhost] ${fn.name}: Service Bus receive error (${args.errorSource}): ${describe(args.error)}`,
        );
      },
    },
    { autoCompleteMessages: false, maxConcurrentCalls: options.config.maxConcurrentCalls },
  );
  return async () => {
    await subscription.close();
    await receiver.close();
  };
}

function listenMany(
  fn: ServiceBusFunction,
  receiver: ServiceBusReceiver,
  options: ServiceBusListenerOptions,
): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let batch: ServiceBusReceivedMessage[];
      try {
        batch = await receiver.receiveMessages(options.config.maxMessageBatchSize, { maxWaitTimeInMs: 500 });
      } catch (error) {
        if (!stopped) options.log(`[devhost] ${fn.name}: Service Bus receive error: ${describe(error)}`);
        continue;
      }
      if (batch.length === 0 || stopped) continue;
      try {
        await options.invoke(
          fn,
          batch.map((message) => triggerValue(message.body)),
          batchMetadataOf(batch),
        );
      } catch (error) {
        options.log(`[devhost] ${fn.name} failed; ${batch.length} messages abandoned: ${describe(error)}`);
        await Promise.all(batch.map((message) => receiver.abandonMessage(message)));
        continue;
      }
      await Promise.all(batch.map((message) => receiver.completeMessage(message)));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await receiver.close();
  };
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
