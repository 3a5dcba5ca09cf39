/** The in-memory DurableStore: the default for tests and for devhost without Table Storage. */
import type { StoredEvent } from './history';
import type { DurableStore, InstanceRecord, WorkItem } from './store';

export class MemoryDurableStore implements DurableStore {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly histories = new Map<string, StoredEvent[]>();
  private readonly work = new Map<string, WorkItem>();

  async init(): Promise<void> {}

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return copy(this.instances.get(instanceId));
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    this.instances.set(record.instanceId, copy(record));
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return [...this.instances.values()].map((r) => copy(r));
  }

  async deleteInstance(instanceId: string): Promise<void> {
    this.instances.delete(instanceId);
    for (const key of [...this.histories.keys()])
      if (key.startsWith(`${instanceId}\u0000`)) this.histories.delete(key);
  }

  async getHistory(instanceId: string, executionId: string): Promise<StoredEvent[]> {
    return copy(this.histories.get(historyKey(instanceId, executionId)) ?? []);
  }

  async putHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly StoredEvent[],
  ): Promise<void> {
    const key = historyKey(instanceId, executionId);
    const history = this.histories.get(key) ?? [];
    events.forEach((event, i) => (history[fromIndex + i] = copy(event)));
    this.histories.set(key, history);
  }

  async putWork(item: WorkItem): Promise<void> {
    this.work.set(item.key, copy(item));
  }

  async deleteWork(key: string): Promise<void> {
    this.work.delete(key);
  }

  async listWork(): Promise<WorkItem[]> {
    return [...this.work.values()].map((w) => copy(w));
  }
}

function historyKey(instanceId: string, executionId: string): string {
  return `${instanceId}\u0000${executionId}`;
}

/** Stored values are JSON, as in any real store: callers never share objects with the store. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
