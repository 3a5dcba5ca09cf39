// Role assignments: the least data roles that let the app (its user-assigned identity) run, and,
// when a deployer principal is given, read access for inspecting a deployment.
//
//   Storage Blob Data Owner          storage   deployment package, host leases and keys, task hub leases
//   Storage Queue Data Contributor   storage   durable work-item and control queues (Azure Storage provider only)
//   Storage Table Data Contributor   storage   Lucius's ledger tables, durable history and instances
//   Azure Service Bus Data Sender    namespace directives to lane topics, replies to quarantine
//   Azure Service Bus Data Receiver  namespace reply subscriptions (triggers), quarantine queue
//   Monitoring Metrics Publisher     App Insights telemetry with Entra ID (local auth is disabled)
//   Durable Task Data Contributor    scheduler the task hub (Durable Task Scheduler only)
//   Key Vault Secrets User           key vault the worker callback key (Key Vault references)
param managedIdentityPrincipalId string
@description('Object id of a user given read roles for debugging; empty for none.')
param userPrincipalId string = ''
@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'
param storageAccountName string
param serviceBusNamespaceName string
param applicationInsightsName string
@description('Durable Task Scheduler name; empty when the Azure Storage provider is used.')
param dtsName string = ''
param durableBackend string = 'AzureStorage'
@description('The Key Vault holding the worker callback key.')
param keyVaultName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}
var useAzureStorageProvider = durableBackend == 'AzureStorage'
var useDurableTaskScheduler = durableBackend == 'DurableTaskScheduler' && !empty(dtsName)
var withUser = !empty(userPrincipalId)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = if (useDurableTaskScheduler) {
  name: dtsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, managedIdentityPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useAzureStorageProvider) {
  name: guid(storage.id, managedIdentityPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, managedIdentityPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource busSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, managedIdentityPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource busReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, managedIdentityPrincipalId, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource taskHubContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useDurableTaskScheduler) {
  name: guid(scheduler.id, managedIdentityPrincipalId, roles.durableTaskDataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Read (never write) the vault's secrets: the platform resolves LUCIUS_CALLBACK_KEY (and, during a
// rotation, LUCIUS_CALLBACK_KEY_PREVIOUS) with this identity. The vault holds nothing else.
resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, managedIdentityPrincipalId, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer: read the ledger, drain the quarantine queue (`lucius quarantine`), open the
// scheduler dashboard.
resource userTableReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser) {
  name: guid(storage.id, userPrincipalId, roles.storageTableDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userBusReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser) {
  name: guid(serviceBus.id, userPrincipalId, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userTaskHubContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (withUser && useDurableTaskScheduler) {
  name: guid(scheduler.id, userPrincipalId, roles.durableTaskDataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}
