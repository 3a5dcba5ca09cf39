/**
 * The job orchestration and its activities (Durable Functions). Activity inputs are what
 * jobOrchestrator passed (kept in its history), so they are taken as typed: each activity's input
 * type is its function's (`ActivityInput`), the same type the orchestrator's handle takes.
 *
 * Each activity runs in a span of the job's trace: its input carries the trace context the
 * orchestration got from admission (`trace`), since an activity runs in an invocation of its own.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import type { ActivityInput, JobActivityName } from '../orchestration/activity-handles';
import { JOB_ORCHESTRATOR_NAME, jobOrchestrator } from '../orchestration/job-orchestrator';
import * as activities from '../usecases/job-activities';
import { telemetryOf } from '../usecases/lifecycle-telemetry';
import { DurableOrchestrationSignals } from '../orchestration/durable-orchestration-signals';

const deps = () => getServices().jobActivities;
const structured =
  (context: InvocationContext) => (event: string, fields: Readonly<Record<string, unknown>>) =>
    context.info(JSON.stringify({ event, ...fields }));

/** Runs an activity body in a span continuing the job's trace (from its input). */
function traced<K extends JobActivityName, T>(
  name: K,
  input: unknown,
  body: (input: ActivityInput<K>) => Promise<T>,
): Promise<T> {
  const typed = input as ActivityInput<K>;
  const ids = typed as Partial<Record<'jobId' | 'stepId' | 'attemptNo', string | number>>;
  return telemetryOf(deps()).span(
    `activity ${name}`,
    {
      kind: 'internal',
      ...(typed.trace === undefined ? {} : { parent: typed.trace }),
      attributes: { job_id: ids.jobId, step_id: ids.stepId, attempt_no: ids.attemptNo },
    },
    () => body(typed),
  );
}

// The slot activities tell the orchestrations of the steps a freed slot went to (through the
// invocation's durable client, unless the services bring signals of their own).
const withSignals = (context: InvocationContext) => ({
  signals: new DurableOrchestrationSignals(() => df.getClient(context)),
  ...deps(),
});
// Plan revision 3's startJob also dispatches the first step (slot, record, publish).
const startJob = df.app.activity('startJob', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('startJob', input, (i) => activities.startJob(withSignals(context), i, structured(context))),
});
const acquireSlot = df.app.activity('acquireSlot', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('acquireSlot', input, (i) => activities.acquireSlot(withSignals(context), i)),
});
// Plan revision 2's acquireSlot + recordAttempt in one (acquireSlot stays for older runs' histories).
const dispatchAttempt = df.app.activity('dispatchAttempt', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('dispatchAttempt', input, (i) => activities.dispatchAttempt(withSignals(context), i)),
});
// Plan revision 3: dispatchAttempt + publishDirective in one; and the read after a RESULT with what
// follows a success (the next step's dispatch, or the job's finish).
const dispatchStep = df.app.activity('dispatchStep', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('dispatchStep', input, (i) =>
      activities.dispatchStep(withSignals(context), i, structured(context)),
    ),
});
const settleAttempt = df.app.activity('settleAttempt', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('settleAttempt', input, (i) =>
      activities.settleAttempt(withSignals(context), i, structured(context)),
    ),
});
const releaseSlot = df.app.activity('releaseSlot', {
  extraInputs: [df.input.durableClient()],
  handler: (input, context) =>
    traced('releaseSlot', input, (i) => activities.releaseSlot(withSignals(context), i)),
});
const recordAttempt = df.app.activity('recordAttempt', {
  handler: (input) => traced('recordAttempt', input, (i) => activities.recordAttempt(deps(), i)),
});
const readAttempt = df.app.activity('readAttempt', {
  handler: (input) => traced('readAttempt', input, (i) => activities.readAttempt(deps(), i)),
});
const publishDirective = df.app.activity('publishDirective', {
  handler: (input, context) =>
    traced('publishDirective', input, (i) => activities.publishDirective(deps(), i, structured(context))),
});
const recordPublishFailure = df.app.activity('recordPublishFailure', {
  handler: (input) =>
    traced('recordPublishFailure', input, (i) => activities.recordPublishFailure(deps(), i)),
});
const resolveTimeout = df.app.activity('resolveTimeout', {
  handler: (input) => traced('resolveTimeout', input, (i) => activities.resolveTimeout(deps(), i)),
});
const finishJob = df.app.activity('finishJob', {
  handler: (input) => traced('finishJob', input, (i) => activities.finishJob(deps(), i)),
});
const cancelJob = df.app.activity('cancelJobRun', {
  handler: (input) => traced('cancelJob', input, (i) => activities.cancelJob(deps(), i)),
});
const expireJob = df.app.activity('expireJob', {
  handler: (input) => traced('expireJob', input, (i) => activities.expireJob(deps(), i)),
});

df.app.orchestration(
  JOB_ORCHESTRATOR_NAME,
  jobOrchestrator({
    startJob,
    acquireSlot,
    dispatchAttempt,
    dispatchStep,
    settleAttempt,
    releaseSlot,
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
