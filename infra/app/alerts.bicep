// Alert rules:
//   failure rate                 log alert on lucius.jobs.finished (generated/alert-queries.json)
//   repeated orchestration       log alert on job.repaired events (ORCHESTRATION_RESTARTED/LOST)
//   restarts
//   quarantine depth             metric alert: active messages in the quarantine queue
//   dead-letter depth            metric alert: dead-lettered messages in any entity
// With an alert email, an action group mails it; without, the alerts fire in the portal only.
param location string = resourceGroup().location
param tags object = {}
param namePrefix string
param applicationInsightsName string
param serviceBusNamespaceName string
param quarantineQueueName string
param alertEmail string = ''

@description('Failure rate (0-1) of finished jobs over the window above which the alert fires.')
param failureRateThreshold string = '0.1'
@description('Restarts of one job\'s orchestration within the window at or above which the alert fires.')
param orchestrationRestartThreshold int = 2
@description('Replies waiting in the quarantine queue above which the alert fires.')
param quarantineDepthThreshold int = 0
@description('Dead-lettered messages in an entity above which the alert fires.')
param deadLetterDepthThreshold int = 0

var alertQueries = loadJsonContent('../generated/alert-queries.json')

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-lucius-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'lucius'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? [] : [actionGroup.id]

resource failureRate 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'sqr-lucius-failure-rate-${namePrefix}'
  location: location
  tags: tags
  properties: {
    displayName: 'Lucius: job failure rate'
    description: alertQueries.failureRate.description
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT30M'
    criteria: {
      allOf: [
        {
          query: alertQueries.failureRate.kql
          timeAggregation: 'Maximum'
          metricMeasureColumn: alertQueries.failureRate.measure
          operator: 'GreaterThan'
          threshold: json(failureRateThreshold)
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actions
    }
  }
}

resource orchestrationRestarts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'sqr-lucius-orchestration-restarts-${namePrefix}'
  location: location
  tags: tags
  properties: {
    displayName: 'Lucius: repeated orchestration restarts'
    description: alertQueries.orchestrationRestarts.description
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: alertQueries.orchestrationRestarts.kql
          timeAggregation: 'Maximum'
          metricMeasureColumn: alertQueries.orchestrationRestarts.measure
          operator: 'GreaterThanOrEqual'
          threshold: orchestrationRestartThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actions
    }
  }
}

resource quarantineDepth 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'ma-lucius-quarantine-depth-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    description: 'Replies waiting in ${quarantineQueueName} for an operator (lucius quarantine ...)'
    severity: 2
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'quarantine-active-messages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'ActiveMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                quarantineQueueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: quarantineDepthThreshold
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [for id in actions: { actionGroupId: id }]
  }
}

resource deadLetterDepth 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'ma-lucius-dead-letter-depth-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    description: 'Messages dead-lettered in a Lucius topic subscription or queue'
    severity: 2
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered-messages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: deadLetterDepthThreshold
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [for id in actions: { actionGroupId: id }]
  }
}
