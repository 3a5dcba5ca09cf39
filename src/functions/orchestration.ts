/**
 * The job orchestration and its activities (Durable Functions). Activity inputs are what
 * jobOrchestrator passed (kept in its history), so they are taken as typed: each activity's input
 * type is its function's (`ActivityInput`), the same type the orchestrator's handle takes.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import type { ActivityInput } from '../orchestration/activity-handles';
import { JOB_ORCHESTRATOR_NAME, jobOrchestrator } from '../orchestration/job-orchestrator';
import * as activities from '../usecases/job-activities';

const deps = () => getServices().jobActivities;
const structured =
  (context: InvocationContext) => (event: string, fields: Readonly<Record<string, unknown>>) =>
    context.info(JSON.stringify({ event, ...fields }));

const startJob = df.app.activity('startJob', {
  handler: (input) => activities.startJob(deps(), input as ActivityInput<'startJob'>),
});
const recordAttempt = df.app.activity('recordAttempt', {
  handler: (input) => activities.recordAttempt(deps(), input as ActivityInput<'recordAttempt'>),
});
const readAttempt = df.app.activity('readAttempt', {
  handler: (input) => activities.readAttempt(deps(), input as ActivityInput<'readAttempt'>),
});
const publishDirective = df.app.activity('publishDirective', {
  handler: (input, context) =>
    activities.publishDirective(deps(), input as ActivityInput<'publishDirective'>, structured(context)),
});
const recordPublishFailure = df.app.activity('recordPublishFailure', {
  handler: (input) => activities.recordPublishFailure(deps(), input as ActivityInput<'recordPublishFailure'>),
});
const resolveTimeout = df.app.activity('resolveTimeout', {
  handler: (input) => activities.resolveTimeout(deps(), input as ActivityInput<'resolveTimeout'>),
});
const finishJob = df.app.activity('finishJob', {
  handler: (input) => activities.finishJob(deps(), input as ActivityInput<'finishJob'>),
});
const cancelJob = df.app.activity('cancelJobRun', {
  handler: (input) => activities.cancelJob(deps(), input as ActivityInput<'cancelJob'>),
});
const expireJob = df.app.activity('expireJob', {
  handler: (input) => activities.expireJob(deps(), input as ActivityInput<'expireJob'>),
});

df.app.orchestration(
  JOB_ORCHESTRATOR_NAME,
  jobOrchestrator({
    startJob,
    recordAttempt,
    readAttempt,
    publishDirective,
    recordPublishFailure,
    resolveTimeout,
    finishJob,
    cancelJob,
    expireJob,
  }),
);
