import { InvocationContext } from '@azure/functions';
import type { Step } from '../../../src/domain/step';
import { LedgerUnavailableError } from '../../../src/ledger/errors';
import type { JobLedger } from '../../../src/ports/job-ledger';
import { handleReplyMessage, type ReplyMessageDeps } from '../../../src/bus/reply-message-handler';
import type { ReplyQuarantine } from '../../../src/ports/reply-quarantine';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';
import {
  admitJob,
  dispatchStep,
  replyBody,
  testServices,
  type AttemptKey,
  type TestServices,
} from '../http/fixtures';

const SOURCE = 'global-bus-replies-p1/lucius-invoker';

function depsOf(services: TestServices, overrides: Partial<ReplyMessageDeps> = {}): ReplyMessageDeps {
  return { ...services.replyMessage(messageContext()), ...overrides };
}

/** The context a Service Bus topic trigger hands the handler, with the message's metadata. */
function messageContext(metadata: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    invocationId: 'inv-sb',
    functionName: 'replies-p1',
    logHandler: () => undefined,
    triggerMetadata: { messageId: 'msg-1', ...metadata },
  });
}

async function started(services: TestServices): Promise<AttemptKey> {
  const jobId = await admitJob(services);
  await services.ledger.applyJobEvent(jobId, { type: 'START' }, services.clock.now());
  return dispatchStep(services, jobId, 'ocr');
}

async function stepOf(services: TestServices, a: AttemptKey): Promise<Step> {
  const found = (await services.ledger.getJob(a.jobId))?.steps.find((s) => s.stepId === a.stepId);
  if (found === undefined) throw new Error('step not found');
  return found;
}

describe('handleReplyMessage', () => {
  it('ingests a valid reply: the step moves on and the attempt’s event is raised', async () => {
    const services = testServices();
    const attempt = await started(services);
    await handleReplyMessage(depsOf(services), SOURCE, replyBody('ack', attempt), messageContext());
    expect((await stepOf(services, attempt)).status).toBe('IN_PROGRESS');
    // An ACK is recorded in the ledger only; the RESULT wakes the orchestration.
    expect(services.signals.raised).toEqual([]);
    const result = replyBody('result', attempt);
    await handleReplyMessage(depsOf(services), SOURCE, result, messageContext({ messageId: 'msg-2' }));
    expect((await stepOf(services, attempt)).status).toBe('SUCCEEDED');
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([`reply:ocr:1:${attempt.leaseId}`]);
    expect(services.quarantine.parked).toEqual([]);
  });

  it('decodes a body delivered as a JSON string or as UTF-8 bytes', async () => {
    const services = testServices();
    const attempt = await started(services);
    await handleReplyMessage(
      depsOf(services),
      SOURCE,
      JSON.stringify(replyBody('ack', attempt)),
      messageContext(),
    );
    const bytes = Buffer.from(JSON.stringify(replyBody('result', attempt)), 'utf8');
    await handleReplyMessage(depsOf(services), SOURCE, bytes, messageContext({ messageId: 'msg-2' }));
    expect(await stepOf(services, attempt)).toMatchObject({
      status: 'SUCCEEDED',
      outputRef: 'blob://out/ocr',
    });
    expect(services.quarantine.parked).toEqual([]);
  });

  it('quarantines an invalid reply as invalid_reply, naming the JSON pointer, and completes the message', async () => {
    const services = testServices();
    const attempt = await started(services);
    const body = replyBody('ack', attempt, { attempt_no: 'one' });
    await expect(
      handleReplyMessage(
        depsOf(services),
        SOURCE,
        body,
        messageContext({ messageId: 'msg-bad', subject: 'ack', correlationId: 'corr-9' }),
      ),
    ).resolves.toBeUndefined();
    expect(services.quarantine.parked).toEqual([
      {
        body,
        reason: 'invalid_reply',
        description: expect.stringContaining('/attempt_no'),
        source: SOURCE,
        sourceMessageId: 'msg-bad',
        correlationId: 'corr-9',
      },
    ]);
    expect((await stepOf(services, attempt)).status).toBe('AWAITING_ACK');
    expect(services.signals.raised).toEqual([]);
  });

  it('quarantines a body that is not JSON or names no reply kind', async () => {
    const services = testServices();
    await handleReplyMessage(depsOf(services), SOURCE, '{"kind": ', messageContext());
    await handleReplyMessage(
      depsOf(services),
      SOURCE,
      { hello: 'world' },
      messageContext({ messageId: 'msg-2' }),
    );
    expect(services.quarantine.parked.map((p) => [p.sourceMessageId, p.reason])).toEqual([
      ['msg-1', 'invalid_reply'],
      ['msg-2', 'invalid_reply'],
    ]);
    expect(services.quarantine.parked[0]?.description).toContain('(body)');
    expect(services.quarantine.parked[1]?.description).toContain('/kind');
  });

  it('reports a body without its kind against the contract its subject names', async () => {
    const services = testServices();
    const attempt = await started(services);
    const { kind: _kind, ...withoutKind } = replyBody('heartbeat', attempt);
    await handleReplyMessage(depsOf(services), SOURCE, withoutKind, messageContext({ subject: 'heartbeat' }));
    expect(services.quarantine.parked).toEqual([
      expect.objectContaining({
        reason: 'invalid_reply',
        description: expect.stringMatching(/heartbeat\.v1.*\/kind/),
      }),
    ]);
  });

  it('quarantines a reply for an unknown job as job_not_found and for an unknown step as step_not_found', async () => {
    const services = testServices();
    const attempt = await started(services);
    const ghost = { ...attempt, jobId: '00000000-0000-4000-8000-999999999999' };
    await handleReplyMessage(depsOf(services), SOURCE, replyBody('ack', ghost), messageContext());
    await handleReplyMessage(
      depsOf(services),
      SOURCE,
      replyBody('ack', { ...attempt, stepId: 'sis' }),
      messageContext({ messageId: 'msg-2' }),
    );
    expect(services.quarantine.parked.map((p) => [p.reason, p.sourceMessageId])).toEqual([
      ['job_not_found', 'msg-1'],
      ['step_not_found', 'msg-2'],
    ]);
    expect(services.quarantine.parked[0]?.description).toContain(ghost.jobId);
  });

  it('completes a stale reply without quarantining it, counting it on the step', async () => {
    const services = testServices();
    const attempt = await started(services);
    const stale = { ...attempt, leaseId: '11111111-2222-4333-8444-555555555555' };
    await expect(
      handleReplyMessage(depsOf(services), SOURCE, replyBody('ack', stale), messageContext()),
    ).resolves.toBeUndefined();
    expect(await stepOf(services, attempt)).toMatchObject({ status: 'AWAITING_ACK', staleReplies: 1 });
    expect(services.quarantine.parked).toEqual([]);
    expect(services.signals.raised).toEqual([]);
  });

  it('throws when the ledger is unreachable, so the message is redelivered, and applies it on redelivery', async () => {
    const services = testServices();
    const attempt = await started(services);
    const down: JobLedger = Object.assign(Object.create(services.ledger) as JobLedger, {
      applyStepEvent: async () => Promise.reject(new LedgerUnavailableError('table endpoint timed out')),
    });
    const body = replyBody('ack', attempt);
    await expect(
      handleReplyMessage(depsOf(services, { ledger: down }), SOURCE, body, messageContext()),
    ).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(services.quarantine.parked).toEqual([]);
    expect((await stepOf(services, attempt)).status).toBe('AWAITING_ACK');

    await handleReplyMessage(depsOf(services), SOURCE, body, messageContext());
    expect((await stepOf(services, attempt)).status).toBe('IN_PROGRESS');
  });

  it('throws when the orchestration cannot be told, keeping the change; the redelivery raises the event', async () => {
    const services = testServices();
    const attempt = await started(services);
    const body = replyBody('result', attempt);
    services.signals.failing = true;
    await expect(handleReplyMessage(depsOf(services), SOURCE, body, messageContext())).rejects.toBeInstanceOf(
      OrchestrationUnavailableError,
    );
    expect((await stepOf(services, attempt)).status).toBe('SUCCEEDED');

    services.signals.failing = false;
    await handleReplyMessage(depsOf(services), SOURCE, body, messageContext());
    expect(services.signals.raised.map((r) => r.eventName)).toEqual([`reply:ocr:1:${attempt.leaseId}`]);
    expect((await stepOf(services, attempt)).duplicateReplies).toBe(1);
  });

  it('throws when an unusable reply cannot be parked, so it is redelivered rather than lost', async () => {
    const services = testServices();
    const broken: ReplyQuarantine = {
      quarantine: async () => Promise.reject(new Error('quarantine queue unreachable')),
    };
    await expect(
      handleReplyMessage(depsOf(services, { quarantine: broken }), SOURCE, '{not json', messageContext()),
    ).rejects.toThrow('quarantine queue unreachable');
  });
});
