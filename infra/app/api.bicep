// The function app on a Flex Consumption (FC1) plan, Node 22, running as the user-assigned identity,
// and its app settings. Every setting the app requires in production (generated/app-settings.json,
// generated from src/config) is set here from the resources main.bicep creates; a test
// (test/unit/infra/app-settings.test.ts) reads the delimited block below and fails if one is missing.
// The worker callback key is a Key Vault reference, resolved with the same identity.
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}
param serviceName string = 'api'
param identityId string
param identityClientId string
param storageAccountName string
param deploymentStorageContainerName string
param applicationInsightsName string
param serviceBusNamespaceName string
param storageBackend string = 'table'
param taskHubName string
@description('Durable Task Scheduler endpoint; empty when the Azure Storage provider is the durable backend.')
param durableTaskSchedulerEndpoint string = ''
@description('App Configuration endpoint; empty when settings do not come from App Configuration.')
param appConfigurationEndpoint string = ''
param appConfigurationLabel string = ''
@description('App Configuration keys to reference (e.g. Lucius:Steps:MaxAttempts). Empty: every key of generated/app-settings.json.')
param appConfigurationKeys array = []
param maximumInstanceCount int = 100
param instanceMemoryMB int = 2048
@description('Directory (tenant) id whose Entra ID tokens the API accepts.')
param authTenantId string
@description('LUCIUS_AUTH_AUDIENCE: the app registration\'s client id and/or Application ID URI, comma-separated.')
param authAudience string
@description('Versionless URI of the Key Vault secret holding the worker callback key.')
param callbackKeySecretUri string
@description('Versionless URI of the previous callback key\'s secret, during a rotation; empty otherwise.')
param previousCallbackKeySecretUri string = ''

var topology = loadJsonContent('../generated/servicebus-topology.json')
var appSettingsFile = loadJsonContent('../generated/app-settings.json')
var useDurableTaskScheduler = !empty(durableTaskSchedulerEndpoint)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // App Configuration (and Key Vault) references resolve with this identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Settings Flex Consumption manages itself and rejects as app settings.
var platformSettings = [
  'FUNCTIONS_WORKER_RUNTIME'
  'FUNCTIONS_EXTENSION_VERSION'
  'WEBSITE_NODE_DEFAULT_VERSION'
  'WEBSITE_RUN_FROM_PACKAGE'
  'AzureWebJobsStorage'
]

// Defaults of optional settings, written out so operators see and change them in the portal.
var defaultAppSettings = toObject(filter(items(appSettingsFile.defaults), entry => !contains(platformSettings, entry.key)), entry => entry.key, entry => string(entry.value))

// Settings read from App Configuration: `@Microsoft.AppConfiguration(...)` references, one per key
// of the previous system's key mapping (or of `appConfigurationKeys` when given), resolved by the
// platform with the identity above. Every referenced key must exist in the store: an unresolved
// reference leaves its text as the value, and start-up fails naming the setting. Connections are
// left out: this deployment owns them and reaches them with its identity, never a stored secret.
var appConfigurationLabelPart = empty(appConfigurationLabel) ? '' : '; Label=${appConfigurationLabel}'
var wantedAppConfigurationKeys = filter(items(appSettingsFile.appConfigurationKeys), entry => empty(appConfigurationKeys) || contains(appConfigurationKeys, entry.key))
var referencedAppConfigurationKeys = filter(wantedAppConfigurationKeys, entry => !startsWith(entry.value, 'AzureWebJobsStorage') && !startsWith(entry.value, 'ServiceBusConnection') && !startsWith(entry.value, 'LUCIUS_TABLE_CONNECTION'))
var appConfigurationReferences = toObject(referencedAppConfigurationKeys, entry => entry.value, entry => '@Microsoft.AppConfiguration(Endpoint=${appConfigurationEndpoint}; Key=${entry.key}${appConfigurationLabelPart})')
var appConfigurationAppSettings = empty(appConfigurationEndpoint) ? {} : appConfigurationReferences

// <lucius-app-settings>
// Settings set from the resources of this deployment. Identity-based connections only: no key,
// connection string or SAS appears. Keep every setting in this one object (one `NAME: value` per
// line); test/unit/infra/app-settings.test.ts parses it.
var luciusAppSettings = {
  // Functions host storage, and the durable task hub with the Azure Storage provider.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // The ledger: Table Storage in the same account, through AzureWebJobsStorage__tableServiceUri.
  LUCIUS_STORAGE_BACKEND: storageBackend
  // Service Bus: directives, replies (triggers), quarantine.
  ServiceBusConnection__fullyQualifiedNamespace: '${serviceBus.name}.servicebus.windows.net'
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
  LUCIUS_LANE_COUNT: topology.settings.LUCIUS_LANE_COUNT
  LUCIUS_SERVICEBUS_TOPIC_PREFIX: topology.settings.LUCIUS_SERVICEBUS_TOPIC_PREFIX
  LUCIUS_SERVICEBUS_REPLY_PREFIX: topology.settings.LUCIUS_SERVICEBUS_REPLY_PREFIX
  LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: topology.settings.LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION
  LUCIUS_SERVICEBUS_QUARANTINE_QUEUE: topology.settings.LUCIUS_SERVICEBUS_QUARANTINE_QUEUE
  // Durable task hub; the backend is chosen by overriding host.json's storageProvider.
  LUCIUS_TASK_HUB: taskHubName
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: useDurableTaskScheduler ? 'azureManaged' : 'AzureStorage'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: useDurableTaskScheduler ? 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' : 'AzureWebJobsStorage'
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: useDurableTaskScheduler ? 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}' : ''
  // Application Insights, with Entra ID authentication (local auth is disabled on the resource).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // The identity @azure/identity picks when no connection names one.
  AZURE_CLIENT_ID: identityClientId
  // Callers: Entra ID bearer tokens of this directory for the app registration (docs/security.md).
  LUCIUS_AUTH_MODE: 'entra'
  LUCIUS_AUTH_TENANT_ID: authTenantId
  LUCIUS_AUTH_AUDIENCE: authAudience
  // Worker callback tokens' key: a Key Vault reference, resolved by the platform with the identity
  // above (keyVaultReferenceIdentity); the value never appears in the app's configuration.
  LUCIUS_CALLBACK_KEY: '@Microsoft.KeyVault(SecretUri=${callbackKeySecretUri})'
  LUCIUS_CALLBACK_KEY_PREVIOUS: empty(previousCallbackKeySecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${previousCallbackKeySecretUri})'
}
// </lucius-app-settings>

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  // Later objects win: resources of this deployment over App Configuration over defaults.
  properties: union(defaultAppSettings, appConfigurationAppSettings, luciusAppSettings)
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
