/**
 * The process's Service Bus client, from settings: a connection string (local use: the emulator),
 * or the namespace reached with an identity, the credential chosen by the Azure Functions rules for
 * identity-based connections (`ServiceBusConnection__credential=managedidentity` with `__clientId`:
 * that user-assigned managed identity; see config/credential-settings.ts). Create it once in the
 * composition root and share it; every sender and receiver rides on its one AMQP connection.
 */
import { ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import { createAzureCredential } from '../config/azure-credential';
import type { ServiceBusConnection } from '../config/settings';

export function createServiceBusClient(
  connection: ServiceBusConnection,
  options: ServiceBusClientOptions = {},
): ServiceBusClient {
  if (connection.kind === 'connection-string')
    return new ServiceBusClient(connection.connectionString, options);
  return new ServiceBusClient(
    connection.fullyQualifiedNamespace,
    createAzureCredential(connection.credential),
    options,
  );
}
