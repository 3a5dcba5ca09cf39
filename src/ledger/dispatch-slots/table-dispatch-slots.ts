/**
 * DispatchSlots on Azure Table Storage: one row per (lane, step type) in the sweep table (the `table`
 * backend's `LuciusSweep`, or the `ledger` backend's single table), partition `SLOTS|{lane}` (lane
 * padded to 4 digits, so the lease sweeper of a shard reads one partition), row key the step type.
 * Properties: `lane`, `stepType`, and `holders`, `waiting`, `turns` as JSON (split over several
 * properties when long, as the ledger stores large values).
 *
 * `update` reads the row, applies the pure change and writes it back conditionally: inserted when it
 * was absent, replaced with If-Match on the ETag read otherwise. A lost precondition (another writer
 * in between) reads and applies again, up to MAX_CONFLICTS times with a short random pause, then
 * fails with LedgerUnavailableError (retryable: the activity is retried).
 */
import { odata } from '@azure/data-tables';
import { setTimeout as delay } from 'node:timers/promises';
import {
  emptySlotRow,
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
import { StorageTable, type Entity, type EntityProps, type RowKeys } from '../table-support/storage-table';
import { createTableClient, tableCreator, type TableStorageOptions } from '../table-support/table-clients';

export const SLOT_PARTITION_PREFIX = 'SLOTS|';
/** Conflicting writers one update outlasts before giving up (retryable). */
const MAX_CONFLICTS = 50;

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

  constructor(options: TableDispatchSlotsOptions) {
    const client = createTableClient(options, options.table);
    this.table = new StorageTable(client);
    this.ensureTable = tableCreator([client]);
  }

  async update<T>(key: SlotKey, change: (row: SlotRow) => SlotChange<T>): Promise<T> {
    await this.ensureTable();
    const keys = slotRowKeys(key);
    for (let conflicts = 0; ; conflicts += 1) {
      const stored = await this.table.read(keys);
      const outcome = change(stored === undefined ? emptySlotRow(key) : rowFromEntity(stored));
      if (!outcome.changed) return outcome.result;
      const entity = rowToEntity(outcome.row, keys);
      const written =
        stored === undefined
          ? await this.table.insert(entity)
          : await this.table.replace(entity, stored.etag);
      if (written.ok) return outcome.result;
      if (conflicts >= MAX_CONFLICTS)
        throw new LedgerUnavailableError(
          `the dispatch slots of lane ${key.lane} / ${key.stepType} kept changing under ${MAX_CONFLICTS} writes`,
        );
      await delay(5 + Math.floor(Math.random() * 20));
    }
  }

  async rowsOfLane(lane: number): Promise<readonly SlotRow[]> {
    await this.ensureTable();
    const rows = await this.table.queryAll(odata`PartitionKey eq ${slotPartition(lane)}`);
    return rows.map(rowFromEntity);
  }
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
