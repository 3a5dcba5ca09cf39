/**
 * The real app's jobOrchestrator and activities (src/functions/orchestration.ts, loaded as a host
 * loads it) on devhost's durable engine in the time-skipping environment, over the memory ledger
 * and the memory directive publisher. Workers are scripted by the test: it reads the directives
 * published and sends replies through the real ingestion path (ingestReply), whose events the
 * engine delivers. Time only moves when nothing can run (to the next timer) or when the test moves it.
 *
 * The app is loaded in its own module registry, as a host loads it; the services it runs on and the
 * use cases the harness drives (admission, ingestion, cancel, redrive) are loaded in that same
 * registry, so an error the ledger throws is the class the app's code checks for.
 */
import type { StepDirective } from '../../src/contracts/directive';
import type { FailureClass } from '../../src/domain/failure';
import type { Job } from '../../src/domain/job';
import type { Step } from '../../src/domain/step';
import type { WorkerReply } from '../../src/domain/worker-reply';
import type { PublishedDirective } from '../../src/messaging/memory-directive-publisher';
import type { JobOutput } from '../../src/contracts/job-protocol';
import { JOB_ORCHESTRATOR_NAME } from '../../src/orchestration/job-orchestrator';
import type { OrchestrationSignals } from '../../src/ports/orchestration-signals';
import type { cancelTenantJob, redriveTenantJob } from '../../src/usecases/control-job';
import type { IngestOutcome } from '../../src/usecases/ingest-reply';
import {
  createTestDurableEnvironment,
  type TestDurableEnvironment,
} from '../../devhost/durable/engine/test-environment';
import { HistoryEventType, MemoryDurableStore } from '../../devhost/durable/engine';
import type { InstanceStatus } from '../../devhost/durable/durable-api';
import { loadFixtureApp } from '../devhost/durable/engine/load-durable-app';
import { context, envelope, type TestServices } from '../unit/http/fixtures';

export const START = new Date('2026-01-01T00:00:00.000Z');
const TENANT = 't1';

export interface Harness {
  readonly env: TestDurableEnvironment;
  readonly services: TestServices;
  /** The activity bodies as the app loaded them (a test may wrap one, e.g. to answer an older plan). */
  readonly activities: typeof import('../../src/usecases/job-activities');
  /** Admits a command through the real use case; its orchestration starts on the engine. */
  admit(requestType?: string, overrides?: Record<string, unknown>): Promise<Job>;
  /** Runs what can run now, then returns the directives published for the job (oldest first). */
  directives(jobId: string): Promise<StepDirective[]>;
  /** The newest directive of the job (attempt and step as published). */
  latest(jobId: string): Promise<StepDirective>;
  reply(reply: WorkerReply): Promise<IngestOutcome>;
  ack(d: StepDirective): Promise<IngestOutcome>;
  heartbeat(d: StepDirective, extendMinutes?: number): Promise<IngestOutcome>;
  succeed(d: StepDirective, outputRef?: string): Promise<IngestOutcome>;
  fail(d: StepDirective, failureClass: FailureClass, message?: string): Promise<IngestOutcome>;
  cancel(jobId: string, reason?: string): ReturnType<typeof cancelTenantJob>;
  redrive(jobId: string): ReturnType<typeof redriveTenantJob>;
  /** Skips time until the orchestration ends; its output. */
  finish(jobId: string): Promise<{ status: InstanceStatus; output: JobOutput }>;
  job(jobId: string): Promise<{ job: Job; steps: readonly Step[] }>;
  status(jobId: string): Promise<InstanceStatus>;
  /** Raises an event straight at the orchestration (as the Durable HTTP API's raiseEvent does). */
  raise(jobId: string, eventName: string, payload: unknown): Promise<void>;
  /** Terminates the orchestration, leaving the ledger as it is. */
  terminate(jobId: string): Promise<void>;
  /** The orchestration's history events (of its current run). */
  history(jobId: string): Promise<ReadonlyArray<Record<string, unknown>>>;
  /** The orchestrator episodes of its current run (the OrchestratorStarted frames the store holds). */
  episodes(jobId: string): Promise<number>;
  stop(): Promise<void>;
}

export async function createHarness(env: Record<string, string> = {}): Promise<Harness> {
  const holder: { env?: TestDurableEnvironment } = {};
  const clock = { now: () => holder.env?.clock.now() ?? START };
  const { app, registrations } = loadFixtureApp(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const fixtures = require('../unit/http/fixtures') as typeof import('../unit/http/fixtures');
    const services = fixtures.testServices(env, { clock });
    (require('../../src/composition') as typeof import('../../src/composition')).useServices(services);
    require('../../src/functions/orchestration');
    return {
      services,
      activities:
        require('../../src/usecases/job-activities') as typeof import('../../src/usecases/job-activities'),
      ...(require('../../src/usecases/admit-command') as typeof import('../../src/usecases/admit-command')),
      ...(require('../../src/usecases/control-job') as typeof import('../../src/usecases/control-job')),
      ...(require('../../src/usecases/ingest-reply') as typeof import('../../src/usecases/ingest-reply')),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
  const { services, activities, admitCommand, cancelTenantJob, redriveTenantJob, ingestReply } = app;
  const store = new MemoryDurableStore();
  const testEnv = createTestDurableEnvironment({ registrations, startTime: START, store });
  holder.env = testEnv;
  const signals: OrchestrationSignals = {
    raise: async (jobId, eventName, payload) => {
      await testEnv.engine.raiseEvent(jobId, eventName, payload);
    },
  };
  // The slot activities tell waiting orchestrations through the same engine (the app's activities
  // would use their invocation's durable client, which this environment does not bind).
  Object.assign(services.jobActivities, { signals });
  const starter = {
    start: async (input: { jobId: string }) => {
      await testEnv.engine.start(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input });
    },
    restart: async (input: { jobId: string }) => {
      await testEnv.engine.start(JOB_ORCHESTRATOR_NAME, { instanceId: input.jobId, input });
    },
  };
  const publisher = services.publisher;
  const ingest = (reply: WorkerReply) => ingestReply({ ...services.ingestReply(context()), signals }, reply);
  const directives = async (jobId: string) => {
    await testEnv.runUntilIdle();
    return publisher
      .published()
      .filter((p: PublishedDirective) => p.directive.job_id === jobId && p.directive.kind === 'directive')
      .map((p) => p.directive as StepDirective);
  };
  const attempt = (d: StepDirective) => ({
    jobId: d.job_id,
    stepId: d.step_id,
    attemptNo: d.attempt_no,
    leaseId: d.lease_id,
  });
  const now = () => clock.now().toISOString();
  const afterReply = async (outcome: IngestOutcome) => {
    await testEnv.runUntilIdle();
    return outcome;
  };

  return {
    env: testEnv,
    services,
    activities,
    async admit(requestType = 'OCR', overrides = {}) {
      const result = await admitCommand(
        { ...services.admitCommand(context()), starter },
        { body: envelope({ request_type: requestType, ...payloadFor(requestType), ...overrides }) },
      );
      await testEnv.runUntilIdle();
      return result.job;
    },
    directives,
    async latest(jobId) {
      const all = await directives(jobId);
      const last = all[all.length - 1];
      if (last === undefined) throw new Error(`no directive was published for job ${jobId}`);
      return last;
    },
    reply: async (reply) => afterReply(await ingest(reply)),
    ack: async (d) => afterReply(await ingest({ kind: 'ack', ...attempt(d), ackedAt: now() })),
    heartbeat: async (d, extendMinutes) =>
      afterReply(
        await ingest({
          kind: 'heartbeat',
          ...attempt(d),
          sentAt: now(),
          ...(extendMinutes === undefined ? {} : { extendMinutes }),
        }),
      ),
    succeed: async (d, outputRef) =>
      afterReply(
        await ingest({
          kind: 'result',
          ...attempt(d),
          status: 'SUCCEEDED',
          completedAt: now(),
          outputRef: outputRef ?? `${d.output_ref}/${d.step_id}`,
        }),
      ),
    fail: async (d, failureClass, message = `${failureClass.toLowerCase()} failure`) =>
      afterReply(
        await ingest({
          kind: 'result',
          ...attempt(d),
          status: 'FAILED',
          completedAt: now(),
          failure: { failureClass, message },
        }),
      ),
    async cancel(jobId, reason) {
      const result = await cancelTenantJob(
        { ...services.controlJob(context()), signals },
        TENANT,
        jobId,
        reason,
      );
      await testEnv.runUntilIdle();
      return result;
    },
    async redrive(jobId) {
      const result = await redriveTenantJob({ ...services.controlJob(context()), starter }, TENANT, jobId);
      await testEnv.runUntilIdle();
      return result;
    },
    async finish(jobId) {
      const status = await testEnv.waitForCompletion(jobId);
      return { status, output: status.output as JobOutput };
    },
    async job(jobId) {
      const found = await services.ledger.getJob(jobId);
      if (found === undefined) throw new Error(`job ${jobId} is not in the ledger`);
      return found;
    },
    async status(jobId) {
      const status = await testEnv.engine.status(jobId);
      if (status === undefined) throw new Error(`no orchestration ${jobId}`);
      return status;
    },
    async raise(jobId, eventName, payload) {
      await testEnv.engine.raiseEvent(jobId, eventName, payload);
      await testEnv.runUntilIdle();
    },
    async terminate(jobId) {
      await testEnv.engine.terminate(jobId, 'terminated by the test');
      await testEnv.runUntilIdle();
    },
    async history(jobId) {
      const status = await testEnv.engine.status(jobId, { showHistory: true });
      return (status?.historyEvents ?? []) as ReadonlyArray<Record<string, unknown>>;
    },
    async episodes(jobId) {
      const instance = await store.getInstance(jobId);
      if (instance === undefined) throw new Error(`no orchestration ${jobId}`);
      const history = await store.getHistory(jobId, instance.executionId);
      return history.filter((h) => h.event.EventType === HistoryEventType.OrchestratorStarted).length;
    },
    stop: () => testEnv.stop(),
  };
}

/** A valid payload for each protocol of the bundled registry. */
function payloadFor(requestType: string): Record<string, unknown> {
  const all: Record<string, Record<string, unknown>> = {
    ocr: { output_format: 'TEXT' },
    embedding: { model: 'text-embedding-3-large' },
    sis: { analysis: ['summary'] },
  };
  const steps = requestType
    .split('->')
    .map((type) => type.toLowerCase())
    .filter((type) => type in all);
  return { payload: { steps: Object.fromEntries(steps.map((step) => [step, all[step]])) } };
}
