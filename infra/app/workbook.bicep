// The Lucius workbook (generated/lucius-workbook.json, from scripts/generators/monitoring.ts), shown
// under the Application Insights resource: jobs by status, step and ACK latency, retries and failures
// by class, reply anomalies, sweeper repairs, quarantine and dead-letter depth.
param location string = resourceGroup().location
param tags object = {}
param applicationInsightsName string
param serviceBusNamespaceName string
param displayName string = 'Lucius'

var topology = loadJsonContent('../generated/servicebus-topology.json')

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

var workbookContent = replace(
  replace(
    replace(
      loadTextContent('../generated/lucius-workbook.json'),
      '__APPLICATION_INSIGHTS_ID__',
      applicationInsights.id
    ),
    '__SERVICE_BUS_NAMESPACE_ID__',
    serviceBus.id
  ),
  '__QUARANTINE_QUEUE__',
  topology.settings.LUCIUS_SERVICEBUS_QUARANTINE_QUEUE
)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID.
  name: guid(resourceGroup().id, applicationInsights.id, 'lucius-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: workbookContent
  }
}

output id string = workbook.id
