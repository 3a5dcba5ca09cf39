/**
 * A one-orchestration app for the Table store's cache tests: `collectsTwo` waits for the events
 * `first` and `second` (in either order) and returns both, so two processes can each deliver one.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import type { FunctionRegistration } from '../../../../devhost/durable/engine';
import { loadFixtureApp } from './load-durable-app';

export function registerTwoEventsApp(): void {
  df.app.orchestration('collectsTwo', function* (context: OrchestrationContext) {
    const first = context.df.waitForExternalEvent('first');
    const second = context.df.waitForExternalEvent('second');
    yield context.df.Task.all([first, second]);
    return { first: first.result as unknown, second: second.result as unknown };
  });
}

/** A fresh copy of the app's registrations, as a new process would load it. */
export function loadTwoEventsApp(): FunctionRegistration[] {
  return loadFixtureApp(() => {
    // The host loads the app with require; isolateModules needs it synchronous.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./two-events-app') as { registerTwoEventsApp: () => void }).registerTwoEventsApp();
    return true;
  }).registrations;
}
