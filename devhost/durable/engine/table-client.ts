/**
 * How the durable store reaches a Table Storage account: a connection string (Azurite, account
 * keys, SAS) or an endpoint plus a TokenCredential (identity-based). `clientOptions` goes to every
 * TableClient, so a benchmark can count round trips and a test can turn the SDK's retries off.
 */
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';

export type TableStorageConnection =
  | { readonly connectionString: string }
  | {
      /** e.g. `https://<account>.table.core.windows.net` */
      readonly endpoint: string;
      readonly credential: TokenCredential;
    };

export function createTableClient(
  connection: TableStorageConnection,
  tableName: string,
  clientOptions?: TableServiceClientOptions,
): TableClient {
  if ('connectionString' in connection) {
    // The SDK allows plain http only for `UseDevelopmentStorage=true`; an explicit http endpoint
    // (Azurite on a free port) is just as deliberate, so it is allowed too.
    const insecure = /(^|;)\s*(DefaultEndpointsProtocol\s*=\s*http|TableEndpoint\s*=\s*http:)/i.test(
      connection.connectionString,
    );
    return TableClient.fromConnectionString(connection.connectionString, tableName, {
      ...clientOptions,
      ...(insecure ? { allowInsecureConnection: true } : {}),
    });
  }
  return new TableClient(connection.endpoint, tableName, connection.credential, clientOptions);
}
