/**
 * Lane routing (README: "The worker contract"): lane = FNV-1a (32-bit) of the UTF-8 routing key, modulo the lane
 * count. The routing key is the envelope's `routing_key`, or its `tenant_id` when absent. The hash is
 * stable across processes and languages, so a worker can compute the lane of a key itself.
 */
export interface LaneResolution {
  readonly lane: number;
  readonly routingKeyUsed: 'routing_key' | 'tenant_id';
  readonly routingKey: string;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

export function laneFor(routingKey: string, laneCount: number): number {
  if (!Number.isInteger(laneCount) || laneCount < 1)
    throw new RangeError(`lane count must be a positive integer, got ${laneCount}`);
  return fnv1a32(routingKey) % laneCount;
}

export function resolveLane(
  envelope: { readonly tenant_id: string; readonly routing_key?: string | undefined },
  laneCount: number,
): LaneResolution {
  const explicit = envelope.routing_key !== undefined && envelope.routing_key !== '';
  const routingKey = explicit ? (envelope.routing_key as string) : envelope.tenant_id;
  return {
    lane: laneFor(routingKey, laneCount),
    routingKeyUsed: explicit ? 'routing_key' : 'tenant_id',
    routingKey,
  };
}
