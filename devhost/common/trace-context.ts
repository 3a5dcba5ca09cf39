/**
 * The W3C trace context each invocation carries (`context.traceContext`), as the Functions host
 * builds it: the host's own span for the invocation (`Activity.Current.Id`), as a `traceparent`,
 * plus the `tracestate` it inherited and the span's attributes.
 *
 * - An invocation that continues a caller's trace (an HTTP request with a valid `traceparent`, a
 *   Service Bus message whose `Diagnostic-Id` holds one) gets the caller's trace id and trace flags
 *   with a new span id, and the caller's `tracestate`.
 * - Any other invocation (an invalid or missing parent, a timer) starts a new trace, sampled
 *   (flags `01`, as the host's span is recorded when Application Insights is on).
 * - `traceState` is "" when there is none and `attributes` is empty, as the host sends them when the
 *   Application Insights agent is off; with `APPLICATIONINSIGHTS_ENABLE_AGENT=true` the host adds
 *   `ProcessId` and `OperationName` (the function name), and so does devhost.
 */
import { randomBytes } from 'node:crypto';

/** `InvocationContext.traceContext`, as `@azure/functions` declares it. */
export interface InvocationTraceContext {
  readonly traceParent: string;
  readonly traceState: string;
  readonly attributes: Record<string, string>;
}

/** What a trigger carries of its caller's trace. */
export interface TraceParentInput {
  readonly traceParent?: string;
  readonly traceState?: string;
}

const TRACEPARENT =
  /^(?<version>[0-9a-f]{2})-(?<traceId>[0-9a-f]{32})-(?<spanId>[0-9a-f]{16})-(?<flags>[0-9a-f]{2})(?<rest>-.*)?$/;

/** A traceparent's trace id and flags, or undefined when it is not a valid W3C traceparent. */
export function parseTraceParent(value: string): { traceId: string; flags: string } | undefined {
  const fields = TRACEPARENT.exec(value.trim())?.groups;
  if (fields === undefined) return undefined;
  const { version, traceId = '', spanId = '', flags = '', rest } = fields;
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  // Version 00 has exactly four fields; a later version may append more.
  if (version === '00' && rest !== undefined) return undefined;
  return { traceId, flags };
}

/** The trace context of one invocation of `functionName`, continuing `parent` when it is valid. */
export function invocationTraceContext(
  functionName: string,
  parent: TraceParentInput = {},
  env: NodeJS.ProcessEnv = process.env,
): InvocationTraceContext {
  const continued = parent.traceParent === undefined ? undefined : parseTraceParent(parent.traceParent);
  const traceId = continued?.traceId ?? randomBytes(16).toString('hex');
  const flags = continued?.flags ?? '01';
  const attributes: Record<string, string> =
    env.APPLICATIONINSIGHTS_ENABLE_AGENT?.toLowerCase() === 'true'
      ? { ProcessId: String(process.pid), OperationName: functionName }
      : {};
  return {
    traceParent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`,
    traceState: continued === undefined ? '' : (parent.traceState ?? ''),
    attributes,
  };
}
