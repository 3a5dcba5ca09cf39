/**
 * The Azure Table Storage DurableStore (`@azure/data-tables`; Azurite locally). Everything of an
 * instance lives in one partition of `<prefix>Instances` (PartitionKey = encoded instance id):
 *  - RowKey `''`: the instance row; `Doc` holds the record;
 *  - RowKey `h|<executionId>|<00000000 index>`: its history;
 *  - RowKey `w|<work key>`: work addressed to it: inbox messages, its activities and its timers.
 * So an episode's commit (its history, its row, its own new work and the deletion of the messages it
 * consumed) is one entity-group transaction, conditional on the row's ETag: atomic, and one request
 * (table-instance-cache.ts keeps what an episode needs between episodes). Work for other instances
 * (a sub-orchestration's start, a parent's result) is written before it, one request each.
 *
 * Keys never contain `/ \ # ?` or control characters (see `encodeTableKey`). Each value is stored
 * as JSON in one string property (`Doc`); an instance's input, output and custom status in their own
 * (`Input`, `Output`, `CustomStatus`). A text over one property's 64 KiB goes to `<prefix>Payloads`,
 * in rows of the instance's partition (see table-payloads.ts), so inputs, outputs, activity results
 * and event payloads of many megabytes are stored; a text over `maxPayloadChars` is refused with
 * PayloadTooLargeError.
 */
import type { TableClient, TableServiceClientOptions, TransactionAction } from '@azure/data-tables';
import type { RuntimeStatus } from '../durable-api';
import type { CommitHook } from './crash-points';
import { InstanceConflictError } from './errors';
import type { StoredEvent } from './history';
import type {
  DurableStore,
  EpisodeCommit,
  InboxMessage,
  InstanceRecord,
  InstanceState,
  WorkItem,
} from './store';
import { createTableClient, type TableStorageConnection } from './table-client';
import { TableInstanceCache } from './table-instance-cache';
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

const RECORD_ROW = '';
const INDEX_DIGITS = 8;
/** An entity-group transaction holds at most 100 rows and 4 MiB; strings count two bytes a character. */
const MAX_BATCH_ROWS = 100;
const MAX_BATCH_CHARS = 1_500_000;
/** What a row costs in a transaction besides its strings (keys, property names, framing). */
const ROW_OVERHEAD_CHARS = 500;
/** What a transaction answers when its condition on a row failed: the row moved or went away. */
const CONFLICT_STATUSES = new Set([404, 409, 412]);

interface DocEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly etag?: string;
  readonly Doc?: string;
  readonly [property: string]: unknown;
}

type Row = { partitionKey: string; rowKey: string } & Record<string, unknown>;

/** Makes any string a valid Table key: percent-encoding with `~` for `%` (so no `/ \ # ?`). */
export function encodeTableKey(value: string): string {
  return encodeURIComponent(value).replace(/~/g, '%7E').replace(/'/g, '%27').replace(/%/g, '~');
}

export function decodeTableKey(key: string): string {
  return decodeURIComponent(key.replace(/~/g, '%'));
}

function historyPrefix(executionId: string): string {
  return `h|${encodeTableKey(executionId)}|`;
}

function workRow(key: string): string {
  return `w|${encodeTableKey(key)}`;
}

/** Every work row sorts in [`w|`, `w}`): `|` < `}`. */
const WORK_ROWS = `RowKey ge 'w|' and RowKey lt 'w}'`;

export class TableDurableStore implements DurableStore {
  private readonly instances: TableClient;
  private readonly payloadTable: TableClient;
  private readonly payloads: TablePayloads;
  private readonly cache = new TableInstanceCache();
  private initialised: Promise<void> | undefined;

  constructor(options: TableDurableStoreOptions) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,50}$/.test(options.tablePrefix))
      throw new RangeError(
        `tablePrefix must be letters and digits starting with a letter: ${options.tablePrefix}`,
      );
    const client = (suffix: string): TableClient =>
      createTableClient(options.connection, `${options.tablePrefix}${suffix}`, options.clientOptions);
    this.instances = client('Instances');
    this.payloadTable = client('Payloads');
    this.payloads = new TablePayloads(
      this.payloadTable,
      options.maxPayloadChars ?? DEFAULT_MAX_PAYLOAD_CHARS,
    );
  }

  init(): Promise<void> {
    this.initialised ??= Promise.all([this.instances.createTable(), this.payloadTable.createTable()]).then(
      () => undefined,
      (error: unknown) => {
        this.initialised = undefined;
        throw error;
      },
    );
    return this.initialised;
  }

  // ---- instances -----------------------------------------------------------------------------

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return (await this.readRow(instanceId))?.record;
  }

  private async readRow(instanceId: string): Promise<{ record: InstanceRecord; etag: string } | undefined> {
    try {
      const entity = await this.instances.getEntity<DocEntity>(encodeTableKey(instanceId), RECORD_ROW);
      return { record: await this.toRecord(entity), etag: entity.etag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async readInstanceState(instanceId: string): Promise<InstanceState | undefined> {
    const cached = this.cache.get(instanceId);
    if (cached !== undefined) return { record: cached.record, history: [...cached.history] };
    const row = await this.readRow(instanceId);
    if (row === undefined) return undefined;
    const history = await this.getHistory(instanceId, row.record.executionId);
    this.cache.set(instanceId, { ...row, history: [...history] });
    return { record: row.record, history };
  }

  knownStatus(instanceId: string): RuntimeStatus | undefined {
    return this.cache.peek(instanceId)?.record.runtimeStatus;
  }

  async createInstance(record: InstanceRecord, start: InboxMessage, reached: CommitHook): Promise<void> {
    const response = await this.instances.submitTransaction([
      ['upsert', await this.workEntity(start), 'Replace'],
      ['upsert', await this.recordEntity(record), 'Replace'],
    ]);
    reached('start');
    // A new execution id: its history is empty.
    const etag = response.subResponses[1]?.etag;
    if (etag !== undefined) this.cache.settle(record.instanceId, { record, etag, history: [] });
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    this.cache.forget(record.instanceId);
    await this.instances.upsertEntity(await this.recordEntity(record), 'Replace');
  }

  private async recordEntity(record: InstanceRecord): Promise<Row> {
    const pk = encodeTableKey(record.instanceId);
    const rest: Record<string, unknown> = { ...record };
    let fields = {};
    for (const [name, property] of RECORD_FIELDS) {
      const value = record[name];
      delete rest[name];
      if (value !== undefined) fields = { ...fields, ...(await this.payloads.pack(pk, property, value)) };
    }
    return {
      partitionKey: pk,
      rowKey: RECORD_ROW,
      ...(await this.payloads.pack(pk, 'Doc', JSON.stringify(rest))),
      ...fields,
      RuntimeStatus: record.runtimeStatus,
      CreatedTime: record.createdTime,
    };
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const out: InstanceRecord[] = [];
    for await (const entity of this.instances.listEntities<DocEntity>({
      queryOptions: { filter: `RowKey eq '${RECORD_ROW}'` },
    }))
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
    this.cache.forget(instanceId);
    const pk = encodeTableKey(instanceId);
    const rows: string[] = [];
    // The row and the history sort before the work (`w|`), which stays.
    for await (const entity of this.instances.listEntities<DocEntity>({
      queryOptions: { filter: `PartitionKey eq '${pk}' and RowKey lt 'w|'`, select: ['RowKey'] },
    }))
      rows.push(entity.rowKey);
    for (const rowKey of rows.filter((r) => r !== RECORD_ROW))
      await deleteIgnoringMissing(this.instances, pk, rowKey);
    await deleteIgnoringMissing(this.instances, pk, RECORD_ROW);
    await this.payloads.deletePartition(pk);
  }

  // ---- history -------------------------------------------------------------------------------

  async getHistory(instanceId: string, executionId: string): Promise<StoredEvent[]> {
    const pk = encodeTableKey(instanceId);
    const prefix = historyPrefix(executionId);
    const events: StoredEvent[] = [];
    for await (const entity of this.instances.listEntities<DocEntity>({
      queryOptions: {
        filter: `PartitionKey eq '${pk}' and RowKey ge '${prefix}' and RowKey lt '${prefix}~~'`,
      },
    }))
      events.push(await this.toDoc<StoredEvent>(pk, entity));
    return events;
  }

  private async historyEntity(
    pk: string,
    executionId: string,
    index: number,
    event: StoredEvent,
  ): Promise<Row> {
    return {
      partitionKey: pk,
      rowKey: `${historyPrefix(executionId)}${String(index).padStart(INDEX_DIGITS, '0')}`,
      ...(await this.payloads.pack(pk, 'Doc', JSON.stringify(event))),
    };
  }

  // ---- episodes ------------------------------------------------------------------------------

  async commitEpisode(commit: EpisodeCommit, reached: CommitHook): Promise<void> {
    const { instanceId } = commit;
    const pk = encodeTableKey(instanceId);
    const cached = this.cache.get(instanceId);
    // Whatever happens next, the entry is set again only once the commit is stored.
    this.cache.forget(instanceId);
    const others = commit.newWork.filter((item) => item.instanceId !== instanceId);
    for (const [i, item] of others.entries()) {
      await this.putWork(item);
      if (i === 0) reached('work-first');
    }
    const work: TransactionAction[] = [];
    for (const item of commit.newWork)
      if (item.instanceId === instanceId) work.push(['upsert', await this.workEntity(item), 'Replace']);
    const history: TransactionAction[] = [];
    for (const [i, event] of commit.newEvents.entries())
      history.push([
        'upsert',
        await this.historyEntity(pk, commit.executionId, commit.fromIndex + i, event),
        'Replace',
      ]);
    const row = await this.recordEntity(commit.record);
    // The row must still be the one the episode read (its ETag), or still absent for a new instance.
    const record: TransactionAction =
      cached === undefined ? ['create', row] : ['update', row, 'Replace', { etag: cached.etag }];
    const deletes: TransactionAction[] = [...commit.consumed].map((key) => [
      'delete',
      { partitionKey: pk, rowKey: workRow(key) },
    ]);
    const steps = {
      work: () => {
        if (others.length === 0 && work.length > 0) reached('work-first');
        if (commit.newWork.length > 0) reached('work');
      },
      history: () => {
        if (history.length > 0) reached('history');
      },
      instance: () => reached('instance'),
      consumed: () => {
        if (deletes.length > 0) reached('consumed-first');
      },
    };

    let etag: string | undefined;
    const all = [...work, ...history, record, ...deletes];
    if (fits(all)) {
      etag = await this.submitConditional(instanceId, all, all.indexOf(record));
      steps.work();
      steps.history();
      steps.instance();
      steps.consumed();
    } else {
      // Too much for one transaction: the same order over several, after checking the row (the
      // transactions before the row's are not conditional).
      const current = await this.readRow(instanceId);
      if ((current?.etag ?? 'absent') !== (cached?.etag ?? 'absent'))
        throw new InstanceConflictError(instanceId);
      for (const chunk of chunked(work)) await this.instances.submitTransaction(chunk);
      steps.work();
      const historyChunks = chunked(history);
      const last = historyChunks.pop() ?? [];
      for (const chunk of historyChunks) {
        await this.instances.submitTransaction(chunk);
        reached('history-batch');
      }
      const closing = [...last, record, ...deletes];
      if (fits(closing)) {
        etag = await this.submitConditional(instanceId, closing, last.length);
        steps.history();
        steps.instance();
      } else {
        if (last.length > 0) await this.instances.submitTransaction(last);
        steps.history();
        etag = await this.submitConditional(instanceId, [record], 0);
        steps.instance();
        for (const chunk of chunked(deletes)) await this.submitConditional(instanceId, chunk, -1);
      }
      steps.consumed();
    }

    const sameExecution = commit.record.executionId === commit.executionId;
    const before = cached?.record.executionId === commit.executionId ? cached.history : [];
    if (etag !== undefined && (!sameExecution || before.length === commit.fromIndex))
      this.cache.settle(instanceId, {
        record: commit.record,
        etag,
        history: sameExecution ? [...before, ...commit.newEvents] : [],
      });
  }

  /**
   * Submits one transaction of an instance's partition; a failed condition (or a row gone) is an
   * InstanceConflictError. Returns the ETag of the action at `recordAt`.
   */
  private async submitConditional(
    instanceId: string,
    actions: TransactionAction[],
    recordAt: number,
  ): Promise<string | undefined> {
    try {
      const response = await this.instances.submitTransaction(actions);
      return response.subResponses[recordAt]?.etag;
    } catch (error) {
      if (CONFLICT_STATUSES.has(statusOf(error) ?? 0))
        throw new InstanceConflictError(instanceId, { cause: error });
      throw error;
    }
  }

  // ---- work ----------------------------------------------------------------------------------

  private async workEntity(item: WorkItem): Promise<Row> {
    const pk = encodeTableKey(item.instanceId);
    return {
      partitionKey: pk,
      rowKey: workRow(item.key),
      ...(await this.payloads.pack(pk, 'Doc', JSON.stringify(item))),
    };
  }

  async putWork(item: WorkItem): Promise<void> {
    await this.instances.upsertEntity(await this.workEntity(item), 'Replace');
  }

  async replaceWork(next: WorkItem, done: WorkItem, reached: () => void): Promise<void> {
    if (next.instanceId === done.instanceId) {
      try {
        await this.instances.submitTransaction([
          ['upsert', await this.workEntity(next), 'Replace'],
          ['delete', { partitionKey: encodeTableKey(done.instanceId), rowKey: workRow(done.key) }],
        ]);
        reached();
        return;
      } catch (error) {
        // `done` is gone (its instance was deleted meanwhile): store `next` on its own.
        if (!isNotFound(error)) throw error;
      }
    }
    await this.putWork(next);
    reached();
    await this.deleteWork(done);
  }

  async deleteWork(item: Pick<WorkItem, 'instanceId' | 'key'>): Promise<void> {
    await deleteIgnoringMissing(this.instances, encodeTableKey(item.instanceId), workRow(item.key));
  }

  async listWork(instanceId?: string): Promise<WorkItem[]> {
    const out: WorkItem[] = [];
    const filter =
      instanceId === undefined
        ? WORK_ROWS
        : `PartitionKey eq '${encodeTableKey(instanceId)}' and ${WORK_ROWS}`;
    for await (const entity of this.instances.listEntities<DocEntity>({ queryOptions: { filter } })) {
      // A work item's large payload lives in its instance's partition; one whose instance was
      // deleted after it was written (a finished instance's late message) is dropped.
      try {
        out.push(await this.toDoc<WorkItem>(entity.partitionKey, entity));
      } catch (error) {
        if (!(error instanceof MissingPayloadError)) throw error;
        await deleteIgnoringMissing(this.instances, entity.partitionKey, entity.rowKey);
      }
    }
    return out;
  }
}

/** Whether `actions` fit in one entity-group transaction. */
function fits(actions: readonly TransactionAction[]): boolean {
  return actions.length <= MAX_BATCH_ROWS && actions.reduce((n, a) => n + charsOf(a), 0) <= MAX_BATCH_CHARS;
}

/** `actions` in order, in transactions that fit. */
function chunked(actions: readonly TransactionAction[]): TransactionAction[][] {
  const chunks: TransactionAction[][] = [];
  let chunk: TransactionAction[] = [];
  for (const action of actions) {
    if (chunk.length > 0 && !fits([...chunk, action])) {
      chunks.push(chunk);
      chunk = [];
    }
    chunk.push(action);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function charsOf(action: TransactionAction): number {
  let chars = ROW_OVERHEAD_CHARS;
  for (const value of Object.values(action[1])) if (typeof value === 'string') chars += value.length;
  return chars;
}

async function deleteIgnoringMissing(client: TableClient, pk: string, rk: string): Promise<void> {
  try {
    await client.deleteEntity(pk, rk);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}
