import {
  carrierFrom,
  fromHeaders,
  fromMessageProperties,
  toMessageProperties,
  traceIdOf,
} from '../../src/telemetry/trace-context';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context across hops', () => {
  it('puts a context on a message as Diagnostic-Id, traceparent and tracestate', () => {
    expect(toMessageProperties({ traceparent: PARENT, tracestate: 'congo=t61rcWkgMzE' })).toEqual({
      'Diagnostic-Id': PARENT,
      traceparent: PARENT,
      tracestate: 'congo=t61rcWkgMzE',
    });
    expect(toMessageProperties(undefined)).toEqual({});
  });

  it('reads traceparent first, then Diagnostic-Id', () => {
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    expect(fromMessageProperties({ traceparent: PARENT, 'Diagnostic-Id': other })).toEqual({
      traceparent: PARENT,
    });
    expect(fromMessageProperties({ 'Diagnostic-Id': other })).toEqual({ traceparent: other });
    expect(fromMessageProperties({ job_id: 'j' })).toBeUndefined();
    expect(fromMessageProperties(undefined)).toBeUndefined();
  });

  it('ignores a malformed context instead of failing the hop', () => {
    expect(carrierFrom('not-a-traceparent')).toBeUndefined();
    expect(carrierFrom(42)).toBeUndefined();
    expect(carrierFrom('ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBeUndefined();
    expect(fromMessageProperties({ traceparent: '00-xyz', 'Diagnostic-Id': PARENT })).toEqual({
      traceparent: PARENT,
    });
  });

  it('reads the traceparent and tracestate headers of a request', () => {
    const headers = new Headers({ traceparent: PARENT.toUpperCase(), tracestate: 'a=1' });
    expect(fromHeaders(headers)).toEqual({ traceparent: PARENT, tracestate: 'a=1' });
    expect(fromHeaders(new Headers())).toBeUndefined();
  });

  it("names a carrier's trace", () => {
    expect(traceIdOf({ traceparent: PARENT })).toBe('0af7651916cd43dd8448eb211c80319c');
  });
});
