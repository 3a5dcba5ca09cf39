/**
 * Lock tokens on the wire. @azure/service-bus reads a message's lock token from the AMQP delivery tag:
 * 16 bytes of a .NET `Guid` (first three groups little-endian), which it byte-swaps back and formats
 * as a GUID string (`reorderLockToken` + `uuid_to_string`). In `$management` requests and responses
 * lock tokens are AMQP `uuid`s in plain (big-endian) order.
 *
 * The broker's lock tokens are used as they are when they already are GUIDs; any other token is given
 * a GUID alias here, so the AMQP layer does not depend on the broker's token format.
 */
import { generate_uuid, string_to_uuid, uuid_to_string } from 'rhea';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class LockTokens {
  private readonly wireByBroker = new Map<string, string>();
  private readonly brokerByWire = new Map<string, string>();

  /** The GUID the client sees for a broker lock token. */
  toWire(brokerToken: string): string {
    if (GUID.test(brokerToken)) return brokerToken.toLowerCase();
    let wire = this.wireByBroker.get(brokerToken);
    if (wire === undefined) {
      wire = generate_uuid();
      this.wireByBroker.set(brokerToken, wire);
      this.brokerByWire.set(wire, brokerToken);
    }
    return wire;
  }

  /** The broker lock token for a GUID the client sent back. */
  toBroker(wireToken: string): string {
    return this.brokerByWire.get(wireToken.toLowerCase()) ?? wireToken.toLowerCase();
  }

  /** Forgets an alias once its lock is gone (completed, dead-lettered, ...). */
  release(wireToken: string): void {
    const brokerToken = this.brokerByWire.get(wireToken);
    if (brokerToken === undefined) return;
    this.brokerByWire.delete(wireToken);
    this.wireByBroker.delete(brokerToken);
  }
}

/** The delivery tag carrying a lock token (.NET Guid byte order). */
export function lockTokenToDeliveryTag(wireToken: string): Buffer {
  return swapGuidByteOrder(string_to_uuid(wireToken));
}

/** A GUID string from an AMQP uuid (plain byte order), as `$management` carries lock tokens. */
export function lockTokenFromUuid(uuid: Buffer): string {
  return uuid_to_string(uuid).toLowerCase();
}

export function lockTokenToUuid(wireToken: string): Buffer {
  return string_to_uuid(wireToken);
}

function swapGuidByteOrder(bytes: Buffer): Buffer {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((index) => bytes[index] ?? 0));
}
