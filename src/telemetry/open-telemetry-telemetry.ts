/**
 * Telemetry over the OpenTelemetry API: spans from the `lucius` tracer, metrics from the `lucius`
 * meter (metric-catalog.ts), lifecycle events as OpenTelemetry log records (Application Insights
 * `traces`, with the fields as customDimensions and the job's operation id), as events on the
 * current span, and as one local log line each (`LUCIUS_LOG_FORMAT`).
 *
 * Whatever SDK is registered receives them (start-telemetry.ts: Azure Monitor, the test file, or
 * none). Build it after the SDK is registered: the meter and the logger are taken at construction.
 *
 * Continuing a trace (`span` with a `parent`): when the current span already belongs to that trace
 * (the host continued it, as Azure Functions does from a message's Diagnostic-Id), the new span is
 * its child; otherwise the new span continues the carried trace and links to the current span.
 */
import {
  context as otelContext,
  isSpanContextValid,
  metrics,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Link,
  type UpDownCounter,
} from '@opentelemetry/api';
import { logs, SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import type { LogFormat } from '../config/telemetry-settings';
import type {
  CounterName,
  FieldValue,
  HistogramName,
  LevelName,
  LifecycleEvent,
  LifecycleFields,
  MetricAttributes,
  SpanKind,
  SpanOptions,
  Telemetry,
  TraceCarrier,
} from '../ports/telemetry';
import { formatLifecycleLine } from './log-lines';
import { METRICS } from './metric-catalog';
import { contextOf, currentCarrier, traceIdOf } from './trace-context';

export const INSTRUMENTATION_SCOPE = 'lucius';

const KINDS: Readonly<Record<SpanKind, OtelSpanKind>> = {
  server: OtelSpanKind.SERVER,
  client: OtelSpanKind.CLIENT,
  producer: OtelSpanKind.PRODUCER,
  consumer: OtelSpanKind.CONSUMER,
  internal: OtelSpanKind.INTERNAL,
};

export interface OpenTelemetryTelemetryOptions {
  readonly logFormat: LogFormat;
  /** Where a local log line goes (default: stdout). */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

export class OpenTelemetryTelemetry implements Telemetry {
  private readonly tracer = trace.getTracer(INSTRUMENTATION_SCOPE);
  private readonly meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
  private readonly logger: Logger = logs.getLogger(INSTRUMENTATION_SCOPE);
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly levels = new Map<string, UpDownCounter>();
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(private readonly options: OpenTelemetryTelemetryOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  event(name: LifecycleEvent, fields: LifecycleFields): void {
    const attributes = attributesOf({ event: name, ...fields });
    trace.getActiveSpan()?.addEvent(name, attributes);
    this.logger.emit({
      severityNumber: name.endsWith('failed') ? SeverityNumber.WARN : SeverityNumber.INFO,
      severityText: name.endsWith('failed') ? 'WARN' : 'INFO',
      body: name,
      attributes,
      context: otelContext.active(),
    });
    if (this.options.logFormat !== 'off')
      this.write(formatLifecycleLine(this.options.logFormat, this.now(), name, fields));
  }

  count(name: CounterName, attributes: MetricAttributes = {}, by = 1): void {
    let counter = this.counters.get(name);
    if (counter === undefined) {
      counter = this.meter.createCounter(name, describe(name));
      this.counters.set(name, counter);
    }
    counter.add(by, attributes);
  }

  record(name: HistogramName, value: number, attributes: MetricAttributes = {}): void {
    if (!Number.isFinite(value) || value < 0) return;
    let histogram = this.histograms.get(name);
    if (histogram === undefined) {
      histogram = this.meter.createHistogram(name, describe(name));
      this.histograms.set(name, histogram);
    }
    histogram.record(value, attributes);
  }

  adjust(name: LevelName, delta: number, attributes: MetricAttributes = {}): void {
    let level = this.levels.get(name);
    if (level === undefined) {
      level = this.meter.createUpDownCounter(name, describe(name));
      this.levels.set(name, level);
    }
    level.add(delta, attributes);
  }

  async span<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T> {
    const active = otelContext.active();
    const activeSpan = trace.getSpanContext(active);
    const links: Link[] = [];
    let parent = active;
    if (options.parent !== undefined) {
      const sameTrace = activeSpan !== undefined && activeSpan.traceId === traceIdOf(options.parent);
      if (!sameTrace) {
        parent = contextOf(options.parent, active);
        if (activeSpan !== undefined && isSpanContextValid(activeSpan)) links.push({ context: activeSpan });
      }
    }
    for (const link of options.links ?? []) {
      const linked = linkOf(link);
      if (linked !== undefined) links.push(linked);
    }
    const span = this.tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind ?? 'internal'],
        attributes: attributesOf(options.attributes ?? {}),
        links,
      },
      parent,
    );
    return otelContext.with(trace.setSpan(parent, span), async () => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  current(): TraceCarrier | undefined {
    return currentCarrier();
  }
}

function describe(name: keyof typeof METRICS): { description: string; unit: string } {
  const { description, unit } = METRICS[name];
  return { description, unit };
}

function linkOf(carrier: TraceCarrier): Link | undefined {
  const linked = trace.getSpanContext(contextOf(carrier));
  return linked !== undefined && isSpanContextValid(linked) ? { context: linked } : undefined;
}

function attributesOf(fields: Readonly<Record<string, FieldValue>>): Attributes {
  const attributes: Attributes = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) attributes[name] = value;
  return attributes;
}
