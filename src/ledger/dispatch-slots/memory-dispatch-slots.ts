/**
 * DispatchSlots in memory (tests, the in-process backend): one row per (lane, step type) in a map.
 * A change runs synchronously between reading and storing, so concurrent callers never interleave.
 */
import {
  emptySlotRow,
  slotKeyName,
  type SlotChange,
  type SlotKey,
  type SlotRow,
} from '../../domain/dispatch-slots';
import type { DispatchSlots } from '../../ports/dispatch-slots';

export class MemoryDispatchSlots implements DispatchSlots {
  private readonly rows = new Map<string, SlotRow>();

  async update<T>(key: SlotKey, change: (row: SlotRow) => SlotChange<T>): Promise<T> {
    const name = slotKeyName(key);
    const outcome = change(this.rows.get(name) ?? emptySlotRow(key));
    if (outcome.changed) this.rows.set(name, structuredClone(outcome.row));
    return outcome.result;
  }

  async rowsOfLane(lane: number): Promise<readonly SlotRow[]> {
    return [...this.rows.values()].filter((row) => row.lane === lane).map((row) => structuredClone(row));
  }
}
