/**
 * The activities `jobOrchestrator` calls, as the handles `df.app.activity` returns, typed from the
 * activity functions themselves (usecases/job-activities.ts): one place defines each activity's
 * input and output, and the orchestrator needs no casts. What the inputs and outputs are is the job
 * protocol (contracts/job-protocol.ts).
 */
import type { RegisteredActivityTask } from 'durable-functions';
import type { Traced } from '../ports/telemetry';
import type * as activityBodies from '../usecases/job-activities';

type Bodies = Pick<
  typeof activityBodies,
  | 'startJob'
  | 'acquireSlot'
  | 'dispatchAttempt'
  | 'dispatchStep'
  | 'settleAttempt'
  | 'releaseSlot'
  | 'recordAttempt'
  | 'readAttempt'
  | 'publishDirective'
  | 'recordPublishFailure'
  | 'resolveTimeout'
  | 'finishJob'
  | 'cancelJob'
  | 'expireJob'
>;
export type JobActivityName = keyof Bodies;
/**
 * An activity's input: the second parameter of its function (the first is its dependencies), plus
 * the job's trace context (the activity's span continues it; the function itself ignores it).
 */
export type ActivityInput<K extends JobActivityName> = Parameters<Bodies[K]>[1] & Traced;
export type ActivityOutput<K extends JobActivityName> = Awaited<ReturnType<Bodies[K]>>;

/** The activities the orchestrator calls, as the handles `df.app.activity` returned. */
export type JobActivities = {
  readonly [K in JobActivityName]: (input: ActivityInput<K>) => RegisteredActivityTask;
};
