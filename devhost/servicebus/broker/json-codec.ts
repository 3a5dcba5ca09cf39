/**
 * A lossless-enough JSON encoding for what the broker persists: plain objects, arrays, strings,
 * numbers, booleans and null, plus Buffers/Uint8Arrays, Dates and bigints (tagged objects). Class
 * instances other than those are stored as plain objects (their prototype is lost), so a payload that
 * must round-trip exactly should be kept as an encoded Buffer.
 */
const TAG = '$devhost';
/** The tag broker files written before devhost stood alone carry; still read. */
const OLD_TAG = '$lucius';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number')
    return Number.isFinite(value) ? value : { [TAG]: 'number', value: String(value) };
  if (typeof value === 'bigint') return { [TAG]: 'bigint', value: value.toString() };
  if (value instanceof Date) return { [TAG]: 'date', value: value.toISOString() };
  if (value instanceof Uint8Array) {
    return {
      [TAG]: 'buffer',
      value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  if (Array.isArray(value)) return value.map((item) => toJson(item));
  if (typeof value === 'object') {
    const object: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined && typeof item !== 'function') object[key] = toJson(item);
    }
    return TAG in object ? { [TAG]: 'object', value: object } : object;
  }
  return null;
}

export function fromJson(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map((item) => fromJson(item));
  const object = json as Record<string, unknown>;
  const tag = object[TAG] ?? object[OLD_TAG];
  if (typeof tag === 'string') {
    const value = object['value'];
    switch (tag) {
      case 'date':
        return new Date(value as string);
      case 'buffer':
        return Buffer.from(value as string, 'base64');
      case 'bigint':
        return BigInt(value as string);
      case 'number':
        return Number(value as string);
      case 'object':
        return Object.fromEntries(
          Object.entries(value as object).map(([key, item]) => [key, fromJson(item)]),
        );
      default:
        throw new Error(`Unknown ${TAG} tag '${tag}' in broker data.`);
    }
  }
  return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, fromJson(item)]));
}
