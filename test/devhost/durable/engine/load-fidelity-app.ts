/** Loads test/devhost/fixtures/durable-fidelity-app as a Functions host would (see load-durable-app.ts). */
import type { FunctionRegistration } from '../../../../devhost/durable/engine';
import { loadFixtureApp } from './load-durable-app';

export type FidelityApp = typeof import('../../fixtures/durable-fidelity-app');

/** `disabled` names functions left out, as `AzureWebJobs.<name>.Disabled` leaves them out of the host. */
export function loadFidelityApp(disabled: readonly string[] = []): {
  readonly app: FidelityApp;
  readonly registrations: FunctionRegistration[];
} {
  const loaded = loadFixtureApp(
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    () => require('../../fixtures/durable-fidelity-app') as FidelityApp,
  );
  return {
    app: loaded.app,
    registrations: loaded.registrations.filter((r) => !disabled.includes(r.metadata.name)),
  };
}
