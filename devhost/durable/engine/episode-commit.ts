/**
 * How an episode commits: its new work (idempotent keys, stamped with the episode), then its
 * history, whose last event (OrchestratorCompleted carrying the episode's id) is the commit point,
 * then the instance row, then the deletion of the messages it consumed. The crash hook is called
 * after each step (crash-points.ts).
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
import type { DurableStore, InstanceRecord, WorkItem } from './store';

export interface EpisodeCommit {
  readonly instanceId: string;
  readonly executionId: string;
  /** Where the new events go in the execution's history (its length before the episode). */
  readonly fromIndex: number;
  readonly newEvents: readonly StoredEvent[];
  readonly newWork: readonly WorkItem[];
  readonly record: InstanceRecord;
  /** Keys of the inbox messages the episode applied or discarded. */
  readonly consumed: ReadonlySet<string>;
}

export async function commitEpisode(
  store: DurableStore,
  reached: CommitHook,
  commit: EpisodeCommit,
): Promise<void> {
  for (const [i, item] of commit.newWork.entries()) {
    await store.putWork(item);
    if (i === 0) reached('work-first');
  }
  if (commit.newWork.length > 0) reached('work');
  if (commit.newEvents.length > 0) {
    await store.putHistory(commit.instanceId, commit.executionId, commit.fromIndex, commit.newEvents, () =>
      reached('history-batch'),
    );
    reached('history');
  }
  await store.putInstance(commit.record);
  reached('instance');
  for (const key of commit.consumed) {
    await store.deleteWork(key);
    reached('consumed-first');
  }
}
