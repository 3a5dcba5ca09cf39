/**
 * DispatchSlots on Azure Table Storage: one row per (lane, step type) in the sweep table (the `table`
 * backend's `LuciusSweep`, or the `ledger` backend's single table), partition `SLOTS|{lane}` (lane
 * padded to 4 digits, so the lease sweeper of a shard reads one partition), row key the step type.
 * Properties: `lane`, `stepType`, and `holders`, `waiting`, `turns` as JSON (split over several
 * properties when long, as the ledger stores large values).
 *
 * `update` applies the pure change to the row and writes it back conditionally: inserted when it was
 * absent, replaced with If-Match on its ETag otherwise. The row decided on is the one this process
 * last wrote or read (with its ETag), so a change costs one round trip; only when it remembers none
 * is the row read first. A lost precondition (another process wrote in between) comes back with the
 * row as it now is, and the change is applied again on it, up to MAX_CONFLICTS times with a short
 * random pause, then fails with LedgerUnavailableError (retryable: the activity is retried). A change
 * that would write nothing on a remembered row proves nothing: the row is read and it is decided
 * again.
 *
 * Group commit: the updates of one row in this process never collide with each other. While a write
 * of the row is in flight, the changes that arrive queue up; the next write applies them all, in the
 * order they came, each on the row as the one before left it, and answers each caller its own result
 * (or its own error), exactly as if they had been written one by one. A lost precondition applies
 * the whole group again on the row as it now is.
 */
import { odata } from '@azure/data-tables';
import { setTimeout as delay } from 'node:timers/promises';
import {
  emptySlotRow,
  slotKeyName,
  type SlotChange,
  type SlotHolder,
  type SlotKey,
  type SlotRow,
  type SlotWaiter,
} from '../../domain/dispatch-slots';
import { isStepType } from '../../domain/step';
import type { DispatchSlots } from '../../ports/dispatch-slots';
import { LedgerUnavailableError } from '../errors';
import { getJson, putJson } from '../table-support/entity-mapping';
import { KeyedGroups, type GroupAnswer } from '../table-support/keyed-groups';
import {
  StorageTable,
  type Entity,
  type EntityProps,
  type RowKeys,
  type StoredEntity,
} from '../table-support/storage-table';
import { createTableClient, tableCreator, type TableStorageOptions } from '../table-support/table-clients';

export const SLOT_PARTITION_PREFIX = 'SLOTS|';
/** Conflicting writers one update outlasts before giving up (retryable). */
const MAX_CONFLICTS = 50;
/** Slot rows this process remembers as it last wrote or read them (most recent last). */
const ROW_MEMORY_SIZE = 1_000;
/** Queued changes of one row applied by one write at most. */
const MAX_CHANGES_PER_WRITE = 50;

/** One change of a slot row, as `update` is given it. */
type RowChange = (row: SlotRow) => SlotChange<unknown>;

export interface TableDispatchSlotsOptions extends TableStorageOptions {
  readonly table: string;
}

export function slotPartition(lane: number): string {
  return `${SLOT_PARTITION_PREFIX}${String(lane).padStart(4, '0')}`;
}

export function slotRowKeys(key: SlotKey): RowKeys {
  return { partitionKey: slotPartition(key.lane), rowKey: key.stepType };
}

export class TableDispatchSlots implements DispatchSlots {
  private readonly table: StorageTable;
  private readonly ensureTable: () => Promise<void>;
  /** Each row as this process last wrote or read it, with its ETag (keyed by `slotKeyName`). */
  private readonly known = new Map<string, StoredEntity>();
  /** Changes of each row waiting for its next write (group commit). */
  private readonly groups = new KeyedGroups<RowChange>(MAX_CHANGES_PER_WRITE);

  constructor(options: TableDispatchSlotsOptions) {
    const client = createTableClient(options, options.table);
    this.table = new StorageTable(client);
    this.ensureTable = tableCreator([client]);
  }

  async update<T>(key: SlotKey, change: (row: SlotRow) => SlotChange<T>): Promise<T> {
    await this.ensureTable();
    const name = slotKeyName(key);
    return this.groups.submit<T>(name, change, (group) => this.writeGroup(key, name, group));
  }

  /** Applies `group` in order and writes the row once (decided again on a lost precondition). */
  private async writeGroup(key: SlotKey, name: string, group: readonly RowChange[]): Promise<GroupAnswer[]> {
    const keys = slotRowKeys(key);
    let stored = this.known.get(name);
    // Forgotten until written: a failure leaves nothing remembered that might be out of date.
    this.known.delete(name);
    let fresh = stored === undefined;
    if (fresh) stored = await this.table.read(keys);
    for (let conflicts = 0; ;) {
      const applied = applyInOrder(stored === undefined ? emptySlotRow(key) : rowFromEntity(stored), group);
      if (!applied.changed) {
        if (fresh) {
          this.rememberRow(name, stored);
          return applied.answers;
        }
        stored = await this.table.read(keys);
        fresh = true;
        continue;
      }
      const entity = rowToEntity(applied.row, keys);
      const written =
        stored === undefined
          ? await this.table.insert(entity)
          : await this.table.replace(entity, stored.etag);
      if (written.ok) {
        this.rememberRow(name, { ...entity, etag: written.etag } as StoredEntity);
        return applied.answers;
      }
      // A remembered row that was out of date is no conflict: only a lost race on a read row is.
      if (fresh) {
        conflicts += 1;
        if (conflicts > MAX_CONFLICTS)
          throw new LedgerUnavailableError(
            `the dispatch slots of lane ${key.lane} / ${key.stepType} kept changing under ${MAX_CONFLICTS} writes`,
          );
        await delay(5 + Math.floor(Math.random() * 20));
      }
      stored = written.current;
      fresh = true;
    }
  }

  private rememberRow(name: string, row: StoredEntity | undefined): void {
    this.known.delete(name);
    if (row === undefined || row.etag === '') return;
    if (this.known.size >= ROW_MEMORY_SIZE) {
      const oldest = this.known.keys().next();
      if (oldest.done !== true) this.known.delete(oldest.value);
    }
    this.known.set(name, row);
  }

  async rowsOfLane(lane: number): Promise<readonly SlotRow[]> {
    await this.ensureTable();
    const rows = await this.table.queryAll(odata`PartitionKey eq ${slotPartition(lane)}`);
    return rows.map(rowFromEntity);
  }
}

/**
 * The changes of a group, each on the row the one before left (a change that throws leaves it as it
 * was and answers its error). The write that follows proves the row they started from was current.
 */
function applyInOrder(
  row: SlotRow,
  group: readonly RowChange[],
): { readonly row: SlotRow; readonly changed: boolean; readonly answers: GroupAnswer[] } {
  let current = row;
  let changed = false;
  const answers = group.map((change): GroupAnswer => {
    try {
      const outcome = change(current);
      if (outcome.changed) {
        current = outcome.row;
        changed = true;
      }
      return { ok: true, result: outcome.result };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { row: current, changed, answers };
}

function rowToEntity(row: SlotRow, keys: RowKeys): Entity {
  const entity: EntityProps = { ...keys, lane: row.lane, stepType: row.stepType };
  putJson(entity, 'holders', row.holders);
  putJson(entity, 'waiting', row.waiting);
  putJson(entity, 'turns', row.turns);
  return entity as Entity;
}

function rowFromEntity(entity: EntityProps): SlotRow {
  const stepType = entity['stepType'];
  const lane = entity['lane'];
  if (typeof lane !== 'number' || !isStepType(stepType))
    throw new LedgerUnavailableError(
      `a dispatch slot row is corrupt (lane ${String(lane)}, ${String(stepType)})`,
    );
  return {
    lane,
    stepType,
    holders: (getJson(entity, 'holders') ?? []) as SlotHolder[],
    waiting: (getJson(entity, 'waiting') ?? []) as SlotWaiter[],
    turns: (getJson(entity, 'turns') ?? []) as string[],
  };
}
