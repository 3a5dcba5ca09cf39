/**
 * Telemetry kept in memory, for tests: the events, metric values and spans as plain records. Spans
 * get W3C ids of their own, so what a hop carries (`current()`) can be followed from span to span
 * as with a real tracer. `SILENT_TELEMETRY` drops everything (the default where no telemetry is wired).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type {
  CounterName,
  HistogramName,
  LevelName,
  LifecycleEvent,
  LifecycleFields,
  MetricAttributes,
  SpanOptions,
  Telemetry,
  TraceCarrier,
} from '../ports/telemetry';
import { traceIdOf } from './trace-context';

export interface RecordedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly options: SpanOptions;
  failed?: boolean;
}

export interface RecordedMetric {
  readonly name: CounterName | HistogramName | LevelName;
  readonly value: number;
  readonly attributes: MetricAttributes;
}

export class MemoryTelemetry implements Telemetry {
  readonly events: Array<{ readonly name: LifecycleEvent; readonly fields: LifecycleFields }> = [];
  readonly metrics: RecordedMetric[] = [];
  readonly spans: RecordedSpan[] = [];
  private readonly active = new AsyncLocalStorage<RecordedSpan>();

  event(name: LifecycleEvent, fields: LifecycleFields): void {
    this.events.push({ name, fields });
  }

  count(name: CounterName, attributes: MetricAttributes = {}, by = 1): void {
    this.metrics.push({ name, value: by, attributes });
  }

  record(name: HistogramName, value: number, attributes: MetricAttributes = {}): void {
    this.metrics.push({ name, value, attributes });
  }

  adjust(name: LevelName, delta: number, attributes: MetricAttributes = {}): void {
    this.metrics.push({ name, value: delta, attributes });
  }

  async span<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T> {
    const current = this.active.getStore();
    const carried = options.parent === undefined ? undefined : traceIdOf(options.parent);
    const parentSpanId =
      carried !== undefined && carried !== current?.traceId
        ? options.parent?.traceparent.split('-')[2]
        : current?.spanId;
    const span: RecordedSpan = {
      name,
      traceId: carried ?? current?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      ...(parentSpanId === undefined ? {} : { parentSpanId }),
      options,
    };
    this.spans.push(span);
    try {
      return await this.active.run(span, work);
    } catch (error) {
      span.failed = true;
      throw error;
    }
  }

  current(): TraceCarrier | undefined {
    const span = this.active.getStore();
    return span === undefined ? undefined : { traceparent: `00-${span.traceId}-${span.spanId}-01` };
  }

  /** The total of a counter (or level) over the values whose attributes include `where`. */
  total(name: RecordedMetric['name'], where: MetricAttributes = {}): number {
    return this.metrics
      .filter((m) => m.name === name && Object.entries(where).every(([k, v]) => m.attributes[k] === v))
      .reduce((sum, m) => sum + m.value, 0);
  }
}

/** Telemetry that drops everything. */
export const SILENT_TELEMETRY: Telemetry = {
  event: () => undefined,
  count: () => undefined,
  record: () => undefined,
  adjust: () => undefined,
  span: (_name, _options, work) => work(),
  current: () => undefined,
};
