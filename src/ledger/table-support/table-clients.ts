/**
 * How the Table Storage backends reach an account: a connection string (Azurite, keys, SAS) or an
 * endpoint plus a TokenCredential (managed identity: the production default, no secrets).
 * `tableStorageConnection` builds one from settings, the credential chosen by the Azure Functions
 * rules for identity-based connections (config/credential-settings.ts).
 *
 * `clientOptions` goes to every TableClient, so a benchmark can add a pipeline policy that counts
 * HTTP round trips, and a test can turn the SDK's retries off.
 */
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { createAzureCredential } from '../../config/azure-credential';
import type { TableConnection } from '../../config/settings';
import { LedgerUnavailableError } from '../errors';

export type TableStorageConnection =
  | { readonly connectionString: string }
  | {
      /** e.g. `https://<account>.table.core.windows.net` */
      readonly endpoint: string;
      readonly credential: TokenCredential;
    };

export interface TableStorageOptions {
  readonly connection: TableStorageConnection;
  /** Pipeline options for every client: `additionalPolicies`, `retryOptions`, ... */
  readonly clientOptions?: TableServiceClientOptions;
}

/** The connection the settings describe (an identity-based one gets its TokenCredential here). */
export function tableStorageConnection(connection: TableConnection): TableStorageConnection {
  if (connection.kind === 'connection-string') return { connectionString: connection.connectionString };
  return { endpoint: connection.endpoint, credential: createAzureCredential(connection.credential) };
}

export function createTableClient(options: TableStorageOptions, tableName: string): TableClient {
  const { connection } = options;
  if ('connectionString' in connection) {
    // The SDK only allows plain http for `UseDevelopmentStorage=true`; an explicit http endpoint
    // (Azurite on a free port) is just as deliberate, so allow it too.
    const insecure = /(^|;)\s*(DefaultEndpointsProtocol\s*=\s*http|TableEndpoint\s*=\s*http:)/i.test(
      connection.connectionString,
    );
    return TableClient.fromConnectionString(connection.connectionString, tableName, {
      ...options.clientOptions,
      ...(insecure ? { allowInsecureConnection: true } : {}),
    });
  }
  return new TableClient(connection.endpoint, tableName, connection.credential, options.clientOptions);
}

/**
 * Creates the tables once per process, lazily, tolerating "already exists". A failed attempt is
 * forgotten, so the next call tries again instead of failing forever.
 */
export function tableCreator(clients: readonly TableClient[]): () => Promise<void> {
  let created: Promise<void> | undefined;
  return () => {
    created ??= Promise.all(clients.map((client) => createOne(client))).then(
      () => undefined,
      (error: unknown) => {
        created = undefined;
        throw error;
      },
    );
    return created;
  };
}

async function createOne(client: TableClient): Promise<void> {
  try {
    // The SDK already ignores 409 TableAlreadyExists.
    await client.createTable();
  } catch (error) {
    throw new LedgerUnavailableError(
      `could not create table ${client.tableName}: ${describeError(error)}`,
      error,
    );
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
    const parts = [
      statusCode === undefined ? undefined : `HTTP ${String(statusCode)}`,
      code === undefined ? undefined : String(code),
    ];
    const prefix = parts.filter((p) => p !== undefined).join(' ');
    return prefix === '' ? error.message : `${prefix}: ${error.message}`;
  }
  return String(error);
}
