/**
 * Portal monitoring of Lucius, from one list of KQL queries over its telemetry (src/telemetry):
 *
 *   infra/generated/lucius-workbook.json  the Azure Monitor workbook (infra/app/workbook.bicep deploys it)
 *   infra/generated/alert-queries.json    the log-alert queries (infra/app/alerts.bicep loads them)
 *
 * docs/monitoring.md shows the same queries; a test checks it holds each one verbatim. The queries
 * use Application Insights' table names (traces, customMetrics), as a workbook or alert scoped to
 * the Application Insights resource sees them; docs/monitoring.md gives the workspace names.
 *
 * The telemetry they read: lifecycle events are `traces` whose message is the event name
 * (`job.failed`, `job.repaired`, ...) with `job_id`, `step_id`, `tenant_id`, `attempt_no`,
 * `request_type`, `failure_class` (and `kind` for repairs) in customDimensions; metrics are
 * `customMetrics` named `lucius.*` with their attributes in customDimensions.
 */
import { jsonFileContent, type GeneratedFile } from './generated-file';

export interface MonitoringQuery {
  readonly title: string;
  readonly kql: string;
  /** How the workbook draws it. */
  readonly visualization: 'timechart' | 'barchart' | 'table';
}

const lines = (...parts: string[]): string => parts.join('\n');

/** The queries, by name; the order is the workbook's. */
export const MONITORING_QUERIES = {
  jobsByStatus: {
    title: 'Jobs admitted and finished, by status',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name in ("lucius.jobs.admitted", "lucius.jobs.finished")',
      '| extend status = iff(name == "lucius.jobs.admitted", "admitted", tostring(customDimensions.status))',
      '| summarize jobs = sum(valueSum) by status, bin(timestamp, 5m)',
      '| render timechart',
    ),
  },
  stepLatency: {
    title: 'Step duration percentiles (ms)',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name == "lucius.step.duration"',
      '| extend mean_ms = valueSum / valueCount',
      '| summarize percentiles(mean_ms, 50, 95, 99), max_ms = max(valueMax) by bin(timestamp, 15m)',
      '| render timechart',
    ),
  },
  ackLatency: {
    title: 'ACK latency percentiles (ms)',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name == "lucius.step.ack_latency"',
      '| extend mean_ms = valueSum / valueCount',
      '| summarize percentiles(mean_ms, 50, 95, 99), max_ms = max(valueMax) by bin(timestamp, 15m)',
      '| render timechart',
    ),
  },
  retriesByClass: {
    title: 'Step retries by failure class',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name == "lucius.step.retries"',
      '| extend failure_class = tostring(customDimensions.failure_class)',
      '| summarize retries = sum(valueSum) by failure_class, bin(timestamp, 15m)',
      '| render timechart',
    ),
  },
  failuresByClass: {
    title: 'Step and job failures by failure class',
    visualization: 'barchart',
    kql: lines(
      'traces',
      '| where message in ("step.failed", "job.failed")',
      '| extend failure_class = tostring(customDimensions.failure_class), request_type = tostring(customDimensions.request_type)',
      '| summarize failures = count() by event = message, failure_class, request_type',
      '| order by failures desc',
    ),
  },
  replyAnomalies: {
    title: 'Stale, duplicate and quarantined replies',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name in ("lucius.replies.stale", "lucius.replies.duplicate", "lucius.replies.quarantined")',
      '| summarize replies = sum(valueSum) by name, bin(timestamp, 15m)',
      '| render timechart',
    ),
  },
  sweeperRepairs: {
    title: 'Sweeper repairs by kind',
    visualization: 'timechart',
    kql: lines(
      'customMetrics',
      '| where name == "lucius.sweeper.repairs"',
      '| extend kind = tostring(customDimensions.kind)',
      '| summarize repairs = sum(valueSum) by kind, bin(timestamp, 15m)',
      '| render timechart',
    ),
  },
  inflightByTenant: {
    title: 'Jobs in flight per tenant (top 10)',
    visualization: 'timechart',
    kql: lines(
      'let top_tenants = customMetrics',
      '    | where name == "lucius.tenant.inflight"',
      '    | summarize peak = max(valueMax) by tenant_id = tostring(customDimensions.tenant_id)',
      '    | top 10 by peak',
      '    | project tenant_id;',
      'customMetrics',
      '| where name == "lucius.tenant.inflight"',
      '| extend tenant_id = tostring(customDimensions.tenant_id)',
      '| where tenant_id in (top_tenants)',
      '| summarize inflight = max(valueMax) by tenant_id, bin(timestamp, 5m)',
      '| render timechart',
    ),
  },
  recentFailedJobs: {
    title: 'Recent failed jobs',
    visualization: 'table',
    kql: lines(
      'traces',
      '| where message == "job.failed"',
      '| project timestamp, job_id = tostring(customDimensions.job_id), tenant_id = tostring(customDimensions.tenant_id),',
      '    request_type = tostring(customDimensions.request_type), failure_class = tostring(customDimensions.failure_class),',
      '    operation_Id',
      '| order by timestamp desc',
      '| take 100',
    ),
  },
} as const satisfies Record<string, MonitoringQuery>;

/**
 * Log alerts: each query returns one row whose `measure` column the alert compares with the
 * threshold given in infra/app/alerts.bicep, over the window there.
 */
export const ALERT_QUERIES = {
  failureRate: {
    description: 'Share of finished jobs that failed',
    measure: 'failure_rate',
    kql: lines(
      'customMetrics',
      '| where name == "lucius.jobs.finished"',
      '| summarize finished = sum(valueSum), failed = sumif(valueSum, tostring(customDimensions.status) =~ "failed")',
      '| where finished > 0',
      '| project failure_rate = failed / finished',
    ),
  },
  orchestrationRestarts: {
    description: 'Most orchestration restarts of one job',
    measure: 'restarts',
    kql: lines(
      'traces',
      '| where message == "job.repaired" and tostring(customDimensions.kind) in ("ORCHESTRATION_RESTARTED", "ORCHESTRATION_LOST")',
      '| summarize restarts_of_job = count() by job_id = tostring(customDimensions.job_id)',
      '| summarize restarts = max(restarts_of_job)',
    ),
  },
} as const;

/** Replaced by infra/app/workbook.bicep with the deployment's resource ids. */
export const WORKBOOK_TOKENS = {
  applicationInsightsId: '__APPLICATION_INSIGHTS_ID__',
  serviceBusNamespaceId: '__SERVICE_BUS_NAMESPACE_ID__',
  quarantineQueue: '__QUARANTINE_QUEUE__',
} as const;

const TIME_CONTEXT = { durationMs: 86_400_000 } as const;

function textItem(name: string, markdown: string) {
  return { type: 1, name, content: { json: markdown } };
}

function queryItem(name: string, query: MonitoringQuery) {
  return {
    type: 3,
    name,
    content: {
      version: 'KqlItem/1.0',
      title: query.title,
      query: query.kql,
      size: 0,
      timeContextFromParameter: 'TimeRange',
      queryType: 0,
      resourceType: 'microsoft.insights/components',
      visualization: query.visualization,
    },
    customWidth: query.visualization === 'table' ? '100' : '50',
  };
}

/** Service Bus platform metrics: queue depths are not in Lucius's telemetry. */
function serviceBusMetricItem(name: string, title: string, metric: string, filterQuarantine: boolean) {
  return {
    type: 10,
    name,
    content: {
      version: 'MetricsItem/2.0',
      title,
      size: 0,
      chartType: 2,
      resourceType: 'microsoft.servicebus/namespaces',
      metricScope: 0,
      resourceIds: [WORKBOOK_TOKENS.serviceBusNamespaceId],
      timeContextFromParameter: 'TimeRange',
      timeContext: TIME_CONTEXT,
      metrics: [
        {
          namespace: 'microsoft.servicebus/namespaces',
          metric: `microsoft.servicebus/namespaces--${metric}`,
          aggregation: 3,
          splitBy: 'EntityName',
        },
      ],
      ...(filterQuarantine
        ? {
            filters: [
              {
                key: 'EntityName',
                operator: 0,
                values: [WORKBOOK_TOKENS.quarantineQueue],
              },
            ],
          }
        : {}),
      gridSettings: { rowLimit: 10000 },
    },
    customWidth: '50',
  };
}

export function luciusWorkbook() {
  const queries = Object.entries(MONITORING_QUERIES) as Array<[string, MonitoringQuery]>;
  return {
    version: 'Notebook/1.0',
    items: [
      textItem(
        'title',
        '# Lucius\nJobs, steps, replies, queues and repairs. The queries are explained in docs/monitoring.md.',
      ),
      {
        type: 9,
        name: 'parameters',
        content: {
          version: 'KqlParameterItem/1.0',
          parameters: [
            {
              id: 'lucius-time-range',
              version: 'KqlParameterItem/1.0',
              name: 'TimeRange',
              label: 'Time range',
              type: 4,
              isRequired: true,
              value: TIME_CONTEXT,
              typeSettings: {
                selectableValues: [
                  { durationMs: 3_600_000 },
                  { durationMs: 14_400_000 },
                  { durationMs: 86_400_000 },
                  { durationMs: 604_800_000 },
                ],
              },
            },
          ],
          style: 'pills',
          queryType: 0,
          resourceType: 'microsoft.insights/components',
        },
      },
      ...queries.map(([name, query]) => queryItem(name, query)),
      serviceBusMetricItem('quarantineDepth', 'Quarantine queue depth', 'ActiveMessages', true),
      serviceBusMetricItem(
        'deadLetterDepth',
        'Dead-lettered messages by entity',
        'DeadletteredMessages',
        false,
      ),
    ],
    fallbackResourceIds: [WORKBOOK_TOKENS.applicationInsightsId],
    $schema: 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json',
  };
}

export const luciusWorkbookFile: GeneratedFile = {
  path: 'infra/generated/lucius-workbook.json',
  generate: () => jsonFileContent(luciusWorkbook()),
};

export const alertQueriesFile: GeneratedFile = {
  path: 'infra/generated/alert-queries.json',
  generate: () =>
    jsonFileContent({
      $comment:
        'Generated from scripts/generators/monitoring.ts (npm run generate); loaded by infra/app/alerts.bicep. Do not edit.',
      ...ALERT_QUERIES,
    }),
};
