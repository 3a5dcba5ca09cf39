/** The Azure Functions rules for an identity-based connection's credential properties. */
import type { SettingProblem } from '../../../src/config/errors';
import { readCredentialSettings } from '../../../src/config/credential-settings';

function read(env: Record<string, string>, prefix = 'ServiceBusConnection') {
  const problems: SettingProblem[] = [];
  const credential = readCredentialSettings(env, prefix, problems);
  return { credential, problems };
}

describe('readCredentialSettings', () => {
  it('uses the user-assigned managed identity named by __clientId when __credential is managedidentity', () => {
    expect(
      read({ ServiceBusConnection__credential: 'managedidentity', ServiceBusConnection__clientId: 'id-1' }),
    ).toEqual({ credential: { kind: 'managed-identity', clientId: 'id-1' }, problems: [] });
  });

  it('reads the credential value and property names without regard to case, as the Functions host does', () => {
    expect(
      read({ ServiceBusConnection__Credential: 'ManagedIdentity', ServiceBusConnection__CLIENTID: 'id-1' })
        .credential,
    ).toEqual({ kind: 'managed-identity', clientId: 'id-1' });
  });

  it('uses the system-assigned identity when managedidentity names no identity', () => {
    expect(read({ ServiceBusConnection__credential: 'managedidentity' }).credential).toEqual({
      kind: 'managed-identity',
    });
  });

  it('names a user-assigned identity by resource id or object id', () => {
    const resourceId =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/lucius';
    expect(
      read({
        ServiceBusConnection__credential: 'managedidentity',
        ServiceBusConnection__managedIdentityResourceId: resourceId,
      }).credential,
    ).toEqual({ kind: 'managed-identity', resourceId });
    expect(
      read({
        ServiceBusConnection__credential: 'managedidentity',
        ServiceBusConnection__managedIdentityObjectId: 'object-1',
      }).credential,
    ).toEqual({ kind: 'managed-identity', objectId: 'object-1' });
  });

  it('rejects two identifiers of the managed identity, naming both', () => {
    const { credential, problems } = read({
      ServiceBusConnection__credential: 'managedidentity',
      ServiceBusConnection__clientId: 'id-1',
      ServiceBusConnection__managedIdentityObjectId: 'object-1',
    });
    expect(credential).toBeUndefined();
    expect(problems).toEqual([
      {
        variable: 'ServiceBusConnection__credential',
        message: expect.stringMatching(
          /ServiceBusConnection__clientId and ServiceBusConnection__managedIdentityObjectId/,
        ),
      },
    ]);
  });

  it('falls back to DefaultAzureCredential, told the tenant and the identity when they are set', () => {
    expect(read({}).credential).toEqual({ kind: 'default' });
    expect(
      read({ ServiceBusConnection__clientId: 'id-1', ServiceBusConnection__tenantId: 'tenant' }).credential,
    ).toEqual({ kind: 'default', tenantId: 'tenant', managedIdentityClientId: 'id-1' });
  });

  it('uses a service principal when tenant, client id and secret are all set (local development)', () => {
    expect(
      read(
        {
          LUCIUS_TABLE_CONNECTION__tenantId: 't',
          LUCIUS_TABLE_CONNECTION__clientId: 'c',
          LUCIUS_TABLE_CONNECTION__clientSecret: 's',
        },
        'LUCIUS_TABLE_CONNECTION',
      ).credential,
    ).toEqual({ kind: 'client-secret', tenantId: 't', clientId: 'c', clientSecret: 's' });
  });

  it('reads a workload identity from the connection, completed by the AZURE_* variables', () => {
    expect(
      read({
        ServiceBusConnection__credential: 'workloadidentity',
        ServiceBusConnection__clientId: 'c',
        AZURE_TENANT_ID: 't',
        AZURE_FEDERATED_TOKEN_FILE: '/var/run/token',
      }).credential,
    ).toEqual({ kind: 'workload-identity', tenantId: 't', clientId: 'c', tokenFilePath: '/var/run/token' });
    expect(read({ ServiceBusConnection__credential: 'workloadidentity' }).problems).toEqual([
      {
        variable: 'ServiceBusConnection__credential',
        message: expect.stringMatching(
          /needs ServiceBusConnection__tenantId, .*__clientId, .*__tokenFilePath/,
        ),
      },
    ]);
  });

  it('names an unknown credential type, and the combinations the runtime rejects', () => {
    expect(read({ ServiceBusConnection__credential: 'managed-identity' }).problems).toEqual([
      {
        variable: 'ServiceBusConnection__credential',
        message: expect.stringMatching(/must be managedidentity or workloadidentity.*got "managed-identity"/),
      },
    ]);
    expect(
      read({ ServiceBusConnection__managedIdentityObjectId: 'o' }).problems.map((p) => p.variable),
    ).toEqual(['ServiceBusConnection__managedIdentityObjectId']);
    expect(
      read({
        ServiceBusConnection__clientId: 'c',
        ServiceBusConnection__managedIdentityResourceId: '/subscriptions/s',
      }).problems.map((p) => p.variable),
    ).toEqual(['ServiceBusConnection__managedIdentityResourceId']);
  });
});
