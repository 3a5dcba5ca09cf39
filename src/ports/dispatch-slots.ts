/**
 * The DispatchSlots port: the store of the flow-control rows, one per (lane, step type), each
 * holding the steps whose directives are outstanding there and the steps waiting for a slot
 * (src/domain/dispatch-slots.ts decides every change; the store only keeps rows consistent).
 */
import type { SlotChange, SlotKey, SlotRow } from '../domain/dispatch-slots';

export interface DispatchSlots {
  /**
   * Reads the row of `key` (empty when never written), applies `change` and stores the row it
   * answers when `changed`, atomically: a concurrent writer makes the store read and apply again
   * (optimistic concurrency), so `change` must be pure. Answers `change`'s result.
   */
  update<T>(key: SlotKey, change: (row: SlotRow) => SlotChange<T>): Promise<T>;
  /** The rows of one lane (the lease sweeper's shard), one per step type that has one. */
  rowsOfLane(lane: number): Promise<readonly SlotRow[]>;
}
