/**
 * Values too large for one Table Storage property (64 KiB), as the Azure Storage provider keeps
 * large messages and history payloads in blobs. They go to `<prefix>Payloads`:
 *   PartitionKey = the owner's partition (the encoded instance id), RowKey = `<sha256>|<0000 row>`,
 * each row holding up to ROW_PROPERTIES properties `D0`, `D1`, ... of PROPERTY_CHARS characters.
 * The owning entity carries `<Field>Payload` (the hash) and `<Field>Rows` instead of `<Field>`.
 *
 * Content-addressed: the rows of a text are written before the entity that points at them and never
 * change, so a reader never meets a half-written value, and a text already written by this store
 * (the same input on every episode's instance row) is not written again. Rows live until their
 * instance is deleted (purge, or a new instance on the same id).
 *
 * Every stored text is JSON; non-ASCII characters are written as `\u` escapes (the same JSON value),
 * so a multi-byte character is never split across Azurite's chunk boundaries (see the README).
 */
import { createHash } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { PayloadTooLargeError } from './errors';

/** Characters per string property: 64 KiB of UTF-16, with room to spare. */
export const PROPERTY_CHARS = 30_000;
/** Properties per payload row: about 840 KB of UTF-16, under the 1 MiB entity limit. */
const ROW_PROPERTIES = 14;
const ROW_CHARS = PROPERTY_CHARS * ROW_PROPERTIES;
/** An entity-group transaction holds at most 4 MiB. */
const ROWS_PER_BATCH = 3;
const ROW_DIGITS = 4;

type Properties = Record<string, string | number>;

export class TablePayloads {
  /** `<partition>|<hash>` of texts this store wrote (or read) and that are still there. */
  private readonly known = new Set<string>();

  constructor(
    private readonly client: TableClient,
    /** The largest text accepted, in characters (before escaping). */
    private readonly maxChars: number,
  ) {}

  /** The properties that stand for `text` in its owner's entity, writing its rows if it is large. */
  async pack(partition: string, field: string, text: string): Promise<Properties> {
    if (text.length > this.maxChars) throw new PayloadTooLargeError(text.length, this.maxChars);
    const ascii = toAscii(text);
    if (ascii.length <= PROPERTY_CHARS) return { [field]: ascii };
    const hash = createHash('sha256').update(ascii).digest('hex');
    const rows = Math.ceil(ascii.length / ROW_CHARS);
    const key = `${partition}|${hash}`;
    if (!this.known.has(key)) {
      let batch: TransactionAction[] = [];
      for (let row = 0; row < rows; row += 1) {
        const entity: { partitionKey: string; rowKey: string; [data: string]: string } = {
          partitionKey: partition,
          rowKey: rowKey(hash, row),
        };
        const slice = ascii.slice(row * ROW_CHARS, (row + 1) * ROW_CHARS);
        for (let p = 0; p * PROPERTY_CHARS < slice.length; p += 1)
          entity[`D${p}`] = slice.slice(p * PROPERTY_CHARS, (p + 1) * PROPERTY_CHARS);
        batch.push(['upsert', entity, 'Replace']);
        if (batch.length === ROWS_PER_BATCH) {
          await this.client.submitTransaction(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.client.submitTransaction(batch);
      this.known.add(key);
    }
    return { [`${field}Payload`]: hash, [`${field}Rows`]: rows };
  }

  /** The text `pack` stood for in `entity`; undefined when the entity has no such field. */
  async unpack(
    partition: string,
    field: string,
    entity: Readonly<Record<string, unknown>>,
  ): Promise<string | undefined> {
    const inline = entity[field];
    if (typeof inline === 'string') return inline;
    const hash = entity[`${field}Payload`];
    const rows = entity[`${field}Rows`];
    if (typeof hash !== 'string' || typeof rows !== 'number') return undefined;
    const parts: string[] = [];
    for await (const row of this.client.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: `PartitionKey eq '${partition}' and RowKey ge '${hash}|' and RowKey lt '${hash}|~'`,
      },
    })) {
      for (let p = 0; p < ROW_PROPERTIES && typeof row[`D${p}`] === 'string'; p += 1)
        parts.push(row[`D${p}`] as string);
    }
    const text = parts.join('');
    if (parts.length === 0 || createHash('sha256').update(text).digest('hex') !== hash)
      throw new MissingPayloadError(partition, field, hash);
    this.known.add(`${partition}|${hash}`);
    return text;
  }

  /** Deletes every payload of a partition (its instance is being deleted). */
  async deletePartition(partition: string): Promise<void> {
    const keys: string[] = [];
    for await (const row of this.client.listEntities({
      queryOptions: { filter: `PartitionKey eq '${partition}'`, select: ['RowKey'] },
    }))
      keys.push(row.rowKey as string);
    for (const key of keys) {
      try {
        await this.client.deleteEntity(partition, key);
      } catch (error) {
        if ((error as { statusCode?: unknown }).statusCode !== 404) throw error;
      }
    }
    for (const key of [...this.known]) if (key.startsWith(`${partition}|`)) this.known.delete(key);
  }
}

/** An entity points at payload rows that are gone or incomplete (its instance was deleted meanwhile). */
export class MissingPayloadError extends Error {
  readonly code = 'missing_payload';
  constructor(
    readonly partition: string,
    readonly field: string,
    readonly hash: string,
  ) {
    super(`the stored ${field} ${hash} of partition ${partition} is missing or incomplete`);
  }
}

function rowKey(hash: string, row: number): string {
  return `${hash}|${String(row).padStart(ROW_DIGITS, '0')}`;
}

/** JSON text with every non-ASCII UTF-16 unit as a `\u` escape: the same JSON value. */
export function toAscii(json: string): string {
  // eslint-disable-next-line no-control-regex
  return json.replace(/[^\u0000-\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
