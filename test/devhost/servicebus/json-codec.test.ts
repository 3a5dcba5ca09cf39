import { fromJson, toJson } from '../../../devhost/servicebus/broker/json-codec';

describe('broker JSON codec', () => {
  it('round-trips buffers, dates, bigints, non-finite numbers and objects that use the tag as a key', () => {
    const value = {
      body: Buffer.from('héllo'),
      at: new Date('2026-12-02T07:00:00.000Z'),
      sequence: 12345678901234567890n,
      ratio: Number.POSITIVE_INFINITY,
      nested: [{ $devhost: 'not a tag', n: 1 }],
    };
    const decoded = fromJson(JSON.parse(JSON.stringify(toJson(value)))) as typeof value;
    expect(decoded.body).toEqual(Buffer.from('héllo'));
    expect(decoded.at).toEqual(value.at);
    expect(decoded.sequence).toBe(value.sequence);
    expect(decoded.ratio).toBe(Number.POSITIVE_INFINITY);
    expect(decoded.nested).toEqual([{ $devhost: 'not a tag', n: 1 }]);
  });

  it('still reads broker files written with the old tag', () => {
    expect(fromJson({ body: { $lucius: 'buffer', value: Buffer.from('x').toString('base64') } })).toEqual({
      body: Buffer.from('x'),
    });
  });

  it('refuses an unknown tag, naming it', () => {
    expect(() => fromJson({ $devhost: 'mystery', value: 1 })).toThrow("Unknown $devhost tag 'mystery'");
  });
});
