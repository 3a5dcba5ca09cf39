/**
 * The order of an episode's commit: its new work (idempotent keys, stamped with the episode), then
 * its history, whose last event (OrchestratorCompleted carrying the episode's id) is the commit
 * point, then the instance row, then the deletion of the messages it consumed. The crash hook is
 * called after each step (crash-points.ts). `commitInSteps` does it one write at a time (the memory
 * store); the Table store does the same in one entity-group transaction when it fits, else in this
 * order over several (table-store.ts).
 *
 * A crash before the history is complete leaves work that the next engine drops (the engine's
 * committedWork: its episode's mark is not in the history) and messages that run the episode again;
 * a crash after it leaves a row that the next episode catches up from the history
 * (instance-loading.ts) and messages already in the history, which are discarded. The history may
 * take several Table transactions (at most 100 rows each): until the last one is stored the mark is
 * missing, so a partly written history counts as not written, and the next episode overwrites it.
 */
import type { CommitHook } from './crash-points';
import type { StoredEvent } from './history';
import type { EpisodeCommit, InstanceRecord, WorkItem } from './store';

/** The single writes `commitInSteps` needs. */
export interface StepwiseStore {
  putWork(item: WorkItem): Promise<void>;
  putHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly StoredEvent[],
  ): Promise<void>;
  putInstance(record: InstanceRecord): Promise<void>;
  deleteWork(item: Pick<WorkItem, 'instanceId' | 'key'>): Promise<void>;
}

export async function commitInSteps(
  store: StepwiseStore,
  reached: CommitHook,
  commit: EpisodeCommit,
): Promise<void> {
  for (const [i, item] of commit.newWork.entries()) {
    await store.putWork(item);
    if (i === 0) reached('work-first');
  }
  if (commit.newWork.length > 0) reached('work');
  if (commit.newEvents.length > 0) {
    await store.putHistory(commit.instanceId, commit.executionId, commit.fromIndex, commit.newEvents);
    reached('history');
  }
  await store.putInstance(commit.record);
  reached('instance');
  for (const key of commit.consumed) {
    await store.deleteWork({ instanceId: commit.instanceId, key });
    reached('consumed-first');
  }
}
