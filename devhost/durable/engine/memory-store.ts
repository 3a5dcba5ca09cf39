/** The in-memory DurableStore: the default for tests and for devhost without Table Storage. */
import type { CommitHook } from './crash-points';
import { commitInSteps } from './episode-commit';
import type { StoredEvent } from './history';
import type {
  DurableStore,
  EpisodeCommit,
  InboxMessage,
  InstanceRecord,
  InstanceState,
  WorkItem,
} from './store';

export class MemoryDurableStore implements DurableStore {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly histories = new Map<string, StoredEvent[]>();
  private readonly work = new Map<string, WorkItem>();

  async init(): Promise<void> {}

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return copy(this.instances.get(instanceId));
  }

  // The steps below call this store's own methods through `this`, so a wrapper (a test's dying
  // store) sees each of them.
  async readInstanceState(instanceId: string): Promise<InstanceState | undefined> {
    const record = await this.getInstance(instanceId);
    if (record === undefined) return undefined;
    return { record, history: await this.getHistory(instanceId, record.executionId) };
  }

  /** Reading the map is free: nothing is kept besides it. */
  knownStatus(): undefined {
    return undefined;
  }

  async createInstance(record: InstanceRecord, start: InboxMessage, reached: CommitHook): Promise<void> {
    await this.putWork(start);
    reached('start');
    await this.putInstance(record);
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

  commitEpisode(commit: EpisodeCommit, reached: CommitHook): Promise<void> {
    return commitInSteps(this, reached, commit);
  }

  async putWork(item: WorkItem): Promise<void> {
    this.work.set(item.key, copy(item));
  }

  async replaceWork(next: WorkItem, done: WorkItem, reached: () => void): Promise<void> {
    await this.putWork(next);
    reached();
    await this.deleteWork(done);
  }

  async deleteWork(item: Pick<WorkItem, 'instanceId' | 'key'>): Promise<void> {
    this.work.delete(item.key);
  }

  async listWork(instanceId?: string): Promise<WorkItem[]> {
    return [...this.work.values()]
      .filter((w) => instanceId === undefined || w.instanceId === instanceId)
      .map((w) => copy(w));
  }
}

function historyKey(instanceId: string, executionId: string): string {
  return `${instanceId}\u0000${executionId}`;
}

/** Stored values are JSON, as in any real store: callers never share objects with the store. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
