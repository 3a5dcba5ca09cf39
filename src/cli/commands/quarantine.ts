/**
 * `lucius quarantine`: the replies Lucius parked on the quarantine queue
 * (LUCIUS_SERVICEBUS_QUARANTINE_QUEUE) because it could not process them, each with its reason,
 * description and `source` (`{reply topic}/{subscription}`; see src/messaging/service-bus-reply-quarantine.ts).
 * A message is named by its sequence number on the queue.
 *
 * - list peeks (takes nothing); show prints one message with its body;
 * - redrive sends the original reply body back to the reply topic it came from (a fresh message id,
 *   so the topic's duplicate detection does not drop it; the correlation id is kept), then removes
 *   it from the quarantine queue; the ledger decides again whether it applies;
 * - purge removes one message, or every message with --all.
 *
 * To take one message, the queue is received in order and the messages before it are given back
 * (abandoned) once it is found, so a redrive moves nothing else.
 */
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { print, table, type CommandEnv } from '../command-env';
import { NotFoundError, UsageError } from '../exit-codes';
import { parsePositiveInt } from '../job-selection';
import { progressBar } from '../progress';

interface JsonOption {
  readonly json?: boolean;
}

/** A parked reply as the CLI shows it. */
export interface ParkedReply {
  readonly sequenceNumber: string;
  readonly enqueuedAt?: string;
  readonly reason?: string;
  readonly description?: string;
  readonly source?: string;
  readonly sourceMessageId?: string;
  readonly correlationId?: string;
  readonly deliveryCount?: number;
  readonly body?: unknown;
}

const RECEIVE_BATCH = 50;
const RECEIVE_WAIT_MS = 1_000;

export function registerQuarantineCommands(program: Command, env: CommandEnv): void {
  const quarantine = program
    .command('quarantine')
    .description('replies parked on the quarantine queue, with their reason');

  quarantine
    .command('list')
    .description('list parked replies (peek: nothing is taken)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string } & JsonOption) => {
      const limit = parsePositiveInt('--limit', options.limit, 100_000);
      const items = await withReceiver(env, (receiver) => peekAll(receiver, limit));
      const parked = items.map((m) => toParked(m, false));
      print(env, options.json, { items: parked }, () =>
        parked.length === 0
          ? 'the quarantine queue is empty'
          : table([
              ['SEQ', 'ENQUEUED', 'REASON', 'SOURCE', 'SOURCE MESSAGE'],
              ...parked.map((p) => [
                p.sequenceNumber,
                p.enqueuedAt ?? '',
                p.reason ?? '',
                p.source ?? '',
                p.sourceMessageId ?? '',
              ]),
            ]),
      );
    });

  quarantine
    .command('show <seq>')
    .description('show one parked reply with its reason and body')
    .option('--json', 'print JSON')
    .action(async (seq: string, options: JsonOption) => {
      const sequence = parseSequence(seq);
      const message = await withReceiver(env, (receiver) => peekOne(receiver, sequence));
      const parked = toParked(message, true);
      print(env, options.json, parked, () =>
        [
          `seq ${parked.sequenceNumber}  enqueued ${parked.enqueuedAt ?? '?'}`,
          `reason ${parked.reason ?? '?'}: ${parked.description ?? ''}`,
          `source ${parked.source ?? '?'}  message ${parked.sourceMessageId ?? '?'}  correlation ${parked.correlationId ?? '-'}`,
          `body ${typeof parked.body === 'string' ? parked.body : JSON.stringify(parked.body, null, 2)}`,
        ].join('\n'),
      );
    });

  quarantine
    .command('redrive <seq>')
    .description('send a parked reply back to the reply topic it came from, and remove it from quarantine')
    .option('--json', 'print JSON')
    .action(async (seq: string, options: JsonOption) => {
      const sequence = parseSequence(seq);
      const runtime = env.runtime();
      const redriven = await withReceiver(env, async (receiver) => {
        await peekOne(receiver, sequence); // not found: exit 3 before taking anything
        return takeOne(receiver, sequence, async (message) => {
          const topic = replyTopicOf(message);
          const sender = runtime.serviceBus.createSender(topic);
          try {
            await sender.sendMessages({
              body: message.body,
              messageId: randomUUID(),
              contentType: message.contentType ?? 'application/json',
              ...(message.correlationId === undefined ? {} : { correlationId: message.correlationId }),
              applicationProperties: { redriven_from_quarantine: String(message.sequenceNumber) },
            });
          } finally {
            await sender.close();
          }
          return topic;
        });
      });
      print(
        env,
        options.json,
        { sequenceNumber: sequence.toString(), redrivenTo: redriven },
        () => `seq ${sequence.toString()} redriven to ${redriven}`,
      );
    });

  quarantine
    .command('purge [seq]')
    .description('remove one parked reply, or all of them with --all')
    .option('--all', 'remove every parked reply')
    .option('--json', 'print JSON')
    .action(async (seq: string | undefined, options: { all?: boolean } & JsonOption) => {
      if ((seq === undefined) === (options.all !== true))
        throw new UsageError('give a sequence number or --all');
      if (seq !== undefined) {
        const sequence = parseSequence(seq);
        await withReceiver(env, async (receiver) => {
          await peekOne(receiver, sequence);
          await takeOne(receiver, sequence, async () => undefined);
        });
        print(env, options.json, { purged: 1 }, () => `seq ${sequence.toString()} purged`);
        return;
      }
      const purged = await purgeAll(env, options.json === true);
      print(env, options.json, { purged }, () => `${purged} parked replies purged`);
    });
}

function parseSequence(seq: string): bigint {
  if (!/^\d{1,19}$/.test(seq)) throw new UsageError(`a sequence number is a whole number (got ${seq})`);
  return BigInt(seq);
}

async function withReceiver<T>(
  env: CommandEnv,
  work: (receiver: ServiceBusReceiver) => Promise<T>,
): Promise<T> {
  const runtime = env.runtime();
  // No automatic lock renewal: parked replies may carry no message id, which the renewal needs.
  const receiver = runtime.serviceBus.createReceiver(runtime.settings.serviceBus.quarantineQueue, {
    maxAutoLockRenewalDurationInMs: 0,
  });
  try {
    return await work(receiver);
  } finally {
    await receiver.close();
  }
}

/** Peeks page after page: the receiver continues each peek after the last message it peeked. */
async function peekAll(receiver: ServiceBusReceiver, limit: number): Promise<ServiceBusReceivedMessage[]> {
  const all: ServiceBusReceivedMessage[] = [];
  while (all.length < limit) {
    const page = await receiver.peekMessages(Math.min(100, limit - all.length));
    if (page.length === 0) break;
    all.push(...page);
  }
  return all;
}

async function peekOne(receiver: ServiceBusReceiver, sequence: bigint): Promise<ServiceBusReceivedMessage> {
  for (;;) {
    const page = await receiver.peekMessages(100);
    const found = page.find((message) => sequenceOf(message) === sequence);
    if (found !== undefined) return found;
    const last = page[page.length - 1];
    if (last === undefined || sequenceOf(last) > sequence)
      throw new NotFoundError(`no parked reply with sequence number ${sequence.toString()}`);
  }
}

/**
 * Receives in order until the message with `sequence` comes, runs `act` on it and completes it;
 * every other message received meanwhile is abandoned (given back) afterwards. Each give-back counts
 * a delivery; the quarantine queue allows QUARANTINE_MAX_DELIVERY_COUNT, so looking never
 * dead-letters a parked reply.
 */
async function takeOne<T>(
  receiver: ServiceBusReceiver,
  sequence: bigint,
  act: (message: ServiceBusReceivedMessage) => Promise<T>,
): Promise<T> {
  const held: ServiceBusReceivedMessage[] = [];
  try {
    for (;;) {
      const batch = await receiver.receiveMessages(RECEIVE_BATCH, { maxWaitTimeInMs: RECEIVE_WAIT_MS });
      if (batch.length === 0)
        throw new NotFoundError(
          `no parked reply with sequence number ${sequence.toString()} (taken meanwhile)`,
        );
      const target = batch.find((message) => sequenceOf(message) === sequence);
      // Every other message of the batch is locked to this receiver too: given back below.
      held.push(...batch.filter((message) => message !== target));
      if (target !== undefined) {
        let result: T;
        try {
          result = await act(target);
        } catch (error) {
          held.push(target); // not redriven: it stays parked
          throw error;
        }
        await receiver.completeMessage(target);
        return result;
      }
    }
  } finally {
    for (const message of held) await receiver.abandonMessage(message).catch(() => undefined);
  }
}

async function purgeAll(env: CommandEnv, json: boolean): Promise<number> {
  const runtime = env.runtime();
  const receiver = runtime.serviceBus.createReceiver(runtime.settings.serviceBus.quarantineQueue, {
    receiveMode: 'receiveAndDelete',
  });
  const progress = progressBar('purge', { json });
  let purged = 0;
  progress.start(0);
  try {
    for (;;) {
      const batch = await receiver.receiveMessages(RECEIVE_BATCH, { maxWaitTimeInMs: RECEIVE_WAIT_MS });
      if (batch.length === 0) break;
      purged += batch.length;
      progress.grow(batch.length);
      progress.tick(batch.length);
    }
  } finally {
    progress.stop();
    await receiver.close();
  }
  return purged;
}

/** The reply topic a parked reply came from: the topic part of its `source` (`topic/subscription`). */
function replyTopicOf(message: ServiceBusReceivedMessage): string {
  const source = message.applicationProperties?.['source'];
  const topic = typeof source === 'string' ? source.split('/')[0] : undefined;
  if (topic === undefined || topic === '')
    throw new Error(`parked reply ${String(message.sequenceNumber)} has no source topic to redrive it to`);
  return topic;
}

function sequenceOf(message: ServiceBusReceivedMessage): bigint {
  return BigInt(String(message.sequenceNumber));
}

function toParked(message: ServiceBusReceivedMessage, withBody: boolean): ParkedReply {
  const props = message.applicationProperties ?? {};
  const text = (name: string): string | undefined =>
    typeof props[name] === 'string' ? (props[name] as string) : undefined;
  const reason = text('reason');
  const description = text('description');
  const source = text('source');
  const sourceMessageId = text('source_message_id');
  return {
    sequenceNumber: String(message.sequenceNumber),
    ...(message.enqueuedTimeUtc === undefined ? {} : { enqueuedAt: message.enqueuedTimeUtc.toISOString() }),
    ...(reason === undefined ? {} : { reason }),
    ...(description === undefined ? {} : { description }),
    ...(source === undefined ? {} : { source }),
    ...(sourceMessageId === undefined ? {} : { sourceMessageId }),
    ...(message.correlationId === undefined ? {} : { correlationId: String(message.correlationId) }),
    deliveryCount: message.deliveryCount ?? 0,
    ...(withBody ? { body: message.body as unknown } : {}),
  };
}
