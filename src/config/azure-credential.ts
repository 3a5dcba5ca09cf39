/**
 * Turns an identity-based connection's credential settings (credential-settings.ts) into the
 * `@azure/identity` TokenCredential the Functions runtime would use for the same settings:
 * ManagedIdentityCredential for `credential=managedidentity` (user-assigned when an identifier is
 * given), WorkloadIdentityCredential, ClientSecretCredential, or DefaultAzureCredential.
 * Creating a credential does no I/O; tokens are requested on the first call that needs one.
 */
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import type { AzureCredentialSettings } from './credential-settings';

export function createAzureCredential(settings: AzureCredentialSettings): TokenCredential {
  switch (settings.kind) {
    case 'managed-identity':
      if (settings.resourceId !== undefined)
        return new ManagedIdentityCredential({ resourceId: settings.resourceId });
      if (settings.objectId !== undefined)
        return new ManagedIdentityCredential({ objectId: settings.objectId });
      if (settings.clientId !== undefined)
        return new ManagedIdentityCredential({ clientId: settings.clientId });
      return new ManagedIdentityCredential();
    case 'workload-identity':
      return new WorkloadIdentityCredential({
        tenantId: settings.tenantId,
        clientId: settings.clientId,
        tokenFilePath: settings.tokenFilePath,
      });
    case 'client-secret':
      return new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret);
    case 'default': {
      const tenant = settings.tenantId === undefined ? {} : { tenantId: settings.tenantId };
      if (settings.managedIdentityResourceId !== undefined)
        return new DefaultAzureCredential({
          ...tenant,
          managedIdentityResourceId: settings.managedIdentityResourceId,
        });
      return new DefaultAzureCredential({
        ...tenant,
        ...(settings.managedIdentityClientId === undefined
          ? {}
          : { managedIdentityClientId: settings.managedIdentityClientId }),
      });
    }
  }
}
