/**
 * The Azure Table Storage DurableStore (`@azure/data-tables`; Azurite locally). Three tables:
 *  - `<prefix>Instances`: PartitionKey = encoded instance id, RowKey = '' ; `Doc` holds the record;
 *  - `<prefix>History`:   PartitionKey = encoded instance id, RowKey = `<executionId>|<000000index>`;
 *  - `<prefix>Work`:      PartitionKey = 'work', RowKey = encoded work key.
 * Keys never contain `/ \ # ?` or control characters (see `encodeTableKey`). Each value is stored
 * as JSON in one string property (`Doc`); an instance's input, output and custom status in their own
 * (`Input`, `Output`, `CustomStatus`). A text over one property's 64 KiB goes to a fourth table,
 * `<prefix>Payloads`, in rows of the instance's partition (see table-payloads.ts), so inputs, outputs,
 * activity results and event payloads of many megabytes are stored; a text over `maxPayloadChars`
 * is refused with PayloadTooLargeError.
 */
import type { TableClient, TableServiceClientOptions, TransactionAction } from '@azure/data-tables';
import type { StoredEvent } from './history';
import type { DurableStore, InstanceRecord, WorkItem } from './store';
import { createTableClient, type TableStorageConnection } from './table-client';
import { MissingPayloadError, TablePayloads } from './table-payloads';

export interface TableDurableStoreOptions {
  readonly connection: TableStorageConnection;
  /** Table name prefix: letters and digits, starting with a letter (e.g. the task hub name). */
  readonly tablePrefix: string;
  readonly clientOptions?: TableServiceClientOptions;
  /** The largest input, output, result or event payload stored, in characters; default 32 Mi. */
  readonly maxPayloadChars?: number;
}

const DEFAULT_MAX_PAYLOAD_CHARS = 32 * 1024 * 1024;
/** The instance record's fields kept in properties of their own (so a large input is written once). */
const RECORD_FIELDS = [
  ['input', 'Input'],
  ['output', 'Output'],
  ['customStatus', 'CustomStatus'],
] as const;

const WORK_PARTITION = 'work';
const INDEX_DIGITS = 8;
/** An entity-group transaction holds at most 100 rows and 4 MiB; strings count two bytes a character. */
const MAX_BATCH_ROWS = 100;
const MAX_BATCH_CHARS = 1_500_000;

interface DocEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly Doc?: string;
  readonly [property: string]: unknown;
}

/** Makes any string a valid Table key: percent-encoding with `~` for `%` (so no `/ \ # ?`). */
export function encodeTableKey(value: string): string {
  return encodeURIComponent(value).replace(/~/g, '%7E').replace(/'/g, '%27').replace(/%/g, '~');
}

export function decodeTableKey(key: string): string {
  return decodeURIComponent(key.replace(/~/g, '%'));
}

export class TableDurableStore implements DurableStore {
  private readonly instances: TableClient;
  private readonly history: TableClient;
  private readonly work: TableClient;
  private readonly payloadTable: TableClient;
  private readonly payloads: TablePayloads;
  private initialised: Promise<void> | undefined;

  constructor(options: TableDurableStoreOptions) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,50}$/.test(options.tablePrefix))
      throw new RangeError(
        `tablePrefix must be letters and digits starting with a letter: ${options.tablePrefix}`,
      );
    const client = (suffix: string): TableClient =>
      createTableClient(options.connection, `${options.tablePrefix}${suffix}`, options.clientOptions);
    this.instances = client('Instances');
    this.history = client('History');
    this.work = client('Work');
    this.payloadTable = client('Payloads');
    this.payloads = new TablePayloads(
      this.payloadTable,
      options.maxPayloadChars ?? DEFAULT_MAX_PAYLOAD_CHARS,
    );
  }

  init(): Promise<void> {
    this.initialised ??= Promise.all([
      this.instances.createTable(),
      this.history.createTable(),
      this.work.createTable(),
      this.payloadTable.createTable(),
    ]).then(
      () => undefined,
      (error: unknown) => {
        this.initialised = undefined;
        throw error;
      },
    );
    return this.initialised;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      const entity = await this.instances.getEntity<DocEntity>(encodeTableKey(instanceId), '');
      return await this.toRecord(entity);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    const pk = encodeTableKey(record.instanceId);
    const rest: Record<string, unknown> = { ...record };
    let fields = {};
    for (const [name, property] of RECORD_FIELDS) {
      const value = record[name];
      delete rest[name];
      if (value !== undefined) fields = { ...fields, ...(await this.payloads.pack(pk, property, value)) };
    }
    await this.instances.upsertEntity(
      {
        partitionKey: pk,
        rowKey: '',
        ...(await this.payloads.pack(pk, 'Doc', JSON.stringify(rest))),
        ...fields,
        RuntimeStatus: record.runtimeStatus,
        CreatedTime: record.createdTime,
      },
      'Replace',
    );
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const out: InstanceRecord[] = [];
    for await (const entity of this.instances.listEntities<DocEntity>())
      out.push(await this.toRecord(entity));
    return out;
  }

  private async toRecord(entity: DocEntity): Promise<InstanceRecord> {
    const pk = entity.partitionKey;
    let record = JSON.parse((await this.payloads.unpack(pk, 'Doc', entity)) ?? '{}') as InstanceRecord;
    for (const [name, property] of RECORD_FIELDS) {
      const value = await this.payloads.unpack(pk, property, entity);
      if (value !== undefined) record = { ...record, [name]: value };
    }
    return record;
  }

  private async toDoc<T>(partition: string, entity: DocEntity): Promise<T> {
    return JSON.parse((await this.payloads.unpack(partition, 'Doc', entity)) ?? 'null') as T;
  }

  async deleteInstance(instanceId: string): Promise<void> {
    const pk = encodeTableKey(instanceId);
    const rows: string[] = [];
    for await (const entity of this.history.listEntities<DocEntity>({
      queryOptions: { filter: `PartitionKey eq '${pk}'`, select: ['RowKey'] },
    }))
      rows.push(entity.rowKey);
    for (const rowKey of rows) await deleteIgnoringMissing(this.history, pk, rowKey);
    await deleteIgnoringMissing(this.instances, pk, '');
    await this.payloads.deletePartition(pk);
  }

  async getHistory(instanceId: string, executionId: string): Promise<StoredEvent[]> {
    const pk = encodeTableKey(instanceId);
    const prefix = `${encodeTableKey(executionId)}|`;
    const events: StoredEvent[] = [];
    for await (const entity of this.history.listEntities<DocEntity>({
      queryOptions: {
        filter: `PartitionKey eq '${pk}' and RowKey ge '${prefix}' and RowKey lt '${prefix}~~'`,
      },
    }))
      events.push(await this.toDoc<StoredEvent>(pk, entity));
    return events;
  }

  async putHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly StoredEvent[],
    partlyWritten?: () => void,
  ): Promise<void> {
    const pk = encodeTableKey(instanceId);
    const prefix = `${encodeTableKey(executionId)}|`;
    // One partition, so an episode's events go in entity-group transactions (atomic on Azure; on
    // Azurite, which may commit a failed batch partially, no worse than the writes one by one: the
    // rows are idempotent upserts). Over 100 rows take several transactions: the episode's last
    // event, its commit mark, is in the last one, so a history cut short reads as not written.
    let written = 0;
    let batch: TransactionAction[] = [];
    let batchChars = 0;
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await this.history.submitTransaction(batch);
      written += batch.length;
      if (written < events.length) partlyWritten?.();
      batch = [];
      batchChars = 0;
    };
    for (const [i, event] of events.entries()) {
      const doc = await this.payloads.pack(pk, 'Doc', JSON.stringify(event));
      const chars = typeof doc.Doc === 'string' ? doc.Doc.length : 100;
      if (batch.length === MAX_BATCH_ROWS || batchChars + chars > MAX_BATCH_CHARS) await flush();
      const rowKey = `${prefix}${String(fromIndex + i).padStart(INDEX_DIGITS, '0')}`;
      batch.push(['upsert', { partitionKey: pk, rowKey, ...doc }, 'Replace']);
      batchChars += chars;
    }
    await flush();
  }

  async putWork(item: WorkItem): Promise<void> {
    const owner = encodeTableKey(item.instanceId);
    await this.work.upsertEntity(
      {
        partitionKey: WORK_PARTITION,
        rowKey: encodeTableKey(item.key),
        Owner: owner,
        ...(await this.payloads.pack(owner, 'Doc', JSON.stringify(item))),
      },
      'Replace',
    );
  }

  async deleteWork(key: string): Promise<void> {
    await deleteIgnoringMissing(this.work, WORK_PARTITION, encodeTableKey(key));
  }

  async listWork(): Promise<WorkItem[]> {
    const out: WorkItem[] = [];
    for await (const entity of this.work.listEntities<DocEntity>({
      queryOptions: { filter: `PartitionKey eq '${WORK_PARTITION}'` },
    })) {
      // A work item's large payload lives in its instance's partition; one whose instance was
      // deleted after it was written (a finished instance's late message) is dropped.
      const owner = typeof entity.Owner === 'string' ? entity.Owner : '';
      try {
        out.push(await this.toDoc<WorkItem>(owner, entity));
      } catch (error) {
        if (!(error instanceof MissingPayloadError)) throw error;
        await deleteIgnoringMissing(this.work, WORK_PARTITION, entity.rowKey);
      }
    }
    return out;
  }
}

async function deleteIgnoringMissing(client: TableClient, pk: string, rk: string): Promise<void> {
  try {
    await client.deleteEntity(pk, rk);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: unknown } | undefined)?.statusCode === 404;
}
