/**
 * Jobs, steps and directives for the messaging tests, with explicit time: nothing depends on when
 * the tests run. `job(...)` takes a job id so every test can use its own.
 */
import { randomUUID } from 'node:crypto';
import type { StepDirective } from '../../../src/contracts/directive';
import type { Job } from '../../../src/domain/job';
import type { Step, StepType } from '../../../src/domain/step';
import { buildDirective } from '../../../src/contracts/build-directive';

export const T0 = new Date('2030-01-01T00:00:00.000Z');

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

export const REPLY_PREFIX = 'global-bus-replies-p';

export function job(jobId = 'job-1', overrides: Partial<Job> = {}): Job {
  return {
    jobId,
    tenantId: 't1',
    requestType: 'OCR->EMBEDDING',
    status: 'RUNNING',
    inputRef: 'blob://in/doc.pdf',
    outputRef: 'blob://out/doc',
    routingKey: 't1',
    routingKeyUsed: 'tenant_id',
    lane: 1,
    priority: 5,
    labels: {},
    idempotencyKey: `key-${jobId}`,
    requestHash: 'hash',
    schemaVersion: 'v1',
    stepIds: ['ocr', 'embedding'],
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    redrives: 0,
    orchestrationRestarts: 0,
    repairs: [],
    ...overrides,
  };
}

export function step(jobId = 'job-1', type: StepType = 'OCR', overrides: Partial<Step> = {}): Step {
  const index = type === 'OCR' ? 0 : type === 'EMBEDDING' ? 1 : 2;
  return {
    jobId,
    stepId: type.toLowerCase(),
    index,
    type,
    status: 'PENDING',
    lane: 1,
    payload: { languages: ['en'] },
    attemptNo: 0,
    attemptBase: 0,
    staleReplies: 0,
    duplicateReplies: 0,
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    ...overrides,
  };
}

export interface DirectiveSpec {
  readonly jobId?: string;
  readonly type?: StepType;
  readonly lane?: number;
  readonly attemptNo?: number;
  readonly leaseId?: string;
}

/** A valid directive for attempt `attemptNo` of a step, built the way the product builds it. */
export function directive(spec: DirectiveSpec = {}): StepDirective {
  const jobId = spec.jobId ?? 'job-1';
  const type = spec.type ?? 'OCR';
  return buildDirective({
    job: job(jobId),
    step: step(jobId, type, { lane: spec.lane ?? 1 }),
    attempt: { attemptNo: spec.attemptNo ?? 1, leaseId: spec.leaseId ?? randomUUID() },
    inputRef: 'blob://in/doc.pdf',
    deadlines: { ackDeadline: at(30_000) },
    replyPrefix: REPLY_PREFIX,
    issuedAt: T0,
  });
}
