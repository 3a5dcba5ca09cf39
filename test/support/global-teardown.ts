/** Jest global teardown: stops the Azurite that global-setup.ts started (if it started one). */
import './global-setup';
import { TEST_TABLE_CONNECTION_VARIABLE } from './table-storage';

export default async function globalTeardown(): Promise<void> {
  const azurite = globalThis.__luciusAzurite;
  if (azurite === undefined) return;
  globalThis.__luciusAzurite = undefined;
  // The variable pointed at this Azurite; a later setup (watch mode) must start a new one.
  delete process.env[TEST_TABLE_CONNECTION_VARIABLE];
  await azurite.stop();
}
