/**
 * Table Storage for tests: the connection string of the run's Azurite (see global-setup.ts).
 * Throws, never skips, when it is missing.
 */
export const TEST_TABLE_CONNECTION_VARIABLE = 'LUCIUS_TEST_TABLE_CONNECTION';

export function testTableConnectionString(): string {
  const value = process.env[TEST_TABLE_CONNECTION_VARIABLE];
  if (value === undefined || value === '') {
    throw new Error(
      `${TEST_TABLE_CONNECTION_VARIABLE} is not set: run the tests through jest so test/support/global-setup.ts starts Azurite`,
    );
  }
  return value;
}
