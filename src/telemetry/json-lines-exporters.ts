/**
 * OpenTelemetry exporters that append to a file, one JSON object a line: what the app emits when
 * `LUCIUS_TELEMETRY_TEST_FILE` is set, so a test can read the spans and metrics of an app that runs
 * in another process (devhost under `npm start`). Never used in production.
 *
 *   {"type":"span","name":…,"traceId":…,"spanId":…,"parentSpanId":…,"kind":"SERVER",
 *    "attributes":{…},"links":[{"traceId":…,"spanId":…}],"events":[…],"status":"OK"|"ERROR"|"UNSET"}
 *   {"type":"metric","name":…,"unit":…,"points":[{"attributes":{…},"value":n}]}   (cumulative;
 *    a histogram's value is {"count":n,"sum":n})
 */
import { appendFileSync } from 'node:fs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export class JsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly file: string) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      appendFileSync(this.file, spans.map((span) => `${JSON.stringify(spanRecord(span))}\n`).join(''));
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}

export class JsonLinesMetricExporter implements PushMetricExporter {
  constructor(private readonly file: string) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    try {
      const lines: string[] = [];
      for (const scope of metrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const points = metric.dataPoints.map((point) => ({
            attributes: point.attributes,
            value:
              metric.dataPointType === DataPointType.HISTOGRAM
                ? {
                    count: (point.value as { count: number }).count,
                    sum: (point.value as { sum?: number }).sum ?? 0,
                  }
                : point.value,
          }));
          lines.push(
            JSON.stringify({
              type: 'metric',
              name: metric.descriptor.name,
              unit: metric.descriptor.unit,
              points,
            }),
          );
        }
      }
      if (lines.length > 0) appendFileSync(this.file, `${lines.join('\n')}\n`);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}

function spanRecord(span: ReadableSpan): Record<string, unknown> {
  const context = span.spanContext();
  return {
    type: 'span',
    name: span.name,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    kind: SpanKind[span.kind],
    attributes: span.attributes,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    events: span.events.map((event) => event.name),
    status: SpanStatusCode[span.status.code],
  };
}
