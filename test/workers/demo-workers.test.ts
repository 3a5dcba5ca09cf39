/**
 * The demo workers against the Service Bus emulator with Lucius's topology (a free loopback port),
 * nothing mocked: directives are published with the SDK as Lucius publishes them
 * (toDirectiveMessage) to lane 3, and the replies are read with the SDK from `global-bus-replies-p3`
 * / `lucius-invoker`, where Lucius reads them, and checked against the contracts in src/contracts.
 *
 * Each test starts its own workers (lanes 0..3, only the platform under test) with short work
 * timings, and waits on the workers' settlement events and on replies arriving, never on elapsed time.
 * After each test the reply subscription must be empty: every reply a test did not expect fails it.
 */
import { randomUUID } from 'node:crypto';
import {
  ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { validateAck } from '../../src/contracts/ack';
import { validateDirective, type Directive, type StepDirective } from '../../src/contracts/directive';
import { validateHeartbeat } from '../../src/contracts/heartbeat';
import { validateStepResult, type StepResult } from '../../src/contracts/result';
import { toDirectiveMessage } from '../../src/messaging/directive-message';
import { decodeReply } from '../../src/contracts/reply-decoder';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../devhost/servicebus/emulator';
import { luciusEmulatorConfig } from '../../launcher/lucius-topology';
import { startDemoWorkers, type DemoWorkers, type SettledEvent } from '../../workers/demo-workers';
import type { WorkTimings } from '../../workers/modes';
import { uniqueToken } from '../support/unique';

const LANE = 3;
const TOPIC = `global-bus-p${LANE}`;
const REPLY_TOPIC = `global-bus-replies-p${LANE}`;
const REPLY_SUBSCRIPTION = 'lucius-invoker';
/** Receive rounds while waiting for replies (each returns as soon as a message is there). */
const RECEIVE_ROUNDS = 40;

const PAYLOADS = {
  OCR: { stepId: 'ocr', payload: { output_format: 'TEXT' } },
  EMBEDDING: { stepId: 'embed', payload: { model: 'text-embedding-3-small', dimensions: 256 } },
  SIS: { stepId: 'sis', payload: { analysis: ['entities', 'summary'] } },
} as const;
type StepType = keyof typeof PAYLOADS;

let emulator: ServiceBusEmulator;
let client: ServiceBusClient;
let replies: ServiceBusReceiver;
let workers: DemoWorkers | undefined;
let settled: Settlements;

beforeAll(async () => {
  emulator = await startServiceBusEmulator({ port: 0, config: luciusEmulatorConfig({}) });
  client = new ServiceBusClient(emulator.connectionString, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
  replies = client.createReceiver(REPLY_TOPIC, REPLY_SUBSCRIPTION, { receiveMode: 'peekLock' });
});

afterEach(async () => {
  await workers?.stop();
  workers = undefined;
  const peek = client.createReceiver(REPLY_TOPIC, REPLY_SUBSCRIPTION);
  const left = await peek.peekMessages(20);
  await peek.close();
  expect(left.map((m) => `${String(m.subject)} ${String(m.messageId)}`)).toEqual([]);
});

afterAll(async () => {
  await replies?.close();
  await client?.close();
  await emulator?.stop();
});

/** Settlement events, awaitable by predicate (past ones count). */
class Settlements {
  readonly events: SettledEvent[] = [];
  private readonly waiters: Array<{
    match: (e: SettledEvent) => boolean;
    resolve: (e: SettledEvent) => void;
  }> = [];

  add(event: SettledEvent): void {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** The first event matching; fails the test (naming what was seen) if none comes. */
  waitFor(match: Partial<SettledEvent>): Promise<SettledEvent> {
    const matches = (e: SettledEvent): boolean =>
      Object.entries(match).every(([key, value]) => e[key as keyof SettledEvent] === value);
    const seen = this.events.find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(
        () =>
          reject(new Error(`no settlement ${JSON.stringify(match)}; seen ${JSON.stringify(this.events)}`)),
        15_000,
      );
      this.waiters.push({
        match: matches,
        resolve: (e) => {
          clearTimeout(guard);
          resolve(e);
        },
      });
    });
  }
}

async function start(modes: string, timings: Partial<WorkTimings> = {}): Promise<DemoWorkers> {
  settled = new Settlements();
  workers = await startDemoWorkers({
    connectionString: emulator.connectionString,
    lanes: LANE + 1,
    modes: `off,${modes}`,
    timings: { workMs: 20, slowWorkMs: 150, heartbeatMs: 40, ...timings },
    onSettled: (event) => settled.add(event),
  });
  return workers;
}

function directive(stepType: StepType = 'OCR', overrides: Partial<StepDirective> = {}): StepDirective {
  const { stepId, payload } = PAYLOADS[stepType];
  const issuedAt = new Date();
  const document: StepDirective = {
    schema_version: 'v1',
    kind: 'directive',
    job_id: `job-${uniqueToken()}`,
    tenant_id: 'tenant-demo',
    step_id: stepId,
    step_index: 0,
    step_type: stepType,
    attempt_no: 1,
    lease_id: randomUUID(),
    lane: LANE,
    reply_to: REPLY_TOPIC,
    issued_at: issuedAt.toISOString(),
    input_ref: 'https://blob.example/in/doc.pdf',
    output_ref: 'https://blob.example/out/job',
    payload,
    ack_deadline: new Date(issuedAt.getTime() + 30_000).toISOString(),
    ...overrides,
  };
  expect(validateDirective(document)).toMatchObject({ ok: true });
  return document;
}

function cancelOf(d: StepDirective, reason: string): Directive {
  const cancel: Directive = {
    schema_version: 'v1',
    kind: 'cancel',
    job_id: d.job_id,
    tenant_id: d.tenant_id,
    step_id: d.step_id,
    step_index: d.step_index,
    step_type: d.step_type,
    attempt_no: d.attempt_no,
    lease_id: d.lease_id,
    lane: d.lane,
    reply_to: d.reply_to,
    issued_at: new Date().toISOString(),
    reason,
  };
  expect(validateDirective(cancel)).toMatchObject({ ok: true });
  return cancel;
}

async function publish(message: ServiceBusMessage): Promise<void> {
  const sender = client.createSender(TOPIC);
  try {
    await sender.sendMessages(message);
  } finally {
    await sender.close();
  }
}

/** Receives (and completes) replies until `done` holds for those of `jobId`; fails if they stop coming. */
async function repliesUntil(
  jobId: string,
  done: (received: ServiceBusReceivedMessage[]) => boolean,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  for (let round = 0; round < RECEIVE_ROUNDS && !done(received); round += 1) {
    for (const message of await replies.receiveMessages(1, { maxWaitTimeInMs: 500 })) {
      await replies.completeMessage(message);
      expect(message.correlationId).toBe(jobId);
      received.push(message);
    }
  }
  if (!done(received)) throw new Error(`replies stopped at: ${received.map((m) => m.subject).join(', ')}`);
  return received;
}

const hasResult = (received: ServiceBusReceivedMessage[]): boolean =>
  received.some((m) => m.subject === 'result');

/** Checks a reply's message envelope and body contract; returns the body. */
function checkReply(message: ServiceBusReceivedMessage, d: StepDirective): unknown {
  const kind = message.subject as 'ack' | 'heartbeat' | 'result';
  expect({
    contentType: message.contentType,
    correlationId: message.correlationId,
    applicationProperties: message.applicationProperties,
  }).toEqual({
    contentType: 'application/json',
    correlationId: d.job_id,
    applicationProperties: {
      job_id: d.job_id,
      step_id: d.step_id,
      attempt_no: d.attempt_no,
      lease_id: d.lease_id,
    },
  });
  expect(String(message.messageId)).toMatch(
    new RegExp(`^${d.job_id}:${d.step_id}:${d.attempt_no}:${kind}${kind === 'heartbeat' ? ':\\d+' : ''}$`),
  );
  const validate = { ack: validateAck, heartbeat: validateHeartbeat, result: validateStepResult }[kind];
  expect(validate(message.body)).toMatchObject({ ok: true });
  expect(message.body).toMatchObject({
    kind,
    job_id: d.job_id,
    step_id: d.step_id,
    attempt_no: d.attempt_no,
    lease_id: d.lease_id,
  });
  // Lucius's own reply decoder accepts it.
  expect(decodeReply(message.body, { subject: kind }).kind).toBe(kind);
  return message.body;
}

describe('demo workers', () => {
  it.each(['OCR', 'EMBEDDING', 'SIS'] as const)(
    '%s (normal): acknowledges, then succeeds, echoing the lease',
    async (stepType) => {
      await start(`${stepType}=normal`);
      const d = directive(stepType);
      await publish(toDirectiveMessage(d));
      const received = await repliesUntil(d.job_id, hasResult);
      expect(received.map((m) => m.subject)).toEqual(['ack', 'result']);
      received.forEach((m) => checkReply(m, d));
      expect(received[1]?.body).toMatchObject({
        status: 'SUCCEEDED',
        output_ref: `${d.output_ref}/${d.step_id}-1`,
        result: expect.any(Object),
      });
      expect(await settled.waitFor({ leaseId: d.lease_id })).toMatchObject({
        outcome: 'succeeded',
        settlement: 'complete',
      });
    },
  );

  it('instant: acknowledges and succeeds without working', async () => {
    await start('EMBEDDING=instant', { workMs: 600_000 });
    const d = directive('EMBEDDING');
    await publish(toDirectiveMessage(d));
    const received = await repliesUntil(d.job_id, hasResult);
    expect(received.map((m) => m.subject)).toEqual(['ack', 'result']);
    received.forEach((m) => checkReply(m, d));
    expect(received[1]?.body).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('slow: heartbeats between the ACK and the RESULT', async () => {
    await start('OCR=slow');
    const d = directive();
    await publish(toDirectiveMessage(d));
    const received = await repliesUntil(d.job_id, hasResult);
    received.forEach((m) => checkReply(m, d));
    const kinds = received.map((m) => m.subject);
    expect(kinds[0]).toBe('ack');
    expect(kinds.at(-1)).toBe('result');
    expect(kinds.slice(1, -1).length).toBeGreaterThanOrEqual(1);
    expect(kinds.slice(1, -1).every((k) => k === 'heartbeat')).toBe(true);
    expect(received.at(-1)?.body).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('flaky:1: fails attempt 1 TRANSIENT and succeeds attempt 2 under its new lease', async () => {
    await start('OCR=flaky:1');
    const first = directive();
    await publish(toDirectiveMessage(first));
    const one = await repliesUntil(first.job_id, hasResult);
    one.forEach((m) => checkReply(m, first));
    expect(one.at(-1)?.body).toMatchObject({ status: 'FAILED', failure: { failure_class: 'TRANSIENT' } });

    const second = directive('OCR', { job_id: first.job_id, attempt_no: 2, lease_id: randomUUID() });
    await publish(toDirectiveMessage(second));
    const two = await repliesUntil(first.job_id, hasResult);
    expect(two.map((m) => m.subject)).toEqual(['ack', 'result']);
    two.forEach((m) => checkReply(m, second));
    expect(two.at(-1)?.body).toMatchObject({ status: 'SUCCEEDED', lease_id: second.lease_id });
  });

  it('failing: fails the attempt PERMANENT', async () => {
    await start('SIS=failing');
    const d = directive('SIS');
    await publish(toDirectiveMessage(d));
    const received = await repliesUntil(d.job_id, hasResult);
    expect(received.map((m) => m.subject)).toEqual(['ack', 'result']);
    received.forEach((m) => checkReply(m, d));
    expect((received[1]?.body as StepResult).status).toBe('FAILED');
    expect(received[1]?.body).toMatchObject({ failure: { failure_class: 'PERMANENT' } });
  });

  it('drops a directive whose ACK deadline has passed: no work, no reply, counted as expired', async () => {
    const running = await start('OCR=normal');
    const issued = new Date(Date.now() - 60_000);
    const d = directive('OCR', {
      issued_at: issued.toISOString(),
      ack_deadline: new Date(issued.getTime() + 30_000).toISOString(),
    });
    // Sent without a time to live (as a broker that has not yet expired it would hand it over).
    const { timeToLive: _ttl, ...message } = toDirectiveMessage(d);
    await publish(message);
    expect(await settled.waitFor({ leaseId: d.lease_id })).toMatchObject({
      outcome: 'expired',
      settlement: 'complete',
    });
    expect(await replies.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    expect(running.stats).toMatchObject({
      started: 0,
      startedLate: 0,
      replies: { ack: 0, heartbeat: 0, result: 0 },
      outcomes: expect.objectContaining({ expired: 1 }),
    });
  });

  it('silent: consumes the directive and never replies', async () => {
    const running = await start('OCR=silent');
    const d = directive();
    await publish(toDirectiveMessage(d));
    expect(await settled.waitFor({ leaseId: d.lease_id })).toMatchObject({
      outcome: 'silent',
      settlement: 'complete',
    });
    // Replies are sent before the directive is completed, so anything sent would be here by now.
    expect(await replies.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    expect(running.stats.replies).toEqual({ ack: 0, heartbeat: 0, result: 0 });
  });

  it('invalid: sends a RESULT that breaks result.v1, which Lucius rejects', async () => {
    await start('EMBEDDING=invalid');
    const d = directive('EMBEDDING');
    await publish(toDirectiveMessage(d));
    const received = await repliesUntil(d.job_id, (r) => r.length >= 1);
    expect(received.map((m) => m.subject)).toEqual(['result']);
    const [reply] = received;
    expect(validateStepResult(reply?.body)).toMatchObject({ ok: false });
    expect(() => decodeReply(reply?.body, { subject: 'result' })).toThrow(
      expect.objectContaining({ code: 'invalid_reply' }),
    );
    expect(reply?.applicationProperties).toMatchObject({ lease_id: d.lease_id });
  });

  it('runs a lease once: a directive redelivered while its attempt runs starts no second run', async () => {
    const running = await start('OCR=slow', { slowWorkMs: 600_000, heartbeatMs: 30 });
    const d = directive();
    await publish(toDirectiveMessage(d));
    await repliesUntil(d.job_id, (r) => r.some((m) => m.subject === 'heartbeat'));
    // The same attempt again, as a re-publish after the topic's duplicate window would bring it.
    await publish({ ...toDirectiveMessage(d), messageId: `${d.job_id}:redelivered` });
    expect(await settled.waitFor({ messageId: `${d.job_id}:redelivered` })).toMatchObject({
      outcome: 'duplicate',
      settlement: 'complete',
      detail: 'lease already working',
    });
    await publish(toDirectiveMessage(cancelOf(d, 'test over')));
    await repliesUntil(d.job_id, hasResult);
    expect(running.stats.started).toBe(1);
    // One ACK: the first batch had it, the rest (heartbeats, the RESULT) came after.
    expect(running.stats.replies.ack).toBe(1);
  });

  it('runs a lease once: a directive redelivered after its attempt finished gets the RESULT again', async () => {
    const running = await start('OCR=normal');
    const d = directive();
    await publish(toDirectiveMessage(d));
    expect(await settled.waitFor({ messageId: `${d.job_id}:ocr:1` })).toMatchObject({ outcome: 'succeeded' });
    await publish({ ...toDirectiveMessage(d), messageId: `${d.job_id}:redelivered` });
    expect(await settled.waitFor({ messageId: `${d.job_id}:redelivered` })).toMatchObject({
      outcome: 'duplicate',
      settlement: 'complete',
      detail: 'lease already finished',
    });
    expect(running.stats).toMatchObject({ started: 1, replies: { ack: 1, heartbeat: 0, result: 2 } });
    // The re-sent RESULT has the first one's message id, so the reply topic's duplicate detection
    // keeps one: Lucius sees exactly one ACK and one RESULT.
    const received = await repliesUntil(d.job_id, hasResult);
    expect(received.map((m) => m.subject)).toEqual(['ack', 'result']);
  });

  it('cancel: stops a running slow attempt, which replies FAILED CANCELLED', async () => {
    const running = await start('OCR=slow', { slowWorkMs: 600_000, heartbeatMs: 30 });
    const d = directive();
    await publish(toDirectiveMessage(d));
    const before = await repliesUntil(d.job_id, (r) => r.some((m) => m.subject === 'heartbeat'));
    await publish(toDirectiveMessage(cancelOf(d, 'job cancelled by the tenant')));
    const after = await repliesUntil(d.job_id, hasResult);
    const kinds = [...before, ...after].map((m) => m.subject);
    expect(kinds[0]).toBe('ack');
    expect(kinds.slice(1, -1).every((k) => k === 'heartbeat')).toBe(true);
    const result = checkReply(after.at(-1) as ServiceBusReceivedMessage, d);
    expect(result).toMatchObject({
      status: 'FAILED',
      failure: { failure_class: 'CANCELLED', message: 'cancelled by Lucius: job cancelled by the tenant' },
    });
    expect(await settled.waitFor({ leaseId: d.lease_id, kind: 'directive' })).toMatchObject({
      outcome: 'cancelled',
      settlement: 'complete',
    });
    expect(await settled.waitFor({ leaseId: d.lease_id, kind: 'cancel' })).toMatchObject({
      outcome: 'cancel',
      settlement: 'complete',
      detail: 'stopping',
    });
    expect(running.stats.inFlight).toBe(0);
  });

  it('stop() abandons running work, so another instance takes the directive over', async () => {
    const first = await start('OCR=slow', { slowWorkMs: 600_000, heartbeatMs: 30 });
    const firstSettled = settled;
    const d = directive();
    await publish(toDirectiveMessage(d));
    const before = await repliesUntil(d.job_id, (r) => r.some((m) => m.subject === 'heartbeat'));
    await first.stop();
    expect(await firstSettled.waitFor({ leaseId: d.lease_id })).toMatchObject({
      outcome: 'interrupted',
      settlement: 'abandon',
      detail: 'stopped by shutdown',
    });

    const second = await start('OCR=normal');
    const after = await repliesUntil(d.job_id, hasResult);
    // The new instance ACKs again under the same message id, which the reply topic drops as a duplicate.
    expect(before[0]?.subject).toBe('ack');
    expect(after.map((m) => m.subject).filter((k) => k !== 'heartbeat')).toEqual(['result']);
    expect(checkReply(after.at(-1) as ServiceBusReceivedMessage, d)).toMatchObject({ status: 'SUCCEEDED' });
    expect(second.stats).toMatchObject({ started: 1, replies: { ack: 1, result: 1 } });
  });

  it('dead-letters a directive body that breaks directive.v1, or reached the wrong platform', async () => {
    await start('OCR=normal');
    const broken = `broken-${uniqueToken()}`;
    await publish({
      messageId: broken,
      body: { kind: 'directive', job_id: 'x' },
      applicationProperties: { step_type: 'OCR' },
    });
    const misrouted = directive('EMBEDDING');
    await publish({ ...toDirectiveMessage(misrouted), applicationProperties: { step_type: 'OCR' } });
    await settled.waitFor({ messageId: broken });
    await settled.waitFor({ leaseId: misrouted.lease_id });

    const dlq = client.createReceiver(TOPIC, 'distributed-ocr', {
      subQueueType: 'deadLetter',
      receiveMode: 'receiveAndDelete',
    });
    const dead: ServiceBusReceivedMessage[] = [];
    for (let round = 0; round < RECEIVE_ROUNDS && dead.length < 2; round += 1) {
      dead.push(...(await dlq.receiveMessages(1, { maxWaitTimeInMs: 500 })));
    }
    await dlq.close();
    const byId = new Map(dead.map((m) => [String(m.messageId), m]));
    expect(byId.get(broken)).toMatchObject({
      deadLetterReason: 'invalid_directive',
      deadLetterErrorDescription: expect.stringContaining("must have required property 'lease_id'"),
    });
    expect(byId.get(`${misrouted.job_id}:embed:1`)).toMatchObject({
      deadLetterReason: 'misrouted_directive',
      deadLetterErrorDescription: 'a EMBEDDING directive reached the OCR worker',
    });
  });
});
