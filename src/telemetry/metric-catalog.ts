/**
 * Lucius's metrics: name, instrument, unit, attributes and meaning. The names are what the
 * workbook and the alert rules query (customMetrics in Application Insights); README "Monitoring"
 * lists the same.
 */
import type { CounterName, HistogramName, LevelName } from '../ports/telemetry';

export interface MetricDefinition {
  readonly instrument: 'counter' | 'histogram' | 'updown';
  readonly unit: string;
  readonly attributes: readonly string[];
  readonly description: string;
}

export const METRICS: Readonly<Record<CounterName | HistogramName | LevelName, MetricDefinition>> = {
  'lucius.jobs.admitted': {
    instrument: 'counter',
    unit: '{job}',
    attributes: ['request_type'],
    description: 'Jobs admitted (a new job recorded; a resent command is not counted)',
  },
  'lucius.jobs.finished': {
    instrument: 'counter',
    unit: '{job}',
    attributes: ['status', 'request_type'],
    description: 'Jobs that ended, by status (succeeded, failed, cancelled) and request type',
  },
  'lucius.step.duration': {
    instrument: 'histogram',
    unit: 'ms',
    attributes: ['step_type', 'status'],
    description: "A step's time from its first dispatch to its end (succeeded or failed), retries included",
  },
  'lucius.step.attempts': {
    instrument: 'counter',
    unit: '{attempt}',
    attributes: ['step_type'],
    description: 'Step attempts dispatched (the first and every retry)',
  },
  'lucius.step.ack_latency': {
    instrument: 'histogram',
    unit: 'ms',
    attributes: ['step_type'],
    description: "An attempt's time from its dispatch to the worker's ACK",
  },
  'lucius.step.retries': {
    instrument: 'counter',
    unit: '{attempt}',
    attributes: ['failure_class', 'step_type'],
    description: 'Attempts that failed and will be retried, by failure class',
  },
  'lucius.replies.stale': {
    instrument: 'counter',
    unit: '{reply}',
    attributes: ['kind'],
    description: 'Replies to an attempt that is not the current one (recorded, never applied)',
  },
  'lucius.replies.duplicate': {
    instrument: 'counter',
    unit: '{reply}',
    attributes: ['kind'],
    description: 'Replies repeating one already applied, or to a step that already ended (no-ops)',
  },
  'lucius.replies.quarantined': {
    instrument: 'counter',
    unit: '{reply}',
    attributes: ['reason'],
    description: 'Reply messages parked in the quarantine queue (they can never be processed)',
  },
  'lucius.tenant.inflight': {
    instrument: 'updown',
    unit: '{job}',
    attributes: ['tenant_id'],
    description: "Jobs admitted and not yet ended, per tenant (this process's changes; sum over instances)",
  },
  'lucius.sweeper.repairs': {
    instrument: 'counter',
    unit: '{repair}',
    attributes: ['kind'],
    description: 'Repairs made by the sweepers, by kind',
  },
};
