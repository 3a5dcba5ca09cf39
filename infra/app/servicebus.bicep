// The Service Bus namespace and Lucius's whole topology, from generated/servicebus-topology.json
// (generated from src/messaging/topology.ts; see scripts/generators/servicebus-topology.ts):
// lane topics with one subscription per platform filtered on `step_type`, reply topics with
// Lucius's subscription, and the quarantine queue. Entity properties (duplicate detection, lock
// duration, max delivery count, dead-lettering, time to live) are passed through as generated.
// Local (SAS) authentication is off: senders and receivers use Entra ID.
param name string
param location string = resourceGroup().location
param tags object = {}
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'
@description('Workspace receiving the namespace\'s metrics and operational logs. Empty: none.')
param logAnalyticsWorkspaceId string = ''

var topology = loadJsonContent('../generated/servicebus-topology.json')

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topics 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = [
  for topic in topology.topics: {
    parent: namespace
    name: topic.name
    properties: topic.properties
  }
]

resource subscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for subscription in topology.subscriptions: {
    parent: topics[subscription.topicIndex]
    name: subscription.name
    properties: subscription.properties
  }
]

// Each platform subscription's filter is its `$Default` rule, replacing the accept-all rule Azure
// creates with the subscription.
resource rules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for rule in topology.rules: {
    parent: subscriptions[rule.subscriptionIndex]
    name: rule.name
    properties: rule.properties
  }
]

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in topology.queues: {
    parent: namespace
    name: queue.name
    properties: queue.properties
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'lucius-servicebus'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = namespace.name
output id string = namespace.id
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output quarantineQueueName string = topology.settings.LUCIUS_SERVICEBUS_QUARANTINE_QUEUE
