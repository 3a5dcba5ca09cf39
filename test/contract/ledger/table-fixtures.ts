/**
 * Helpers for the Table-backend-specific checks: raw access to what the ledgers wrote, bypassing
 * them, a connection that certainly fails, one whose process "dies" half-way, and a count of the
 * round trips a client makes.
 */
import { TableClient, type TableEntityResult, type TableServiceClientOptions } from '@azure/data-tables';
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

/**
 * Client options of a process that dies at the first entity-group transaction writing a job or step
 * row: in an admission, that is the job and its steps (one partition) or the steps before the job
 * row (separate tables), so everything written before the commit point (with the single table, the
 * transaction in the tenant's partition too) stays and nothing after it is written: that request and
 * every later one fail without reaching storage.
 */
export function diesAtFirstTransaction(): TableServiceClientOptions {
  let dead = false;
  return {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [
      {
        position: 'perCall',
        policy: {
          name: 'processDiesAtFirstJobTransaction',
          sendRequest: async (request, next) => {
            const body = typeof request.body === 'string' ? request.body : '';
            if (
              dead ||
              (new URL(request.url).pathname.endsWith('$batch') && /"RowKey":"(JOB|STEP\|)/.test(body))
            ) {
              dead = true;
              throw new Error('the process died');
            }
            return next(request);
          },
        },
      },
    ],
  };
}

/**
 * Counts the round trips of the clients given `options` (a pipeline policy, retries included):
 * `reads` (point reads and queries), `transactions` (entity-group batches), `writes` (the rest).
 */
export class RoundTrips {
  reads = 0;
  writes = 0;
  transactions = 0;
  readonly options: TableServiceClientOptions = {
    additionalPolicies: [
      {
        position: 'perRetry',
        policy: {
          name: 'countRoundTrips',
          sendRequest: async (request, next) => {
            if (request.method === 'GET') this.reads += 1;
            else if (new URL(request.url).pathname.endsWith('$batch')) this.transactions += 1;
            else this.writes += 1;
            return next(request);
          },
        },
      },
    ],
  };

  get count(): number {
    return this.reads + this.writes + this.transactions;
  }

  reset(): void {
    this.reads = 0;
    this.writes = 0;
    this.transactions = 0;
  }
}
