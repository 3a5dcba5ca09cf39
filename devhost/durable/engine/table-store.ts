/**
 * The Azure Table Storage DurableStore (`@azure/data-tables`; Azurite locally). Three tables:
 *  - `<prefix>Instances`: PartitionKey = encoded instance id, RowKey = '' ; `Doc` holds the record;
 *  - `<prefix>History`:   PartitionKey = encoded instance id, RowKey = `<executionId>|<000000index>`;
 *  - `<prefix>Work`:      PartitionKey = 'work', RowKey = encoded work key.
 * Keys never contain `/ \ # ?` or control characters (see `encodeTableKey`). Each value is stored
 * as JSON in one string property, so one event or record must stay under Table Storage's 64 KiB
 * property limit.
 */
import type { TableClient, TableServiceClientOptions, TransactionAction } from '@azure/data-tables';
import {
  createTableClient,
  type TableStorageConnection,
} from '../../../src/ledger/table-support/table-clients';
import type { StoredEvent } from './history';
import type { DurableStore, InstanceRecord, WorkItem } from './store';

export interface TableDurableStoreOptions {
  readonly connection: TableStorageConnection;
  /** Table name prefix: letters and digits, starting with a letter (e.g. the task hub name). */
  readonly tablePrefix: string;
  readonly clientOptions?: TableServiceClientOptions;
}

const WORK_PARTITION = 'work';
const INDEX_DIGITS = 8;
/** An entity-group transaction holds at most 100 rows and 4 MiB; strings count two bytes a character. */
const MAX_BATCH_ROWS = 100;
const MAX_BATCH_CHARS = 1_500_000;

interface DocEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly Doc: string;
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
  private initialised: Promise<void> | undefined;

  constructor(options: TableDurableStoreOptions) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,50}$/.test(options.tablePrefix))
      throw new RangeError(
        `tablePrefix must be letters and digits starting with a letter: ${options.tablePrefix}`,
      );
    const storage = {
      connection: options.connection,
      ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
    };
    this.instances = createTableClient(storage, `${options.tablePrefix}Instances`);
    this.history = createTableClient(storage, `${options.tablePrefix}History`);
    this.work = createTableClient(storage, `${options.tablePrefix}Work`);
  }

  init(): Promise<void> {
    this.initialised ??= Promise.all([
      this.instances.createTable(),
      this.history.createTable(),
      this.work.createTable(),
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
      return JSON.parse(entity.Doc) as InstanceRecord;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    await this.instances.upsertEntity(
      {
        partitionKey: encodeTableKey(record.instanceId),
        rowKey: '',
        Doc: JSON.stringify(record),
        RuntimeStatus: record.runtimeStatus,
        CreatedTime: record.createdTime,
      },
      'Replace',
    );
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const out: InstanceRecord[] = [];
    for await (const entity of this.instances.listEntities<DocEntity>())
      out.push(JSON.parse(entity.Doc) as InstanceRecord);
    return out;
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
      events.push(JSON.parse(entity.Doc) as StoredEvent);
    return events;
  }

  async putHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly StoredEvent[],
  ): Promise<void> {
    const pk = encodeTableKey(instanceId);
    const prefix = `${encodeTableKey(executionId)}|`;
    // One partition, so an episode's events go in entity-group transactions (atomic on Azure; on
    // Azurite, which may commit a failed batch partially, no worse than the writes one by one: the
    // rows are idempotent upserts and the instance record, written after them, is the commit point).
    let batch: TransactionAction[] = [];
    let batchChars = 0;
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await this.history.submitTransaction(batch);
      batch = [];
      batchChars = 0;
    };
    for (const [i, event] of events.entries()) {
      const doc = JSON.stringify(event);
      if (batch.length === MAX_BATCH_ROWS || batchChars + doc.length > MAX_BATCH_CHARS) await flush();
      const rowKey = `${prefix}${String(fromIndex + i).padStart(INDEX_DIGITS, '0')}`;
      batch.push(['upsert', { partitionKey: pk, rowKey, Doc: doc }, 'Replace']);
      batchChars += doc.length;
    }
    await flush();
  }

  async putWork(item: WorkItem): Promise<void> {
    await this.work.upsertEntity(
      { partitionKey: WORK_PARTITION, rowKey: encodeTableKey(item.key), Doc: JSON.stringify(item) },
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
    }))
      out.push(JSON.parse(entity.Doc) as WorkItem);
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
