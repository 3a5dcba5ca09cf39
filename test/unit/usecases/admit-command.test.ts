/**
 * admitCommand's job deadline: the command's `timeout_seconds` (up to LUCIUS_MAX_JOB_TIMEOUT_SECONDS)
 * or LUCIUS_JOB_TIMEOUT_SECONDS; a timeout over the maximum is the caller's mistake, answered at the
 * HTTP edge as a 400 validation problem pointing at the field.
 */
import { handleAdmitCommand } from '../../../src/http/command-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import { bodyOf, callerFor, context, envelope, headerOf, post, testServices } from '../http/fixtures';

const admit = (services: ReturnType<typeof testServices>, body: unknown) =>
  handleAdmitCommand(services, post('/api/v1/commands', body), context(), callerFor(services));

async function deadlineWindow(services: ReturnType<typeof testServices>, overrides = {}) {
  const response = await admit(services, envelope(overrides));
  expect(response.status).toBe(202);
  const found = await services.ledger.getJob(bodyOf(response).jobId as string);
  const job = found?.job;
  if (job?.deadlineAt === undefined) throw new Error('the job has no deadline');
  return (Date.parse(job.deadlineAt) - Date.parse(job.createdAt)) / 1000;
}

describe('admitCommand: the job deadline', () => {
  it('sets the deadline from LUCIUS_JOB_TIMEOUT_SECONDS by default', async () => {
    expect(await deadlineWindow(testServices({ LUCIUS_JOB_TIMEOUT_SECONDS: '900' }))).toBe(900);
  });

  it("takes the command's timeout_seconds up to the maximum", async () => {
    const services = testServices({ LUCIUS_MAX_JOB_TIMEOUT_SECONDS: '7200' });
    expect(await deadlineWindow(services, { timeout_seconds: 7200 })).toBe(7200);
  });

  it('answers 400 validation_failed for a timeout_seconds over the maximum, or not a positive integer', async () => {
    const services = testServices({ LUCIUS_MAX_JOB_TIMEOUT_SECONDS: '7200' });
    for (const timeout of [7201, 0, 2.5, '60']) {
      const response = await admit(services, envelope({ timeout_seconds: timeout }));
      expect(response.status).toBe(400);
      expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
      const problem = bodyOf(response);
      expect(problem).toMatchObject({ status: 400, code: 'validation_failed' });
      expect((problem.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toEqual([
        '/timeout_seconds',
      ]);
    }
    expect(await services.ledger.inflightCount('t1')).toBe(0);
  });
});
