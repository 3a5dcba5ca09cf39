/**
 * The few Table Storage operations the ledger uses, with the SDK's errors translated once:
 *
 * - the outcomes the algorithms branch on come back as values: a missing entity (404) is
 *   `undefined`; a lost precondition (409 on insert, 412 or 404 on a conditional replace) is
 *   `{ ok: false, current }` with the row as it now is, so the caller can decide again at once;
 * - anything else (no connection, 5xx, throttling, auth) is a LedgerUnavailableError with the SDK
 *   error as its cause, so no SDK type escapes the ledger.
 */
import { randomUUID } from 'node:crypto';
import type { TableClient, TableEntity, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { LedgerUnavailableError } from '../errors';
import { describeError } from './table-clients';

export type EntityProps = Record<string, unknown>;
export type Entity = TableEntity<EntityProps>;
export type StoredEntity = TableEntityResult<EntityProps> & { readonly etag: string };

export interface RowKeys {
  readonly partitionKey: string;
  readonly rowKey: string;
}

export type WriteOutcome =
  { readonly ok: true; readonly etag: string } | { readonly ok: false; readonly current?: StoredEntity };

/** One operation of `transact`. */
export type TransactionOp =
  | { readonly kind: 'create'; readonly entity: Entity }
  | { readonly kind: 'replace'; readonly entity: Entity; readonly etag: string }
  /** Inserts or replaces, whatever is there (rows only their owner writes). */
  | { readonly kind: 'upsert'; readonly entity: Entity }
  /**
   * Deletes the row whatever it holds (refused with 404 when absent): the SDK sends a transaction's
   * delete with `If-Match: *` and takes no ETag for it.
   */
  | { readonly kind: 'delete'; readonly keys: RowKeys };

export type TransactionOutcome =
  /** `etags[i]`: the ETag `ops[i]` left (none for a delete). */
  | { readonly ok: true; readonly writeId: string; readonly etags: readonly (string | undefined)[] }
  | { readonly ok: false; readonly writeId: string; readonly status: 409 | 412 | 404 };

/** Property holding a random id per conditional write (see `afterLostPrecondition`). */
export const WRITE_ID = 'writeId';

function stamp(entity: Entity): Entity {
  return { ...entity, [WRITE_ID]: randomUUID() };
}

/** Largest page Table Storage returns. */
export const MAX_PAGE_SIZE = 1000;

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export class StorageTable {
  constructor(private readonly client: TableClient) {}

  get name(): string {
    return this.client.tableName;
  }

  async read(keys: RowKeys): Promise<StoredEntity | undefined> {
    try {
      return (await this.client.getEntity<EntityProps>(keys.partitionKey, keys.rowKey)) as StoredEntity;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.unavailable('read', keys, error);
    }
  }

  /** Inserts; not ok when the entity already exists (`current` is what is there). */
  async insert(entity: Entity): Promise<WriteOutcome> {
    const stamped = stamp(entity);
    try {
      return { ok: true, etag: (await this.client.createEntity(stamped)).etag ?? '' };
    } catch (error) {
      if (statusOf(error) === 409) return this.afterLostPrecondition(stamped);
      throw this.unavailable('insert', entity, error);
    }
  }

  /**
   * Replaces the whole entity if it still has `etag` (If-Match); not ok when it changed or vanished
   * (`current` is the entity as it is now, undefined when gone).
   */
  async replace(entity: Entity, etag: string): Promise<WriteOutcome> {
    const stamped = stamp(entity);
    try {
      return { ok: true, etag: (await this.client.updateEntity(stamped, 'Replace', { etag })).etag ?? '' };
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return this.afterLostPrecondition(stamped);
      throw this.unavailable('replace', entity, error);
    }
  }

  /** Inserts or replaces the whole entity, whatever is there (for rows only their owner writes); its new ETag. */
  async upsert(entity: Entity): Promise<string | undefined> {
    try {
      return (await this.client.upsertEntity(stamp(entity), 'Replace')).etag;
    } catch (error) {
      throw this.unavailable('upsert', entity, error);
    }
  }

  /** Deletes if it still has `etag` (`*`: whatever it holds); false when it changed or is already gone. */
  async delete(keys: RowKeys, etag: string): Promise<boolean> {
    try {
      await this.client.deleteEntity(keys.partitionKey, keys.rowKey, { etag });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return false;
      throw this.unavailable('delete', keys, error);
    }
  }

  /**
   * One entity-group transaction (all or nothing on Azure; max 100 rows of one partition): upserts
   * `companions` (rows nobody else can see or write yet) and inserts `entity`, the commit point.
   * Not ok when `entity` already exists. When the answer came back, `companionEtags[i]` is the ETag
   * of `companions[i]`.
   */
  async insertWithCompanions(
    entity: Entity,
    companions: readonly Entity[],
  ): Promise<WriteOutcome & { readonly companionEtags?: readonly (string | undefined)[] }> {
    if (companions.length === 0) return this.insert(entity);
    const stamped = stamp(entity);
    try {
      const actions: TransactionAction[] = companions.map((companion) => ['upsert', companion, 'Replace']);
      actions.push(['create', stamped]);
      const response = await this.client.submitTransaction(actions);
      return {
        ok: true,
        etag: response.getResponseForEntity(entity.rowKey)?.etag ?? '',
        // Sub-responses come in the order of the actions (an upsert's does not always name its row).
        companionEtags: companions.map((_, i) => response.subResponses[i]?.etag),
      };
    } catch (error) {
      if (statusOf(error) === 409) return this.afterLostPrecondition(stamped);
      throw this.unavailable('transaction', entity, error);
    }
  }

  /**
   * One entity-group transaction of `ops` on rows of one partition, all or nothing, with their
   * preconditions (a create fails on an existing row, a replace or delete on another ETag). Every
   * written row carries the same write id (`writeId`), so a caller can tell its own transaction
   * from a rival's after a lost answer. Not ok: the status of the refused operation (409 or 412;
   * 404 for a replace of a missing row).
   */
  async transact(ops: readonly TransactionOp[]): Promise<TransactionOutcome> {
    const writeId = randomUUID();
    const actions = ops.map((op): TransactionAction => {
      switch (op.kind) {
        case 'create':
          return ['create', { ...op.entity, [WRITE_ID]: writeId }];
        case 'replace':
          return ['update', { ...op.entity, [WRITE_ID]: writeId }, 'Replace', { etag: op.etag }];
        case 'upsert':
          return ['upsert', { ...op.entity, [WRITE_ID]: writeId }, 'Replace'];
        case 'delete':
          return ['delete', { partitionKey: op.keys.partitionKey, rowKey: op.keys.rowKey }];
      }
    });
    try {
      const response = await this.client.submitTransaction(actions);
      return { ok: true, writeId, etags: (response.subResponses ?? []).map((r) => r.etag) };
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 412 || status === 404) return { ok: false, writeId, status };
      const first = ops[0];
      const keys =
        first === undefined ? { partitionKey: '', rowKey: '' } : 'keys' in first ? first.keys : first.entity;
      throw this.unavailable('transaction', keys, error);
    }
  }

  /** Inserts rows of one partition in one entity-group transaction; false when one already exists. */
  async insertAll(entities: readonly Entity[]): Promise<boolean> {
    if (entities.length === 0) return true;
    try {
      await this.client.submitTransaction(entities.map((entity): TransactionAction => ['create', entity]));
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw this.unavailable('transaction', entities[0] as Entity, error);
    }
  }

  /** Upserts rows of one partition (Replace mode) in one entity-group transaction. */
  async upsertAll(entities: readonly Entity[]): Promise<void> {
    if (entities.length === 0) return;
    try {
      await this.client.submitTransaction(
        entities.map((entity): TransactionAction => ['upsert', entity, 'Replace']),
      );
    } catch (error) {
      throw this.unavailable('transaction', entities[0] as Entity, error);
    }
  }

  /**
   * A 409/412/404 may also answer our own write: when the first try's response was lost, the SDK
   * retries it and the retry meets the row the first try wrote. The write id tells the two apart,
   * so a counter is not incremented twice and a claim is not mistaken for a rival's.
   */
  private async afterLostPrecondition(stamped: Entity): Promise<WriteOutcome> {
    const current = await this.read(stamped);
    if (current !== undefined && current[WRITE_ID] === stamped[WRITE_ID])
      return { ok: true, etag: current.etag };
    return current === undefined ? { ok: false } : { ok: false, current };
  }

  /**
   * Entities matching `filter` (build it with `odata` so values are escaped; none: every entity), in key order, one SDK
   * page after another; the caller stops iterating when it has enough.
   */
  async *query(filter: string | undefined, pageSize: number = MAX_PAGE_SIZE): AsyncGenerator<StoredEntity> {
    const pages = this.client
      .listEntities<EntityProps>(filter === undefined ? {} : { queryOptions: { filter } })
      .byPage({ maxPageSize: Math.min(pageSize, MAX_PAGE_SIZE) });
    for (;;) {
      let page: IteratorResult<Array<TableEntityResult<EntityProps>>>;
      try {
        page = await pages.next();
      } catch (error) {
        throw new LedgerUnavailableError(
          `query on table ${this.name} failed: ${describeError(error)}`,
          error,
        );
      }
      if (page.done === true) return;
      for (const entity of page.value) yield entity as StoredEntity;
    }
  }

  async queryAll(filter: string | undefined): Promise<StoredEntity[]> {
    const all: StoredEntity[] = [];
    for await (const entity of this.query(filter)) all.push(entity);
    return all;
  }

  /** Asks for at most one row: the cheapest round trip that proves the table answers. */
  async probe(): Promise<void> {
    try {
      // Only the first page: a scan may legitimately return it empty with a continuation.
      await this.client
        .listEntities({ queryOptions: { select: ['PartitionKey'] } })
        .byPage({ maxPageSize: 1 })
        .next();
    } catch (error) {
      throw new LedgerUnavailableError(`table ${this.name} did not answer: ${describeError(error)}`, error);
    }
  }

  private unavailable(operation: string, keys: RowKeys, error: unknown): LedgerUnavailableError {
    return new LedgerUnavailableError(
      `${operation} of (${keys.partitionKey}, ${keys.rowKey}) in table ${this.name} failed: ${describeError(error)}`,
      error,
    );
  }
}
