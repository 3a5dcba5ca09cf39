/**
 * The Telemetry port: what Lucius tells its operators. Lifecycle events (one structured log line
 * each, carrying job_id, tenant_id, step_id and attempt_no), metrics under the names the workbook
 * reads, and spans that keep one job in one distributed trace across the hops it takes (admission
 * request → orchestration input → activities → directive message → worker reply → its ingestion).
 *
 * A trace crosses a hop as a W3C trace context (`TraceCarrier`): the hop's sender takes `current()`
 * and puts it where the receiver finds it (the orchestration input, the activity inputs, a
 * message's application properties, an HTTP `traceparent` header); the receiver runs its work in
 * `span(name, { parent })`. Adapters: src/telemetry/ (OpenTelemetry, exported to Application
 * Insights) and an in-memory one for tests.
 */

/** A W3C trace context as it crosses a hop (https://www.w3.org/TR/trace-context/). */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** An activity input (or any hop's payload) that carries the job's trace. */
export interface Traced {
  readonly trace?: TraceCarrier;
}

export const LIFECYCLE_EVENTS = [
  'job.accepted',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'job.repaired',
  'step.dispatched',
  'step.acked',
  'step.succeeded',
  'step.retry',
  'step.failed',
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export type FieldValue = string | number | boolean | undefined;

/**
 * A lifecycle event's fields: the job always; its tenant, step and attempt where known (a line
 * shows each of the four, null when it does not apply); anything else the event adds.
 */
export interface LifecycleFields {
  readonly job_id: string;
  readonly tenant_id?: string;
  readonly step_id?: string;
  readonly attempt_no?: number;
  readonly [field: string]: FieldValue;
}

/** Counters (monotonic sums). */
export type CounterName =
  | 'lucius.jobs.admitted'
  | 'lucius.jobs.finished'
  | 'lucius.step.attempts'
  | 'lucius.step.retries'
  | 'lucius.replies.stale'
  | 'lucius.replies.duplicate'
  | 'lucius.replies.quarantined'
  | 'lucius.sweeper.repairs';

/** Histograms (milliseconds). */
export type HistogramName = 'lucius.step.duration' | 'lucius.step.ack_latency';

/** Up-down counters (a level: in-flight jobs per tenant). */
export type LevelName = 'lucius.tenant.inflight';

export type MetricAttributes = Readonly<Record<string, string | number | boolean>>;

export type SpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

export interface SpanOptions {
  readonly kind?: SpanKind;
  /** The trace context the span continues (the hop's carrier); absent: the current context. */
  readonly parent?: TraceCarrier;
  /** Other contexts the work relates to (a message's producer seen from another trace). */
  readonly links?: readonly TraceCarrier[];
  readonly attributes?: Readonly<Record<string, FieldValue>>;
}

export interface Telemetry {
  /** A lifecycle event: one log line, and an event on the current span. */
  event(name: LifecycleEvent, fields: LifecycleFields): void;
  /** Adds `by` (default 1) to a counter. */
  count(name: CounterName, attributes?: MetricAttributes, by?: number): void;
  /** Records one value of a histogram. */
  record(name: HistogramName, value: number, attributes?: MetricAttributes): void;
  /** Moves a level up (positive) or down (negative). */
  adjust(name: LevelName, delta: number, attributes?: MetricAttributes): void;
  /**
   * Runs `work` inside a span: a child of `options.parent` when given (continuing the job's trace
   * across a hop), else of the current span. The span ends when `work` settles and records a
   * thrown error. Inside `work`, `current()` is this span's context.
   */
  span<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T>;
  /** The current trace context, to hand on across a hop; undefined outside any trace. */
  current(): TraceCarrier | undefined;
}
