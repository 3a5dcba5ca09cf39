/**
 * The process's Service Bus client, from settings: a connection string, or the namespace reached
 * with a managed identity (DefaultAzureCredential, honouring a user-assigned identity's client id).
 * Create it once in the composition root and share it; every sender and receiver rides on its
 * one AMQP connection.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import type { ServiceBusConnection } from '../config/settings';

export function createServiceBusClient(
  connection: ServiceBusConnection,
  options: ServiceBusClientOptions = {},
): ServiceBusClient {
  if (connection.kind === 'connection-string')
    return new ServiceBusClient(connection.connectionString, options);
  const credential = new DefaultAzureCredential(
    connection.clientId === undefined ? {} : { managedIdentityClientId: connection.clientId },
  );
  return new ServiceBusClient(connection.fullyQualifiedNamespace, credential, options);
}
