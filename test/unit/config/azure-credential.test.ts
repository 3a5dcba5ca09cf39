/**
 * Identity-based connections build the clients the Functions runtime would: the credential type the
 * settings call for, asking the managed identity endpoint for the right identity, and clients aimed
 * at the configured endpoints. No Azure: the App Service managed identity endpoint is a loopback
 * server (IDENTITY_ENDPOINT / IDENTITY_HEADER, as App Service and Functions provide them).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { createAzureCredential } from '../../../src/config/azure-credential';
import { parseSettings, type ServiceBusConnection, type TableConnection } from '../../../src/config/settings';
import { createTableClient, tableStorageConnection } from '../../../src/ledger/table-support/table-clients';
import { createServiceBusClient } from '../../../src/messaging/service-bus-client';

interface TokenRequest {
  readonly url: URL;
  readonly header: string | undefined;
}

let server: Server;
const requests: TokenRequest[] = [];
const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({
      url: new URL(request.url ?? '/', 'http://127.0.0.1'),
      header: request.headers['x-identity-header'] as string | undefined,
    });
    response.setHeader('content-type', 'application/json');
    response.end(
      JSON.stringify({
        access_token: `token-${requests.length}`,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: 'https://storage.azure.com',
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  process.env.IDENTITY_HEADER = 'identity-header-secret';
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const [name, value] of [
    ['IDENTITY_ENDPOINT', saved.endpoint],
    ['IDENTITY_HEADER', saved.header],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const PRODUCTION = {
  AzureWebJobsStorage__blobServiceUri: 'https://luciusprod.blob.core.windows.net',
  AzureWebJobsStorage__queueServiceUri: 'https://luciusprod.queue.core.windows.net',
  AzureWebJobsStorage__tableServiceUri: 'https://luciusprod.table.core.windows.net',
  AzureWebJobsStorage__credential: 'managedidentity',
  AzureWebJobsStorage__clientId: '11111111-1111-1111-1111-111111111111',
  ServiceBusConnection__fullyQualifiedNamespace: 'lucius-prod.servicebus.windows.net',
  ServiceBusConnection__credential: 'managedidentity',
  ServiceBusConnection__clientId: '11111111-1111-1111-1111-111111111111',
};

function identityOf<T extends TableConnection | ServiceBusConnection>(connection: T | undefined) {
  if (connection?.kind !== 'identity') throw new Error(`expected an identity-based connection`);
  return connection as Extract<T, { kind: 'identity' }>;
}

describe('createAzureCredential', () => {
  it('asks the managed identity endpoint for the user-assigned identity the settings name', async () => {
    const credential = createAzureCredential({ kind: 'managed-identity', clientId: 'client-42' });
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    const token = await credential.getToken('https://storage.azure.com/.default');
    expect(token?.token).toMatch(/^token-/);
    const last = requests.at(-1)!;
    expect(last.url.searchParams.get('client_id')).toBe('client-42');
    expect(last.url.searchParams.get('resource')).toBe('https://storage.azure.com');
    expect(last.header).toBe('identity-header-secret');
  });

  it('asks for the system-assigned identity when none is named', async () => {
    const credential = createAzureCredential({ kind: 'managed-identity' });
    await credential.getToken('https://servicebus.azure.net/.default');
    const last = requests.at(-1)!;
    expect(last.url.searchParams.has('client_id')).toBe(false);
    expect(last.url.searchParams.get('resource')).toBe('https://servicebus.azure.net');
  });

  it('builds the other credential types the rules allow', () => {
    expect(createAzureCredential({ kind: 'default' })).toBeInstanceOf(DefaultAzureCredential);
    expect(createAzureCredential({ kind: 'default', managedIdentityClientId: 'c' })).toBeInstanceOf(
      DefaultAzureCredential,
    );
    expect(
      createAzureCredential({ kind: 'client-secret', tenantId: 't', clientId: 'c', clientSecret: 's' }),
    ).toBeInstanceOf(ClientSecretCredential);
    expect(
      createAzureCredential({ kind: 'workload-identity', tenantId: 't', clientId: 'c', tokenFilePath: '/t' }),
    ).toBeInstanceOf(WorkloadIdentityCredential);
  });
});

describe('identity-based connections from production settings', () => {
  const settings = parseSettings(PRODUCTION);

  it('reaches the ledger tables at the host storage table endpoint with the user-assigned identity', async () => {
    const connection = identityOf(settings.storage.connection);
    expect(connection).toMatchObject({
      endpoint: 'https://luciusprod.table.core.windows.net',
      source: 'AzureWebJobsStorage__tableServiceUri',
      credential: { kind: 'managed-identity', clientId: PRODUCTION.AzureWebJobsStorage__clientId },
    });
    const storage = tableStorageConnection(connection);
    if (!('credential' in storage)) throw new Error('expected a token credential');
    expect(storage.credential).toBeInstanceOf(ManagedIdentityCredential);
    await storage.credential.getToken('https://storage.azure.com/.default');
    expect(requests.at(-1)!.url.searchParams.get('client_id')).toBe(PRODUCTION.AzureWebJobsStorage__clientId);

    const client = createTableClient({ connection: storage }, 'LuciusJobs');
    expect({ url: client.url, table: client.tableName }).toEqual({
      url: 'https://luciusprod.table.core.windows.net',
      table: 'LuciusJobs',
    });
    expect(client.pipeline.getOrderedPolicies().map((policy) => policy.name)).toContain(
      'bearerTokenAuthenticationPolicy',
    );
  });

  it('reaches Service Bus at the namespace with the user-assigned identity, and names the trigger setting', async () => {
    const connection = identityOf(settings.serviceBus.connection);
    expect(connection.credential).toEqual({
      kind: 'managed-identity',
      clientId: PRODUCTION.ServiceBusConnection__clientId,
    });
    expect(settings.serviceBus.connectionSetting).toBe('ServiceBusConnection');
    const client = createServiceBusClient(connection);
    try {
      expect(client.fullyQualifiedNamespace).toBe('lucius-prod.servicebus.windows.net');
    } finally {
      await client.close();
    }
  });

  it('gives an https LUCIUS_TABLE_CONNECTION the host storage identity unless it names its own', () => {
    const shared = parseSettings({
      ...PRODUCTION,
      LUCIUS_TABLE_CONNECTION: 'https://ledger.table.core.windows.net',
    }).storage.connection;
    expect(shared).toMatchObject({
      endpoint: 'https://ledger.table.core.windows.net',
      credential: { kind: 'managed-identity', clientId: PRODUCTION.AzureWebJobsStorage__clientId },
    });
    const own = parseSettings({
      ...PRODUCTION,
      LUCIUS_TABLE_CONNECTION__accountName: 'ledger',
      LUCIUS_TABLE_CONNECTION__credential: 'managedidentity',
      LUCIUS_TABLE_CONNECTION__clientId: 'ledger-identity',
    }).storage.connection;
    expect(own).toEqual({
      kind: 'identity',
      endpoint: 'https://ledger.table.core.windows.net',
      credential: { kind: 'managed-identity', clientId: 'ledger-identity' },
      clientId: 'ledger-identity',
      source: 'LUCIUS_TABLE_CONNECTION__accountName',
    });
  });

  it('keeps connection strings for local use', () => {
    const local = parseSettings({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ServiceBusConnection:
        'Endpoint=sb://127.0.0.1;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    });
    expect(local.storage.connection?.kind).toBe('connection-string');
    expect(local.serviceBus.connection?.kind).toBe('connection-string');
  });
});
