/**
 * Helpers for the Table-backend-specific checks: raw access to what the ledgers wrote, bypassing
 * them, and a connection that certainly fails.
 */
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { findFreePort } from '../../../devhost/azurite';
import { testTableConnectionString } from '../../support/table-storage';

export function rawTable(tableName: string): TableClient {
  return TableClient.fromConnectionString(testTableConnectionString(), tableName, {
    allowInsecureConnection: true,
  });
}

export async function rawEntities(
  tableName: string,
): Promise<Array<TableEntityResult<Record<string, unknown>>>> {
  const rows: Array<TableEntityResult<Record<string, unknown>>> = [];
  for await (const row of rawTable(tableName).listEntities<Record<string, unknown>>()) rows.push(row);
  return rows;
}

/** Rewrites one row without the named properties, as a row written before they existed. */
export async function withoutProperties(
  tableName: string,
  keys: { readonly partitionKey: string; readonly rowKey: string },
  names: readonly string[],
): Promise<void> {
  const table = rawTable(tableName);
  const row = await table.getEntity<Record<string, unknown>>(keys.partitionKey, keys.rowKey);
  const { etag: _etag, timestamp: _timestamp, ...props } = row;
  for (const name of names) delete props[name];
  await table.updateEntity({ ...props, partitionKey: keys.partitionKey, rowKey: keys.rowKey }, 'Replace');
}

/** A connection string to a loopback port nobody listens on. */
export async function unreachableConnectionString(): Promise<string> {
  const port = await findFreePort();
  return testTableConnectionString().replace(
    /TableEndpoint=http:\/\/[^/;]+/i,
    `TableEndpoint=http://127.0.0.1:${port}`,
  );
}
