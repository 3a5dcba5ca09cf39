/**
 * Registers the OpenTelemetry SDK the process exports with, once, and builds the Telemetry adapter
 * over it (telemetry-settings.ts says which):
 *
 * - Application Insights (`APPLICATIONINSIGHTS_CONNECTION_STRING`): `useAzureMonitor` from the
 *   `applicationinsights` package (v3, the Azure Monitor OpenTelemetry distro): traces, metrics and
 *   logs go to the resource; with `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
 *   (`Authorization=AAD[;ClientId=…]`) through a ManagedIdentityCredential. In Azure Functions the
 *   distro continues each invocation's trace from the host (its preInvocation hook).
 * - The test file (`LUCIUS_TELEMETRY_TEST_FILE`): spans and metrics appended to the file
 *   (json-lines-exporters.ts), metrics every second.
 * - Neither: no exporter; trace context still flows from hop to hop (a caller's `traceparent`
 *   reaches the workers).
 * In every case an AsyncLocalStorage context manager keeps the current span across awaits.
 */
import { context as otelContext, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ManagedIdentityCredential } from '@azure/identity';
import type { TelemetrySettings } from '../config/telemetry-settings';
import type { Telemetry } from '../ports/telemetry';
import { JsonLinesMetricExporter, JsonLinesSpanExporter } from './json-lines-exporters';
import { OpenTelemetryTelemetry } from './open-telemetry-telemetry';

/** How often the test file receives the metrics. */
const TEST_FILE_METRIC_INTERVAL_MS = 1_000;

export interface TelemetryRuntime {
  readonly telemetry: Telemetry;
  /** Exports what is pending and stops the exporters. */
  shutdown(): Promise<void>;
}

let started: TelemetryRuntime | undefined;

/** The process's telemetry; the first call registers the SDK, later calls return the same. */
export function startTelemetry(settings: TelemetrySettings): TelemetryRuntime {
  started ??= register(settings);
  return started;
}

function register(settings: TelemetrySettings): TelemetryRuntime {
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName });
  let shutdown: () => Promise<void> = async () => undefined;
  if (settings.applicationInsights !== undefined) {
    const { connectionString, authentication } = settings.applicationInsights;
    // Loaded only when on: the distro is large and instruments modules as it starts.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const distro = require('applicationinsights') as typeof import('applicationinsights');
    distro.useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString,
        ...(authentication.kind === 'managed-identity'
          ? {
              credential:
                authentication.clientId === undefined
                  ? new ManagedIdentityCredential()
                  : new ManagedIdentityCredential({ clientId: authentication.clientId }),
            }
          : {}),
      },
      resource,
    });
    shutdown = () => distro.shutdownAzureMonitor();
  } else {
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    if (settings.testFile !== undefined) {
      const tracerProvider = new BasicTracerProvider({
        resource,
        spanProcessors: [new SimpleSpanProcessor(new JsonLinesSpanExporter(settings.testFile))],
      });
      const meterProvider = new MeterProvider({
        resource,
        readers: [
          new PeriodicExportingMetricReader({
            exporter: new JsonLinesMetricExporter(settings.testFile),
            exportIntervalMillis: TEST_FILE_METRIC_INTERVAL_MS,
          }),
        ],
      });
      trace.setGlobalTracerProvider(tracerProvider);
      metrics.setGlobalMeterProvider(meterProvider);
      shutdown = async () => {
        await meterProvider.shutdown();
        await tracerProvider.shutdown();
      };
    }
  }
  return { telemetry: new OpenTelemetryTelemetry({ logFormat: settings.logFormat }), shutdown };
}
