/**
 * Loads a fixture app as a Functions host would: supplies `@azure/functions-core`, whose
 * `registerFunction(metadata, handler)` captures each registration. Every call loads a fresh copy
 * of the app (its own module state), as a new process would.
 */
import type { FunctionRegistration } from '../../../../devhost/durable/engine';

export type FixtureApp = typeof import('../../fixtures/durable-app');

/** `requireApp` requires the app (from the caller's module, so its path is the caller's). */
export function loadFixtureApp<T>(requireApp: () => T): {
  readonly app: T;
  readonly registrations: FunctionRegistration[];
} {
  const registrations: FunctionRegistration[] = [];
  let app: T | undefined;
  jest.isolateModules(() => {
    jest.doMock(
      '@azure/functions-core',
      () => ({
        setProgrammingModel: () => undefined,
        registerHook: () => ({ dispose: () => undefined }),
        registerFunction: (
          metadata: FunctionRegistration['metadata'],
          handler: FunctionRegistration['handler'],
        ) => {
          registrations.push({ metadata, handler });
          return { dispose: () => undefined };
        },
      }),
      { virtual: true },
    );
    app = requireApp();
  });
  if (app === undefined) throw new Error('the fixture app did not load');
  return { app, registrations };
}

export function loadDurableApp(): {
  readonly app: FixtureApp;
  readonly registrations: FunctionRegistration[];
} {
  // The host loads the app with require; isolateModules needs it synchronous.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loadFixtureApp(() => require('../../fixtures/durable-app') as FixtureApp);
}
