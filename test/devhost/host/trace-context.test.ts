/**
 * The W3C trace context devhost gives each invocation (common/trace-context.ts): which parents it
 * continues, and what it sends when it starts a trace.
 */
import { invocationTraceContext, parseTraceParent } from '../../../devhost/common/trace-context';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceParent', () => {
  it('reads a version 00 traceparent', () => {
    expect(parseTraceParent(PARENT)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '01' });
  });

  it('accepts a later version with more fields', () => {
    expect(parseTraceParent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      flags: '00',
    });
  });

  it.each([
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['a zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['a zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['extra fields on version 00', `${PARENT}-extra`],
    ['a Request-Id', '|4bf92f3577b34da6a3ce929d0e0e4736.00f067aa0ba902b7.'],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });
});

describe('invocationTraceContext', () => {
  it('continues a valid parent with a new span id, its flags and its tracestate', () => {
    const trace = invocationTraceContext('f', { traceParent: PARENT, traceState: 'rojo=1' }, {});
    expect(trace.traceParent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(trace.traceParent).not.toContain('00f067aa0ba902b7');
    expect(trace.traceState).toBe('rojo=1');
    expect(trace.attributes).toEqual({});
  });

  it('starts a sampled trace without a parent, dropping a tracestate that has none', () => {
    const trace = invocationTraceContext('f', { traceState: 'rojo=1' }, {});
    expect(trace.traceParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(trace.traceState).toBe('');
  });

  it('adds ProcessId and OperationName when the Application Insights agent is on, as the host does', () => {
    const trace = invocationTraceContext('sweep', {}, { APPLICATIONINSIGHTS_ENABLE_AGENT: 'true' });
    expect(trace.attributes).toEqual({ ProcessId: String(process.pid), OperationName: 'sweep' });
  });
});
