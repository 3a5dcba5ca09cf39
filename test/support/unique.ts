/**
 * Unique names so tests never share state: table names (3-63 letters/digits, starting with a
 * letter), tenant ids and the like. Unique across workers and runs (time + process + counter + random).
 */
import { randomBytes } from 'node:crypto';

let counter = 0;

/** A short token of letters and digits, different on every call. */
export function uniqueToken(): string {
  counter += 1;
  return `${Date.now().toString(36)}${process.pid.toString(36)}${counter.toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * A prefix for the tables of one test file or test, e.g. `uniqueTablePrefix('ledger')` →
 * `ledgerlz3k9a1b2c3f00d1e`. Append short suffixes (`Jobs`, `Steps`) to make table names.
 */
export function uniqueTablePrefix(tag: string): string {
  const cleanTag = tag.replace(/[^A-Za-z0-9]/g, '');
  const start = /^[A-Za-z]/.test(cleanTag) ? cleanTag : `t${cleanTag}`;
  // Leave room for a suffix of up to 20 characters within the 63-character limit.
  return `${start.slice(0, 16)}${uniqueToken()}`.slice(0, 43);
}

export function uniqueTableName(tag: string, suffix = ''): string {
  const name = `${uniqueTablePrefix(tag)}${suffix.replace(/[^A-Za-z0-9]/g, '')}`;
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) throw new RangeError(`not a valid table name: ${name}`);
  return name;
}

/** A tenant id no other test uses. */
export function uniqueTenantId(tag = 'tenant'): string {
  return `${tag}-${uniqueToken()}`;
}
