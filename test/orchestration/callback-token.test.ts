/**
 * Worker callbacks over HTTP with the directive's callback token, through the real orchestration on
 * the time-skipping durable environment: each attempt's directive carries its own token; the token of
 * the attempt in flight drives the job to its end, and a token whose attempt timed out (superseded by
 * the next attempt) or whose job ended answers 409 and changes nothing.
 */
import type { HttpResponseInit } from '@azure/functions';
import type { StepDirective } from '../../src/contracts/directive';
import type { WorkerReplyKind } from '../../src/domain/worker-reply';
import type { Caller } from '../../src/http/caller';
import { CALLBACK_TOKEN_HEADER } from '../../src/http/caller';
import { handleReplyCallback } from '../../src/http/reply-handlers';
import { bodyOf, context, postTo, replyBody } from '../unit/http/fixtures';
import { createHarness, type Harness } from './harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
});

afterEach(async () => {
  await h.stop();
});

/** What a worker calling back over HTTP sends: the reply for the directive's attempt, with its token. */
async function callBack(
  d: StepDirective,
  kind: WorkerReplyKind,
  token: string | undefined = d.callback_token,
): Promise<HttpResponseInit> {
  if (token === undefined) throw new Error('the directive carries no callback token');
  const attempt = { jobId: d.job_id, stepId: d.step_id, attemptNo: d.attempt_no, leaseId: d.lease_id };
  const services = {
    ...h.services,
    // The orchestration hears the reply's event on the durable engine.
    ingestReply: (c: Parameters<typeof h.services.ingestReply>[0]) => ({
      ...h.services.ingestReply(c),
      signals: {
        raise: async (jobId: string, name: string, payload: unknown) => {
          await h.env.engine.raiseEvent(jobId, name, payload);
        },
      },
    }),
  };
  const caller: Caller = {
    callbackToken: token,
    tenant: () => Promise.reject(new Error('not used')),
    mayUse: () => Promise.resolve(false),
  };
  const request = postTo(
    `/api/v1/jobs/${d.job_id}/steps/${d.step_id}/${kind}`,
    { jobId: d.job_id, stepId: d.step_id },
    replyBody(kind, attempt, kind === 'result' ? { output_ref: `${d.output_ref}/${d.step_id}` } : {}),
    { 'content-type': 'application/json', [CALLBACK_TOKEN_HEADER]: token },
  );
  const response = await handleReplyCallback(kind, services, request, context(), caller);
  await h.env.runUntilIdle();
  return response;
}

describe('worker callbacks with the directive’s callback token', () => {
  it('drive a job to SUCCEEDED with the token of the attempt in flight; a replay afterwards changes nothing', async () => {
    const job = await h.admit('OCR');
    const d = await h.latest(job.jobId);
    expect(d.callback_token).toMatch(/^lcb1\./);
    expect((await callBack(d, 'ack')).status).toBe(202);
    expect((await callBack(d, 'result')).status).toBe(202);
    const { output } = await h.finish(job.jobId);
    expect(output.status).toBe('SUCCEEDED');

    const before = structuredClone(await h.job(job.jobId));
    const inflight = await h.services.ledger.inflightCount('t1');
    for (const kind of ['ack', 'heartbeat', 'result'] as const) {
      const replay = await callBack(d, kind);
      expect(replay.status).toBe(409);
      expect(bodyOf(replay).code).toBe('stale_lease');
    }
    expect(await h.job(job.jobId)).toEqual(before);
    expect(await h.services.ledger.inflightCount('t1')).toBe(inflight);
  });

  it('refuses the token of an attempt that timed out once the next attempt, with its own token, is published', async () => {
    const job = await h.admit('OCR');
    const first = await h.latest(job.jobId);
    await h.env.advanceBy(30 * SECOND); // no ACK: attempt 1 times out
    await h.env.advanceBy(MINUTE); // the backoff passes: attempt 2 is published
    const second = await h.latest(job.jobId);
    expect(second.attempt_no).toBe(2);
    expect(second.callback_token).not.toBe(first.callback_token);

    const before = structuredClone(await h.job(job.jobId));
    const late = await callBack(first, 'ack');
    expect(late.status).toBe(409);
    expect(await h.job(job.jobId)).toEqual(before);
    // The first attempt's token cannot carry the second attempt's reply either.
    const swapped = await callBack(second, 'ack', first.callback_token);
    expect(swapped.status).toBe(403);
    expect(await h.job(job.jobId)).toEqual(before);

    expect((await callBack(second, 'ack')).status).toBe(202);
    expect((await callBack(second, 'result')).status).toBe(202);
    const { output } = await h.finish(job.jobId);
    expect(output.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });
});
