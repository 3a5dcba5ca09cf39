/**
 * Reading decoded wire values (AMQP maps, JSON documents) without trusting their shape: what is not
 * the type asked for reads as empty or undefined, and the caller decides whether that is an error.
 */

/** An object's properties; anything else (null, an array, a Buffer, a scalar) reads as `{}`. */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `asRecord`, but undefined when it has no properties. */
export function optionalRecord(value: unknown): Record<string, unknown> | undefined {
  const record = asRecord(value);
  return Object.keys(record).length === 0 ? undefined : record;
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
