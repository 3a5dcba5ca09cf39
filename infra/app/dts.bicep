// The Durable Task Scheduler and its task hub, used when main.bicep's durableBackend is
// DurableTaskScheduler. The app reaches it with its managed identity (role in app/rbac.bicep).
param name string
param taskHubName string
param location string = resourceGroup().location
param tags object = {}
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'
@description('Addresses allowed to reach the scheduler; an empty list denies everyone.')
param ipAllowlist array = [
  '0.0.0.0/0'
]

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ipAllowlist
    sku: {
      name: skuName
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
