/**
 * The Table store's memory of the instances it ran episodes of: each one's row as last written or
 * read, with the row's ETag, and its current execution's history. An episode reads from it instead
 * of Table Storage, and commits with the row's ETag as condition: if another process wrote the row
 * meanwhile, the commit fails as a whole (HTTP 412), the entry is dropped and the next episode reads
 * the instance afresh. An instance that finished is dropped once its last episode is stored (see
 * `settle`); at most `limit` instances are kept, the least recently used dropped first. A new
 * process starts empty and reads everything from storage.
 */
import type { StoredEvent } from './history';
import { isRunningStatus } from './instance-status';
import type { InstanceRecord } from './store';

export interface CachedInstance {
  readonly record: InstanceRecord;
  /** The row's ETag as Table Storage returned it with that record. */
  readonly etag: string;
  /** The stored history of `record.executionId`. */
  readonly history: readonly StoredEvent[];
}

const DEFAULT_LIMIT = 1000;

export class TableInstanceCache {
  private readonly entries = new Map<string, CachedInstance>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  get(instanceId: string): CachedInstance | undefined {
    const entry = this.entries.get(instanceId);
    if (entry !== undefined) {
      this.entries.delete(instanceId);
      this.entries.set(instanceId, entry);
    }
    return entry;
  }

  /** The entry, without counting it as a use. */
  peek(instanceId: string): CachedInstance | undefined {
    return this.entries.get(instanceId);
  }

  /** Keeps what was just read (whatever its status: the episode that reads it commits against it). */
  set(instanceId: string, entry: CachedInstance): void {
    this.entries.delete(instanceId);
    this.entries.set(instanceId, entry);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Keeps what an episode just stored, while the instance runs. */
  settle(instanceId: string, entry: CachedInstance): void {
    if (isRunningStatus(entry.record.runtimeStatus)) this.set(instanceId, entry);
    else this.forget(instanceId);
  }

  forget(instanceId: string): void {
    this.entries.delete(instanceId);
  }
}
