/**
 * The OpenTelemetry adapter over an in-memory SDK (InMemorySpanExporter, InMemoryMetricExporter)
 * registered for this file only.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryTelemetry } from '../../src/telemetry/open-telemetry-telemetry';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
let lines: string[];
let telemetry: OpenTelemetryTelemetry;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  lines = [];
  telemetry = new OpenTelemetryTelemetry({
    logFormat: 'text',
    write: (line) => lines.push(line),
    now: () => new Date(2026, 4, 1, 9, 30, 0),
  });
});

afterAll(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

beforeEach(() => spans.reset());

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('OpenTelemetryTelemetry', () => {
  it('continues a carried trace and hands on its own span as the next hop context', async () => {
    let handedOn: string | undefined;
    await telemetry.span(
      'POST /v1/commands',
      { kind: 'server', parent: { traceparent: CALLER } },
      async () => {
        await telemetry.span('activity startJob', {}, async () => {
          handedOn = telemetry.current()?.traceparent;
        });
      },
    );
    const [inner, outer] = spans.getFinishedSpans();
    expect(outer?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(outer?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(handedOn).toBe(`00-0af7651916cd43dd8448eb211c80319c-${inner?.spanContext().spanId}-01`);
  });

  it('links the current span when the carried trace is another one, and records a failure', async () => {
    await telemetry.span('host invocation', {}, async () => {
      await expect(
        telemetry.span('process reply', { kind: 'consumer', parent: { traceparent: CALLER } }, async () => {
          throw new Error('storage unreachable');
        }),
      ).rejects.toThrow('storage unreachable');
    });
    const [consumer, host] = spans.getFinishedSpans();
    expect(consumer?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(consumer?.links.map((l) => l.context.spanId)).toEqual([host?.spanContext().spanId]);
    expect(consumer?.status).toMatchObject({ code: 2, message: 'storage unreachable' });
  });

  it('writes a lifecycle event as a line and as an event of the current span', async () => {
    await telemetry.span('activity finishJob', {}, async () => {
      telemetry.event('job.succeeded', { job_id: 'j1', tenant_id: 't1', request_type: 'OCR' });
    });
    expect(lines).toContain('09:30:00 job.succeeded job=j1 tenant=t1 type=OCR');
    expect(spans.getFinishedSpans()[0]?.events.map((e) => [e.name, e.attributes?.tenant_id])).toEqual([
      ['job.succeeded', 't1'],
    ]);
  });

  it('records the metrics under their catalog names', async () => {
    telemetry.count('lucius.jobs.admitted', { request_type: 'OCR' });
    telemetry.count('lucius.jobs.admitted', { request_type: 'OCR' });
    telemetry.record('lucius.step.duration', 1200, { step_type: 'OCR', status: 'succeeded' });
    telemetry.adjust('lucius.tenant.inflight', 1, { tenant_id: 't1' });
    telemetry.adjust('lucius.tenant.inflight', -1, { tenant_id: 't1' });
    await reader.forceFlush();
    const exported =
      metricExporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
    const byName = new Map(exported.map((m) => [m.descriptor.name, m]));
    expect(byName.get('lucius.jobs.admitted')?.dataPoints[0]?.value).toBe(2);
    expect(byName.get('lucius.step.duration')?.descriptor.unit).toBe('ms');
    expect(byName.get('lucius.step.duration')?.dataPoints[0]?.value).toMatchObject({ count: 1, sum: 1200 });
    expect(byName.get('lucius.tenant.inflight')?.dataPoints[0]?.value).toBe(0);
  });
});
