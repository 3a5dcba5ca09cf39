/**
 * How an identity-based connection authenticates, read from the properties of its connection
 * setting exactly as the Azure Functions runtime reads them (`<CONNECTION>__credential`,
 * `<CONNECTION>__clientId`, ...; the rules of Microsoft.Extensions.Azure's credential factory, which
 * the Functions host uses for triggers and bindings):
 *
 * - `credential=managedidentity`: that managed identity; a user-assigned one when `clientId`
 *   (or `managedIdentityResourceId`, or `managedIdentityObjectId`) names it, else the system-assigned
 *   one. At most one of these may be set.
 * - `credential=workloadidentity`: a federated workload identity (`tenantId`, `clientId`,
 *   `tokenFilePath`, each falling back to AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE).
 * - no `credential`, but `tenantId` + `clientId` + `clientSecret`: a service principal (local development).
 * - otherwise DefaultAzureCredential (environment, workload identity, managed identity, developer
 *   tools), told `tenantId` and the managed identity's `clientId` or `managedIdentityResourceId` when set.
 *
 * Pure: reads only the environment it is given and returns data (no SDK object); `azure-credential.ts`
 * turns the result into a TokenCredential. Problems name the offending variable.
 */
import type { SettingProblem } from './errors';
import type { Env } from './env';

export type AzureCredentialSettings =
  | {
      readonly kind: 'managed-identity';
      /** One of these names a user-assigned identity; none means the system-assigned identity. */
      readonly clientId?: string;
      readonly resourceId?: string;
      readonly objectId?: string;
    }
  | {
      readonly kind: 'workload-identity';
      readonly tenantId: string;
      readonly clientId: string;
      readonly tokenFilePath: string;
    }
  | {
      readonly kind: 'client-secret';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: string;
    }
  | {
      readonly kind: 'default';
      readonly tenantId?: string;
      readonly managedIdentityClientId?: string;
      readonly managedIdentityResourceId?: string;
    };

/** The credential properties a connection setting may carry (`<CONNECTION>__<property>`). */
export const CREDENTIAL_PROPERTIES = [
  'credential',
  'clientId',
  'tenantId',
  'clientSecret',
  'managedIdentityResourceId',
  'managedIdentityObjectId',
  'managedIdentityClientId',
  'tokenFilePath',
  'clientCertificate',
] as const;

/**
 * `<prefix>__<property>`, trimmed; empty counts as unset (as in App Service app settings). The
 * property's case does not matter, as in the Functions runtime's configuration.
 */
export function connectionProperty(env: Env, prefix: string, property: string): string | undefined {
  const name = `${prefix}__${property}`;
  let value = env[name];
  if (value === undefined) {
    const lower = name.toLowerCase();
    const spelled = Object.keys(env).find((key) => key.toLowerCase() === lower);
    value = spelled === undefined ? undefined : env[spelled];
  }
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Whether any credential property of `prefix` is set. */
export function hasCredentialProperties(env: Env, prefix: string): boolean {
  return CREDENTIAL_PROPERTIES.some((property) => connectionProperty(env, prefix, property) !== undefined);
}

/**
 * The credential of the connection `prefix`, by the Functions rules above. Pushes a problem (and
 * returns undefined) for a combination the runtime rejects or Lucius cannot honour.
 */
export function readCredentialSettings(
  env: Env,
  prefix: string,
  problems: SettingProblem[],
): AzureCredentialSettings | undefined {
  const get = (property: string) => connectionProperty(env, prefix, property);
  const name = (property: string) => `${prefix}__${property}`;
  const credential = get('credential')?.toLowerCase();
  const clientId = get('clientId');
  const tenantId = get('tenantId');
  const clientSecret = get('clientSecret');
  const resourceId = get('managedIdentityResourceId');
  const objectId = get('managedIdentityObjectId');
  const managedIdentityClientId = get('managedIdentityClientId');

  if (credential === 'managedidentity') {
    const identifiers = [
      'clientId',
      'managedIdentityClientId',
      'managedIdentityResourceId',
      'managedIdentityObjectId',
    ]
      .filter((property) => get(property) !== undefined)
      .map(name);
    if (identifiers.length > 1) {
      problems.push({
        variable: name('credential'),
        message: `managedidentity takes one identifier of the user-assigned identity, not ${identifiers.join(' and ')}`,
      });
      return undefined;
    }
    const userAssigned = managedIdentityClientId ?? clientId;
    return {
      kind: 'managed-identity',
      ...(userAssigned === undefined ? {} : { clientId: userAssigned }),
      ...(resourceId === undefined ? {} : { resourceId }),
      ...(objectId === undefined ? {} : { objectId }),
    };
  }

  if (credential === 'workloadidentity') {
    const workload = {
      tenantId: tenantId ?? nonEmpty(env.AZURE_TENANT_ID),
      clientId: clientId ?? nonEmpty(env.AZURE_CLIENT_ID),
      tokenFilePath: get('tokenFilePath') ?? nonEmpty(env.AZURE_FEDERATED_TOKEN_FILE),
    };
    const missing = Object.entries(workload)
      .filter(([, value]) => value === undefined)
      .map(([property]) => name(property));
    if (missing.length > 0) {
      problems.push({
        variable: name('credential'),
        message: `workloadidentity needs ${missing.join(', ')} (or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)`,
      });
      return undefined;
    }
    return {
      kind: 'workload-identity',
      tenantId: workload.tenantId as string,
      clientId: workload.clientId as string,
      tokenFilePath: workload.tokenFilePath as string,
    };
  }

  if (credential !== undefined) {
    problems.push({
      variable: name('credential'),
      message: `must be managedidentity or workloadidentity, or be left unset for DefaultAzureCredential (got "${get('credential')}")`,
    });
    return undefined;
  }

  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined)
    return { kind: 'client-secret', tenantId, clientId, clientSecret };

  if (get('clientCertificate') !== undefined) {
    problems.push({
      variable: name('clientCertificate'),
      message:
        'a certificate from a certificate store is not supported here; use a managed identity, a workload identity or a client secret',
    });
    return undefined;
  }
  if (objectId !== undefined) {
    problems.push({
      variable: name('managedIdentityObjectId'),
      message: `is only supported with ${name('credential')}=managedidentity`,
    });
    return undefined;
  }
  const defaultClientId = managedIdentityClientId ?? clientId;
  if (defaultClientId !== undefined && resourceId !== undefined) {
    problems.push({
      variable: name('managedIdentityResourceId'),
      message: `cannot be combined with ${name(managedIdentityClientId === undefined ? 'clientId' : 'managedIdentityClientId')}: name the managed identity one way`,
    });
    return undefined;
  }
  return {
    kind: 'default',
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(defaultClientId === undefined ? {} : { managedIdentityClientId: defaultClientId }),
    ...(resourceId === undefined ? {} : { managedIdentityResourceId: resourceId }),
  };
}

/** The client id of the user-assigned managed identity the credential uses, if it names one that way. */
export function credentialClientId(credential: AzureCredentialSettings): string | undefined {
  switch (credential.kind) {
    case 'managed-identity':
      return credential.clientId;
    case 'default':
      return credential.managedIdentityClientId;
    case 'workload-identity':
    case 'client-secret':
      return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
