/**
 * W3C trace context across Lucius's hops, through the OpenTelemetry API (no-op without an SDK: a
 * carrier then passes through unchanged, so a caller's trace still reaches the workers).
 *
 * - `carrierOf(context)` / `contextOf(carrier)`: an OpenTelemetry context ⇄ a TraceCarrier.
 * - Service Bus messages carry it as application properties, per Service Bus's tracing
 *   convention: `Diagnostic-Id` (the traceparent) plus `traceparent` and `tracestate`; reading
 *   prefers `traceparent` and falls back to `Diagnostic-Id`.
 * - HTTP carries it as the `traceparent` / `tracestate` headers.
 */
import { context as otelContext, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TraceCarrier } from '../ports/telemetry';

const propagator = new W3CTraceContextPropagator();

/** Service Bus's name for the producer's trace context on a message. */
export const DIAGNOSTIC_ID_PROPERTY = 'Diagnostic-Id';
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const TRACEPARENT_FORMAT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** The trace context of `context`'s span, or undefined when it has none. */
export function carrierOf(context: Context): TraceCarrier | undefined {
  const headers: Record<string, string> = {};
  propagator.inject(context, headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
  const traceparent = headers[TRACEPARENT];
  if (traceparent === undefined) return undefined;
  const tracestate = headers[TRACESTATE];
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/** The trace context of the active span. */
export function currentCarrier(): TraceCarrier | undefined {
  return carrierOf(otelContext.active());
}

/** `carrier` as a context whose (remote) span is the parent of spans started in it. */
export function contextOf(carrier: TraceCarrier, base: Context = otelContext.active()): Context {
  return propagator.extract(trace.deleteSpan(base), carrier, {
    get: (c, key) => (key === TRACEPARENT ? c.traceparent : key === TRACESTATE ? c.tracestate : undefined),
    keys: () => [TRACEPARENT, TRACESTATE],
  });
}

/** The trace id a carrier belongs to (undefined for a malformed one). */
export function traceIdOf(carrier: TraceCarrier): string | undefined {
  return TRACEPARENT_FORMAT.test(carrier.traceparent) ? carrier.traceparent.split('-')[1] : undefined;
}

/** A carrier from untrusted input (a message property, a header): undefined unless well formed. */
export function carrierFrom(traceparent: unknown, tracestate?: unknown): TraceCarrier | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const value = traceparent.trim().toLowerCase();
  if (!TRACEPARENT_FORMAT.test(value) || value.startsWith('ff')) return undefined;
  return typeof tracestate === 'string' && tracestate.trim() !== ''
    ? { traceparent: value, tracestate: tracestate.trim() }
    : { traceparent: value };
}

/** The application properties that carry `carrier` on a Service Bus message. */
export function toMessageProperties(carrier: TraceCarrier | undefined): Record<string, string> {
  if (carrier === undefined) return {};
  return {
    [DIAGNOSTIC_ID_PROPERTY]: carrier.traceparent,
    [TRACEPARENT]: carrier.traceparent,
    ...(carrier.tracestate === undefined ? {} : { [TRACESTATE]: carrier.tracestate }),
  };
}

/** The trace context a message's application properties carry (`traceparent`, else `Diagnostic-Id`). */
export function fromMessageProperties(
  properties: Readonly<Record<string, unknown>> | undefined,
): TraceCarrier | undefined {
  if (properties === undefined || properties === null) return undefined;
  return (
    carrierFrom(properties[TRACEPARENT], properties[TRACESTATE]) ??
    carrierFrom(properties[DIAGNOSTIC_ID_PROPERTY])
  );
}

/** The trace context of an HTTP request's headers. */
export function fromHeaders(headers: { get(name: string): string | null }): TraceCarrier | undefined {
  return carrierFrom(headers.get(TRACEPARENT) ?? undefined, headers.get(TRACESTATE) ?? undefined);
}
