// Lucius on Azure, for `azd up`: a Flex Consumption (FC1) function app on Node 22 that reaches
// Table Storage, Service Bus, the durable task hub and Application Insights with one user-assigned
// managed identity and no keys. Laid out like Microsoft's azd Functions quickstarts (resource group,
// abbreviations, resource token, app/*.bicep modules), in plain bicep.
//
// What comes from the repository rather than from here (regenerate with `npm run generate`):
//   generated/servicebus-topology.json  the Service Bus entities (src/messaging/topology.ts)
//   generated/app-settings.json         the settings the app requires, their defaults, and the
//                                       App Configuration key of each
//   entra/app-roles.json                Lucius's app roles, for the optional app registration
//
// Security (docs/security.md): the app accepts Entra ID bearer tokens (LUCIUS_AUTH_MODE=entra) for
// this directory and the app registration named by `authAudience` (or created here with
// `createEntraApp`), and signs worker callback tokens with a key kept in Key Vault.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names every resource through a short unique token.')
param environmentName string

@minLength(1)
@description('Region of every resource (Flex Consumption must be available there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deployer (a user), given data roles to inspect the ledger, the queues and the scheduler dashboard. Empty: none.')
param principalId string = ''

@description('Kind of principalId: User for a person running azd, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Durable backend of the orchestrations: the Azure Storage provider in the app\'s storage account, or the Durable Task Scheduler (the scale-out option).')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('Ledger layout in Table Storage: separate tables (table) or one table (ledger).')
@allowed([
  'table'
  'ledger'
])
param storageBackend string = 'table'

@description('Service Bus tier: Standard or Premium (topics need at least Standard).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Task hub name (LUCIUS_TASK_HUB): a letter, then letters or digits, 3-45 characters.')
param taskHubName string = 'Lucius'

@description('Durable Task Scheduler SKU, when durableBackend is DurableTaskScheduler.')
@allowed([
  'Consumption'
  'Dedicated'
])
param dtsSkuName string = 'Consumption'

@description('An existing App Configuration store whose keys become App Configuration references in the app settings. Empty: none.')
param appConfigurationName string = ''

@description('Resource group of that App Configuration store. Empty: the one created here.')
param appConfigurationResourceGroupName string = ''

@description('Label of the App Configuration keys. Empty: keys with no label.')
param appConfigurationLabel string = ''

@description('The App Configuration keys to reference (each must exist in the store). Empty: every key of the mapping in generated/app-settings.json.')
param appConfigurationKeys array = []

@description('Email address told when an alert fires. Empty: the alerts fire without an action group.')
param alertEmail string = ''

@description('Audience of the tokens the API accepts (LUCIUS_AUTH_MODE=entra): the client id and/or Application ID URI of an existing app registration, comma-separated. Ignored when createEntraApp is true.')
param authAudience string = ''

@description('Create the app registration with Lucius\'s app roles and its service principal (infra/app/entra-app.bicep, Microsoft Graph Bicep extension). Needs Graph rights to create applications; false: register it by hand (docs/security.md) and give authAudience.')
param createEntraApp bool = false

@description('Unique name of the app registration createEntraApp makes. Empty: lucius-api-<token>.')
param entraAppUniqueName string = ''

@description('Worker callback key (LUCIUS_CALLBACK_KEY), `<key id>:<base64 of >= 32 bytes>`, written to Key Vault on the first deployment only; the default is new random bytes (three random GUIDs) each time, so later deployments leave the stored key alone. Rotate it in Key Vault (docs/security.md).')
@secure()
param callbackKey string = 'cb1:${base64('${newGuid()}${newGuid()}${newGuid()}')}'

@description('Also accept callback tokens signed with the key in secret lucius-callback-key-previous (LUCIUS_CALLBACK_KEY_PREVIOUS), during a key rotation. The secret must exist.')
param callbackKeyRotation bool = false

@description('Maximum instances of the function app (Flex Consumption scale-out limit).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// Optional names; empty means abbreviation + token.
param resourceGroupName string = ''
param apiServiceName string = ''
param apiUserAssignedIdentityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param serviceBusNamespaceName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param dtsName string = ''
param keyVaultName string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = !empty(apiServiceName) ? apiServiceName : '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var useDurableTaskScheduler = durableBackend == 'DurableTaskScheduler'
var useAppConfiguration = !empty(appConfigurationName)
var entraAppName = !empty(entraAppUniqueName) ? entraAppUniqueName : 'lucius-api-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity the app uses for everything it reaches; its roles are in app/rbac.bicep.
module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: !empty(serviceBusNamespaceName) ? serviceBusNamespaceName : '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
    skuName: serviceBusSku
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module dts 'app/dts.bicep' = if (useDurableTaskScheduler) {
  name: 'dts'
  scope: rg
  params: {
    name: !empty(dtsName) ? dtsName : '${abbrs.durableTaskSchedulers}${resourceToken}'
    taskHubName: taskHubName
    location: location
    tags: tags
    skuName: dtsSkuName
  }
}

resource appConfigurationGroup 'Microsoft.Resources/resourceGroups@2024-03-01' existing = if (useAppConfiguration) {
  name: !empty(appConfigurationResourceGroupName) ? appConfigurationResourceGroupName : rg.name
}

module appConfiguration 'app/app-configuration.bicep' = if (useAppConfiguration) {
  name: 'appConfiguration'
  scope: appConfigurationGroup
  params: {
    name: appConfigurationName
    principalId: identity.outputs.principalId
  }
}

// The worker callback key, read by the app through a Key Vault reference with its identity.
module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    callbackKey: callbackKey
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// The app registration and its roles; only when asked (it needs Graph rights).
module entraApp 'app/entra-app.bicep' = if (createEntraApp) {
  name: 'entraApp'
  scope: rg
  params: {
    uniqueName: entraAppName
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusNamespaceName: serviceBus.outputs.name
    storageBackend: storageBackend
    taskHubName: taskHubName
    durableTaskSchedulerEndpoint: useDurableTaskScheduler ? dts.outputs.endpoint : ''
    appConfigurationEndpoint: useAppConfiguration ? appConfiguration.outputs.endpoint : ''
    appConfigurationLabel: appConfigurationLabel
    appConfigurationKeys: appConfigurationKeys
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authTenantId: tenant().tenantId
    authAudience: createEntraApp ? entraApp.outputs.audience : authAudience
    callbackKeySecretUri: keyVault.outputs.callbackKeySecretUri
    previousCallbackKeySecretUri: callbackKeyRotation ? keyVault.outputs.previousCallbackKeySecretUri : ''
  }
  // References to App Configuration and Key Vault resolve only once the identity may read them.
  dependsOn: [
    rbac
  ]
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    managedIdentityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    dtsName: useDurableTaskScheduler ? dts.outputs.name : ''
    durableBackend: durableBackend
    keyVaultName: keyVault.outputs.name
  }
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusNamespaceName: serviceBus.outputs.name
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: resourceToken
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusNamespaceName: serviceBus.outputs.name
    quarantineQueueName: serviceBus.outputs.quarantineQueueName
    alertEmail: alertEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_FUNCTION_URL string = api.outputs.url
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output LUCIUS_TASK_HUB string = taskHubName
output LUCIUS_DURABLE_BACKEND string = durableBackend
// Names only: the callback key stays in the vault.
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output LUCIUS_AUTH_AUDIENCE string = createEntraApp ? entraApp.outputs.audience : authAudience
output LUCIUS_ENTRA_APP_ID string = createEntraApp ? entraApp.outputs.appId : ''
