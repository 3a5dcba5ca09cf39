// An existing App Configuration store the app reads settings from through App Configuration
// references: its identity gets App Configuration Data Reader on the store.
param name string
param principalId string

var appConfigurationDataReaderRoleId = '516239f1-63e1-4d78-a4de-a74fb236a071'

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' existing = {
  name: name
}

resource dataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(store.id, principalId, appConfigurationDataReaderRoleId)
  scope: store
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appConfigurationDataReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = store.properties.endpoint
