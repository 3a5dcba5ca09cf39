// The Key Vault holding the worker callback key (LUCIUS_CALLBACK_KEY): the HMAC key that signs the
// `callback_token` of every directive (src/guards/callback-token.ts). RBAC authorization only (no
// access policies): the app's identity reads secrets with Key Vault Secrets User (app/rbac.bicep),
// and the app setting is a Key Vault reference (app/api.bicep), so the key never appears in an app
// setting, a deployment output or a log. Soft delete and purge protection keep a deleted key
// recoverable; public network access as the rest of this deployment (storage, Service Bus).
//
// The secret is written on the FIRST deployment only (@onlyIfNotExists): later deployments, whose
// `callbackKey` default is a new random value each time, leave the stored key alone (the decorator
// needs Bicep 0.38 or later). Rotation is a Key Vault operation (docs/security.md, "Rotating the
// callback key").
param name string
param location string = resourceGroup().location
param tags object = {}

@description('The callback key written on first deployment: `<key id>:<base64 of >= 32 bytes>`.')
@secure()
param callbackKey string

@description('Workspace receiving the vault\'s audit log (every secret read). Empty: none.')
param logAnalyticsWorkspaceId string = ''

var callbackKeySecretName = 'lucius-callback-key'
var previousCallbackKeySecretName = 'lucius-callback-key-previous'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    // Purge protection cannot be turned off again: a deleted vault or secret stays recoverable for
    // the retention period, and nobody (not even an owner) can purge it sooner.
    enablePurgeProtection: true
    // The shortest retention: the key is cheap to replace (a new one only ends in-flight callback
    // tokens), while a vault name stays taken for this long after `azd down`.
    softDeleteRetentionInDays: 7
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

@onlyIfNotExists()
resource callbackKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: callbackKeySecretName
  properties: {
    value: callbackKey
    contentType: 'text/plain; lucius callback key (<key id>:<base64 secret>)'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'lucius-keyvault'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

// Names and versionless URIs only (an app setting's Key Vault reference follows the latest version);
// never a secret's value.
output name string = vault.name
output id string = vault.id
output callbackKeySecretName string = callbackKeySecretName
output callbackKeySecretUri string = '${vault.properties.vaultUri}secrets/${callbackKeySecretName}/'
output previousCallbackKeySecretName string = previousCallbackKeySecretName
output previousCallbackKeySecretUri string = '${vault.properties.vaultUri}secrets/${previousCallbackKeySecretName}/'
