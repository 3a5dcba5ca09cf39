/**
 * Worker callback tokens end to end on devhost, nothing faked: `up` as a child process in
 * `LUCIUS_AUTH_MODE=dev` with the demo workers off, the test playing the worker. It takes each
 * directive from its platform's subscription on the Service Bus emulator (@azure/service-bus, as a
 * platform team would), reads its `callback_token` and calls back over HTTP with header
 * `Lucius-Callback-Token` and no bearer token. A genuine token moves the job on; the same token
 * after its attempt ended answers 409 and changes nothing; a token bound to another step or job, or
 * tampered with, answers 403 and changes nothing.
 */
import { ServiceBusClient, type ServiceBusReceiver } from '@azure/service-bus';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { uniqueToken } from '../support/unique';
import type { StepDirective } from '../../src/contracts/directive';
import { DEFAULT_TOPIC_PREFIX, PLATFORM_SUBSCRIPTIONS, type StepType } from '../../workers/platforms';
import { ackFor, heartbeatFor, succeededFor } from '../../workers/replies';
import { TokenMint, leaksIn, missingSecurityHeaders, send, type Answer } from './support/forged-tokens';

const KEY = 'e2e-sec-callback-key';
const TENANT = `tc-${uniqueToken()}`;
const TOKEN_HEADER = 'Lucius-Callback-Token';

let up: Up;
let bus: ServiceBusClient;
let bearer: string;

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_AUTH_MODE: 'dev',
    // The test is the worker: no attempt may time out and be dispatched again while it works.
    LUCIUS_ACK_TIMEOUT_SECONDS: '3600',
  });
  bus = new ServiceBusClient(up.serviceBusConnection, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
  const mint = await TokenMint.open(up.dataDir);
  bearer = await mint.token({
    subject: 'callback-submitter',
    tenants: [TENANT],
    roles: ['Lucius.Submit', 'Lucius.Read'],
  });
}, 180_000);

afterAll(async () => {
  await bus?.close();
  await up?.stop();
});

async function submit(requestType: string): Promise<{ jobId: string; lane: number }> {
  const payloads: Record<string, unknown> = {
    ocr: { output_format: 'TEXT' },
    embedding: { model: 'text-embedding-3-large' },
  };
  const steps = requestType.split('->').map((t) => t.toLowerCase());
  const answer = await send(up.apiUrl, KEY, 'POST', '/v1/commands', {
    token: bearer,
    body: {
      tenant_id: TENANT,
      request_type: requestType,
      input_ref: `blob://in/${uniqueToken()}.pdf`,
      output_ref: 'blob://out/callback',
      payload: { steps: Object.fromEntries(steps.map((s) => [s, payloads[s]])) },
      schema_version: 'v1',
    },
  });
  if (answer.status !== 202)
    throw new Error(`admission answered ${answer.status}: ${answer.text}\n${up.output().slice(-3000)}`);
  return { jobId: answer.body.jobId as string, lane: answer.body.lane as number };
}

/** The directive for `jobId` on its platform's subscription (settled: the test plays the worker). */
async function directiveFor(jobId: string, lane: number, stepType: StepType): Promise<StepDirective> {
  const receiver: ServiceBusReceiver = bus.createReceiver(
    `${DEFAULT_TOPIC_PREFIX}${lane}`,
    PLATFORM_SUBSCRIPTIONS[stepType],
    { receiveMode: 'peekLock' },
  );
  try {
    return await eventually(
      `the ${stepType} directive of ${jobId}`,
      async () => {
        for (const message of await receiver.receiveMessages(5, { maxWaitTimeInMs: 1_000 })) {
          const body = message.body as StepDirective;
          if (body.job_id === jobId && body.kind === 'directive') {
            await receiver.completeMessage(message);
            return body;
          }
          await receiver.abandonMessage(message);
        }
        return undefined;
      },
      120,
    );
  } finally {
    await receiver.close();
  }
}

type Kind = 'ack' | 'heartbeat' | 'result';

function replyBody(kind: Kind, directive: StepDirective): unknown {
  const now = new Date();
  if (kind === 'ack') return ackFor(directive, 'e2e-sec-worker', now);
  if (kind === 'heartbeat') return heartbeatFor(directive, 0.5, now);
  return succeededFor(directive, { pages: 1 }, now);
}

/** A callback for `directive`'s attempt (URL and body), carrying `token` and no bearer token. */
async function callback(kind: Kind, directive: StepDirective, token: string): Promise<Answer> {
  const answer = await send(
    up.apiUrl,
    KEY,
    'POST',
    `/v1/jobs/${directive.job_id}/steps/${directive.step_id}/${kind}`,
    {
      body: replyBody(kind, directive),
      headers: { [TOKEN_HEADER]: token },
    },
  );
  expect(missingSecurityHeaders(answer)).toEqual([]);
  expect(leaksIn(answer.text)).toEqual([]);
  return answer;
}

async function jobView(jobId: string): Promise<Record<string, unknown>> {
  const answer = await send(up.apiUrl, KEY, 'GET', `/v1/jobs/${jobId}?tenant_id=${TENANT}`, {
    token: bearer,
  });
  expect(answer.status).toBe(200);
  return answer.body as Record<string, unknown>;
}

/** `token` with one character of its part `index` (0 version, 1 kid, 2 payload, 3 MAC) changed. */
function tampered(token: string, index: number): string {
  const parts = token.split('.');
  const part = parts[index] as string;
  const last = part.slice(-1);
  parts[index] = `${part.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
  return parts.join('.');
}

/** `token` whose payload is re-encoded with `change` applied (the MAC left as it was). */
function rebound(token: string, change: Record<string, unknown>): string {
  const [version, kid, payload, mac] = token.split('.') as [string, string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return [
    version,
    kid,
    Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url'),
    mac,
  ].join('.');
}

function expectRefused(answer: Answer): void {
  expect(answer.status).toBe(403);
  expect(answer.body.code).toBe('callback_token_invalid');
}

describe('worker callback tokens', () => {
  let job: { jobId: string; lane: number };
  let ocr: StepDirective;
  let embedding: StepDirective;

  beforeAll(async () => {
    job = await submit('OCR->EMBEDDING');
    ocr = await directiveFor(job.jobId, job.lane, 'OCR');
  }, 150_000);

  it('are carried by every directive', () => {
    expect(ocr.callback_token).toMatch(/^lcb1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('refuse a tampered token with 403 and change nothing', async () => {
    const token = ocr.callback_token as string;
    const before = await jobView(job.jobId);
    for (const forged of [
      tampered(token, 3),
      tampered(token, 2),
      tampered(token, 1),
      rebound(token, { a: ocr.attempt_no + 1 }),
      rebound(token, { l: '00000000-0000-4000-8000-000000000000' }),
      `${token}x`,
      'lcb1.garbage',
    ]) {
      for (const kind of ['ack', 'result'] as const) expectRefused(await callback(kind, ocr, forged));
    }
    expect(await jobView(job.jobId)).toEqual(before);
  });

  it('needs no bearer token: a genuine token ACKs and finishes the attempt', async () => {
    const token = ocr.callback_token as string;
    const ack = await callback('ack', ocr, token);
    expect(ack.status).toBe(202);
    expect(ack.body.step).toMatchObject({
      stepId: ocr.step_id,
      status: 'IN_PROGRESS',
      attemptNo: ocr.attempt_no,
    });
    expect((await callback('heartbeat', ocr, token)).status).toBe(202);
    const result = await callback('result', ocr, token);
    expect(result.status).toBe(202);
    expect(result.body.step).toMatchObject({ stepId: ocr.step_id, status: 'SUCCEEDED' });
    embedding = await directiveFor(job.jobId, job.lane, 'EMBEDDING');
    expect(embedding.step_id).not.toBe(ocr.step_id);
    expect(embedding.callback_token).not.toBe(token);
  });

  it('refuse a token bound to another step with 403 and change nothing', async () => {
    const before = await jobView(job.jobId);
    const ocrToken = ocr.callback_token as string;
    const embeddingToken = embedding.callback_token as string;
    // The OCR step's token on the EMBEDDING step's URL and attempt, and the other way round.
    expectRefused(await callback('ack', embedding, ocrToken));
    expectRefused(await callback('result', embedding, ocrToken));
    expectRefused(await callback('ack', ocr, embeddingToken));
    // The step's own token, with another attempt or lease in the body.
    expectRefused(await callback('ack', { ...embedding, lease_id: ocr.lease_id }, embeddingToken));
    expectRefused(
      await callback('ack', { ...embedding, attempt_no: embedding.attempt_no + 1 }, embeddingToken),
    );
    expect(await jobView(job.jobId)).toEqual(before);
  });

  it('refuse a token of another job with 403', async () => {
    const other = await submit('OCR');
    const otherOcr = await directiveFor(other.jobId, other.lane, 'OCR');
    const before = await jobView(other.jobId);
    expectRefused(await callback('ack', otherOcr, ocr.callback_token as string));
    expectRefused(await callback('ack', otherOcr, embedding.callback_token as string));
    expect(await jobView(other.jobId)).toEqual(before);
    // Its own token still works.
    expect((await callback('ack', otherOcr, otherOcr.callback_token as string)).status).toBe(202);
  });

  it('answer 409 for a token whose attempt has ended, and change nothing', async () => {
    const before = await jobView(job.jobId);
    for (const kind of ['ack', 'heartbeat', 'result'] as const) {
      const replay = await callback(kind, ocr, ocr.callback_token as string);
      expect(replay.status).toBe(409);
      expect(replay.body.code).toBe('stale_lease');
    }
    expect(await jobView(job.jobId)).toEqual(before);
  });

  it('take the job to SUCCEEDED, and are dead once it has', async () => {
    const token = embedding.callback_token as string;
    expect((await callback('ack', embedding, token)).status).toBe(202);
    expect((await callback('result', embedding, token)).status).toBe(202);
    const done = await eventually('the job succeeding', async () => {
      const view = await jobView(job.jobId);
      return view.status === 'SUCCEEDED' ? view : undefined;
    });
    const after = await eventually('the job settling', async () => {
      const first = await jobView(job.jobId);
      const second = await jobView(job.jobId);
      return JSON.stringify(first) === JSON.stringify(second) ? second : undefined;
    });
    expect(after.status).toBe(done.status);
    for (const kind of ['ack', 'result'] as const) {
      const replay = await callback(kind, embedding, token);
      expect(replay.status).toBe(409);
      expect(replay.body.code).toBe('stale_lease');
    }
    expect(await jobView(job.jobId)).toEqual(after);
  });
});
