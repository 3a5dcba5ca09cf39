/**
 * The job orchestration and its activities (Durable Functions). Activity inputs are what
 * jobOrchestrator passed (kept in its history), so they are taken as typed.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { jobOrchestrator } from '../orchestration/job-orchestrator';
import type {
  AttemptRef,
  CancelJobInput,
  FinishJobInput,
  PublishFailedInput,
  RecordAttemptInput,
  ResolveTimeoutInput,
} from '../orchestration/job-protocol';
import { JOB_ORCHESTRATOR_NAME, type JobOrchestrationInput } from '../orchestration/orchestration-starter';
import * as activities from '../usecases/job-activities';

const deps = () => getServices();
const structured =
  (context: InvocationContext) => (event: string, fields: Readonly<Record<string, unknown>>) =>
    context.info(JSON.stringify({ event, ...fields }));

const startJob = df.app.activity('startJob', {
  handler: (input) => activities.startJob(deps(), input as JobOrchestrationInput),
});
const recordAttempt = df.app.activity('recordAttempt', {
  handler: (input) => activities.recordAttempt(deps(), input as RecordAttemptInput),
});
const publishDirective = df.app.activity('publishDirective', {
  handler: (input, context) => activities.publishDirective(deps(), input as AttemptRef, structured(context)),
});
const recordPublishFailure = df.app.activity('recordPublishFailure', {
  handler: (input) => activities.recordPublishFailure(deps(), input as PublishFailedInput),
});
const resolveTimeout = df.app.activity('resolveTimeout', {
  handler: (input) => activities.resolveTimeout(deps(), input as ResolveTimeoutInput),
});
const finishJob = df.app.activity('finishJob', {
  handler: (input) => activities.finishJob(deps(), input as FinishJobInput),
});
const cancelJob = df.app.activity('cancelJobRun', {
  handler: (input) => activities.cancelJob(deps(), input as CancelJobInput),
});

df.app.orchestration(
  JOB_ORCHESTRATOR_NAME,
  jobOrchestrator({
    startJob,
    recordAttempt,
    publishDirective,
    recordPublishFailure,
    resolveTimeout,
    finishJob,
    cancelJob,
  }),
);
