/**
 * Jest global setup: starts ONE Azurite Table service for the whole run on a free loopback port and
 * hands its connection string to the test workers through LUCIUS_TEST_TABLE_CONNECTION (workers are
 * started after this and inherit the environment). If Azurite cannot start, the run fails here:
 * a missing prerequisite never turns into skipped tests.
 *
 * Pointing the suite at another account instead (a real storage account in CI): set
 * LUCIUS_TEST_TABLE_CONNECTION yourself and no Azurite is started.
 */
import { startAzurite, type AzuriteHandle } from '../../devhost/azurite';
import { TEST_TABLE_CONNECTION_VARIABLE } from './table-storage';

declare global {
  var __luciusAzurite: AzuriteHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (globalThis.__luciusAzurite !== undefined) return;
  if (process.env[TEST_TABLE_CONNECTION_VARIABLE] !== undefined) return;
  const azurite = await startAzurite();
  globalThis.__luciusAzurite = azurite;
  process.env[TEST_TABLE_CONNECTION_VARIABLE] = azurite.connectionString;
}
