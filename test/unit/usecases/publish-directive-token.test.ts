/**
 * The publish activity hands every directive a callback token signed with the current key, bound to
 * the attempt's job, step, attempt number and lease; a cancel carries none. Memory ledger and publisher.
 */
import { randomUUID } from 'node:crypto';
import { callbackKey, callbackKeyRing, verifyCallbackToken } from '../../../src/guards/callback-token';
import {
  cancelJob,
  publishDirective,
  recordAttempt,
  startJob,
  type JobActivityDeps,
} from '../../../src/usecases/job-activities';
import { admitJob, testServices } from '../http/fixtures';

describe('publishDirective', () => {
  it('publishes a directive whose callback token verifies for its attempt and lease under the current key', async () => {
    const services = testServices();
    const previous = callbackKey('2026-01', Buffer.alloc(32, 1));
    const current = callbackKey('2026-02', Buffer.alloc(32, 2));
    const deps: JobActivityDeps = {
      ...services.jobActivities,
      callbackKeys: callbackKeyRing(current, previous),
    };
    const jobId = await admitJob(services);
    await startJob(deps, { jobId, tenantId: 't1', requestType: 'OCR->EMBEDDING' });
    const attempt = { jobId, stepId: 'ocr', attemptNo: 1, leaseId: randomUUID() };
    const ackDeadline = new Date(services.clock.now().getTime() + 30_000).toISOString();
    await recordAttempt(deps, { ...attempt, inputRef: 'blob://in/doc.pdf', ackDeadline });
    await publishDirective(deps, attempt, () => undefined);

    const [sent] = services.publisher.published();
    const token = sent?.directive.callback_token;
    expect(token).toMatch(/^lcb1\.2026-02\./);
    expect(verifyCallbackToken(deps.callbackKeys, token, { jobId, stepId: 'ocr' })).toEqual({
      ok: true,
      keyId: '2026-02',
      attemptNo: 1,
      leaseId: attempt.leaseId,
    });
    // Only these keys verify it.
    expect(verifyCallbackToken(services.callbackKeys, token, { jobId, stepId: 'ocr' })).toMatchObject({
      ok: false,
    });

    await cancelJob(deps, { jobId, reason: 'no longer needed', attempt });
    const cancel = services.publisher.published().find((p) => p.directive.kind === 'cancel');
    expect(cancel?.directive).not.toHaveProperty('callback_token');
  });
});
