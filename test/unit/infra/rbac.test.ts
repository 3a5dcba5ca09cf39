/**
 * The app identity's roles (infra/app/rbac.bicep, infra/app/app-configuration.bicep): exactly the data
 * roles Lucius needs, each at the scope it needs, with the built-in role definition ids Azure
 * publishes (the ids Microsoft's azd function templates and Azure Verified Modules use).
 *
 * Bicep cannot be compiled here, so the test reads the role assignment resources from the text:
 * each `resource <name> 'Microsoft.Authorization/roleAssignments@...' = [if (<condition>)] { ... }`
 * block with its `scope`, `roleDefinitionId` and `principalId`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './generated-files';

/** Azure's built-in role definition ids (the same in every tenant). */
const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Durable Task Data Contributor': '0ad04412-c4d5-4796-b79c-f76d14c8d402',
  'App Configuration Data Reader': '516239f1-63e1-4d78-a4de-a74fb236a071',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
};

/** The names rbac.bicep's `roles` object gives them. */
const ROLE_VARIABLES: Readonly<Record<string, string>> = {
  storageBlobDataOwner: 'Storage Blob Data Owner',
  storageQueueDataContributor: 'Storage Queue Data Contributor',
  storageTableDataContributor: 'Storage Table Data Contributor',
  storageTableDataReader: 'Storage Table Data Reader',
  serviceBusDataSender: 'Azure Service Bus Data Sender',
  serviceBusDataReceiver: 'Azure Service Bus Data Receiver',
  monitoringMetricsPublisher: 'Monitoring Metrics Publisher',
  durableTaskDataContributor: 'Durable Task Data Contributor',
  keyVaultSecretsUser: 'Key Vault Secrets User',
};

interface Assignment {
  readonly resource: string;
  /** The condition after `if`, or `always`. */
  readonly condition: string;
  readonly scope: string;
  /** The role's display name. */
  readonly role: string;
  readonly principal: string;
}

function readBicep(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** `name: 'guid'` pairs of the `var roles = { ... }` object. */
function roleVariables(bicep: string): Map<string, string> {
  const block = /^var roles = \{\n([\s\S]*?)^\}/m.exec(bicep);
  if (block === null) throw new Error('infra/app/rbac.bicep has no `var roles = { ... }`');
  return new Map(
    [...(block[1] ?? '').matchAll(/^\s+(\w+): '([0-9a-f-]{36})'$/gm)].map((m) => [m[1]!, m[2]!] as const),
  );
}

function roleAssignments(bicep: string, roleIds: ReadonlyMap<string, string>): Assignment[] {
  const names = new Map(Object.entries(BUILT_IN_ROLES).map(([name, id]) => [id, name]));
  const pattern =
    /^resource (\w+) 'Microsoft\.Authorization\/roleAssignments@[\d-]+' = (?:if \((.+)\) )?\{\n([\s\S]*?)^\}/gm;
  return [...bicep.matchAll(pattern)].map((match) => {
    const [, resource = '', condition, body = ''] = match;
    const field = (name: string) => new RegExp(`^\\s+${name}: (.+)$`, 'm').exec(body)?.[1]?.trim() ?? '';
    const definition = /roleDefinitions', (?:roles\.(\w+)|(\w+))\)/.exec(field('roleDefinitionId'));
    const id = definition?.[1] !== undefined ? roleIds.get(definition[1]) : undefined;
    return {
      resource,
      condition: condition ?? 'always',
      scope: field('scope'),
      role: (id === undefined ? undefined : names.get(id)) ?? `unknown (${field('roleDefinitionId')})`,
      principal: field('principalId'),
    };
  });
}

describe('infra role assignments', () => {
  const rbac = readBicep('infra/app/rbac.bicep');
  const roleIds = roleVariables(rbac);
  const assignments = roleAssignments(rbac, roleIds);

  it("uses Azure's built-in role definition ids", () => {
    expect(Object.fromEntries(roleIds)).toEqual(
      Object.fromEntries(Object.entries(ROLE_VARIABLES).map(([name, role]) => [name, BUILT_IN_ROLES[role]])),
    );
    expect(readBicep('infra/app/app-configuration.bicep')).toContain(
      `appConfigurationDataReaderRoleId = '${BUILT_IN_ROLES['App Configuration Data Reader']}'`,
    );
  });

  it('gives the app identity exactly the data roles it needs, each where it needs it', () => {
    const app = assignments
      .filter((a) => a.principal === 'managedIdentityPrincipalId')
      .map(({ role, scope, condition }) => ({ role, scope, condition }));
    expect(app).toEqual([
      // The deployment package, host leases and keys, the task hub's leases and large messages.
      { role: 'Storage Blob Data Owner', scope: 'storage', condition: 'always' },
      // The durable work-item and control queues (the Azure Storage provider only).
      { role: 'Storage Queue Data Contributor', scope: 'storage', condition: 'useAzureStorageProvider' },
      // The ledger's tables, and the task hub's history and instances.
      { role: 'Storage Table Data Contributor', scope: 'storage', condition: 'always' },
      // Directives to every lane topic, parked replies to the quarantine queue.
      { role: 'Azure Service Bus Data Sender', scope: 'serviceBus', condition: 'always' },
      // The reply triggers' subscriptions, and /api/healthz's peek of the quarantine queue.
      { role: 'Azure Service Bus Data Receiver', scope: 'serviceBus', condition: 'always' },
      // Telemetry with Entra ID (Application Insights has local auth disabled).
      { role: 'Monitoring Metrics Publisher', scope: 'applicationInsights', condition: 'always' },
      // The task hub on the Durable Task Scheduler (its backend option).
      { role: 'Durable Task Data Contributor', scope: 'scheduler', condition: 'useDurableTaskScheduler' },
      // The worker callback key's Key Vault references (read only; the vault holds nothing else).
      { role: 'Key Vault Secrets User', scope: 'keyVault', condition: 'always' },
    ]);
  });

  it('grants the Service Bus roles on the namespace, so every topic, subscription and queue is covered', () => {
    expect(rbac).toMatch(/^resource serviceBus 'Microsoft\.ServiceBus\/namespaces@[\d-]+' existing = \{$/m);
    expect(rbac).toMatch(/^resource storage 'Microsoft\.Storage\/storageAccounts@[\d-]+' existing = \{$/m);
    expect(rbac).toMatch(/^resource keyVault 'Microsoft\.KeyVault\/vaults@[\d-]+' existing = \{$/m);
  });

  it('gives the deployer no role on the Key Vault: the callback key is read by the app alone', () => {
    expect(assignments.filter((a) => a.scope === 'keyVault').map((a) => a.principal)).toEqual([
      'managedIdentityPrincipalId',
    ]);
  });

  it('names each assignment after its scope, principal and role, so a redeployment finds it again', () => {
    for (const a of assignments) {
      const body = new RegExp(`resource ${a.resource} [^\\n]*\\n\\s+name: guid\\(([^)]*)\\)`).exec(rbac)?.[1];
      expect({ resource: a.resource, name: body }).toEqual({
        resource: a.resource,
        name: expect.stringMatching(new RegExp(`^${a.scope}\\.id, ${a.principal}, roles\\.\\w+$`)),
      });
    }
  });

  it("gives the deployer read access only, and the task hub's dashboard", () => {
    const user = assignments
      .filter((a) => a.principal === 'userPrincipalId')
      .map(({ role, scope }) => ({ role, scope }));
    expect(user).toEqual([
      { role: 'Storage Table Data Reader', scope: 'storage' },
      { role: 'Azure Service Bus Data Receiver', scope: 'serviceBus' },
      { role: 'Durable Task Data Contributor', scope: 'scheduler' },
    ]);
  });
});
