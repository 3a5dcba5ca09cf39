/**
 * The instance an episode works on, and its current execution's history, as the store has them once
 * the leftovers of a crash in an earlier commit are sorted out:
 *  - a sub-orchestration's start message creates (or replaces) the instance row;
 *  - a continue-as-new whose new work was saved but not the instance row moves the row to the new
 *    execution;
 *  - a row saved before its episode's history caught up with is brought up to date from the history;
 *  - history events after the last commit mark (an episode cut short between the transactions of
 *    its history) are left out: that episode runs again.
 */
import { HistoryEventType, committedHistory, type StoredEvent } from './history';
import type { DurableStore, InboxMessage, InstanceRecord } from './store';

export interface LoadedInstance {
  readonly record: InstanceRecord;
  readonly history: StoredEvent[];
  /** The row was made from a sub-orchestration's start message (it is not stored yet). */
  readonly created: boolean;
}

/** Undefined when the instance does not exist (purged, or never started). */
export async function loadInstance(
  store: DurableStore,
  instanceId: string,
  batch: readonly InboxMessage[],
  now: Date,
): Promise<LoadedInstance | undefined> {
  const state = await store.readInstanceState(instanceId);
  let loaded = state?.record;
  const creation = batch.find((m) => m.create !== undefined && m.executionId !== loaded?.executionId);
  let created = false;
  if (creation?.create !== undefined && creation.executionId !== undefined) {
    created = true;
    if (loaded !== undefined) await store.deleteInstance(instanceId);
    const { create } = creation;
    loaded = {
      instanceId,
      name: create.name,
      executionId: creation.executionId,
      runtimeStatus: 'Pending',
      ...(create.input === undefined ? {} : { input: create.input }),
      ...(create.version === undefined ? {} : { version: create.version }),
      createdTime: now.toISOString(),
      lastUpdatedTime: now.toISOString(),
      parent: create.parent,
      ...(create.retry ? { parentRetry: create.retry } : {}),
    };
  }
  // A crash after a continue-as-new episode saved its new work but before it saved the instance
  // record: the record is still on the old execution. Move it to the new one.
  const continuation = batch.find(
    (m) =>
      m.continuedFrom !== undefined && m.continuedFrom === loaded?.executionId && m.executionId !== undefined,
  );
  if (loaded !== undefined && continuation?.executionId !== undefined) {
    const startedInput = continuation.event?.Input;
    const { output: _o, input: _i, ...rest } = loaded;
    loaded = {
      ...rest,
      ...(typeof startedInput === 'string' ? { input: startedInput } : {}),
      executionId: continuation.executionId,
      runtimeStatus: 'Running',
    };
  }
  if (loaded === undefined) return undefined;
  // The state read above has the history of the execution its row was on; a row made or moved here
  // is on another one.
  const stored =
    !created && state !== undefined && state.record.executionId === loaded.executionId
      ? state.history
      : await store.getHistory(instanceId, loaded.executionId);
  const history = committedHistory(stored);
  let record = catchUpWithHistory(loaded, history);
  // A crash after the first episode saved its history but before it saved the instance record
  // leaves the record Pending although the execution has started.
  if (
    record.runtimeStatus === 'Pending' &&
    history.some((h) => h.event.EventType === HistoryEventType.ExecutionStarted)
  )
    record = { ...record, runtimeStatus: 'Running' };
  return { record, history, created };
}

/**
 * The instance row is stored after the history, so a crash between the two leaves the row behind:
 * the status, output and custom status of the episodes after the row's `episode` are taken from the
 * history (an instance that finished in that episode would otherwise stay Running).
 */
function catchUpWithHistory(record: InstanceRecord, history: readonly StoredEvent[]): InstanceRecord {
  const marks = history.flatMap((stored, i) => (stored.episode === undefined ? [] : [i]));
  const last = marks.at(-1);
  if (last === undefined || history[last]?.episode === record.episode) return record;
  const from =
    history.findIndex((stored) => stored.episode !== undefined && stored.episode === record.episode) + 1;
  let next: InstanceRecord = { ...record, episode: history[last]?.episode as string };
  for (const { event, customStatus } of history.slice(from, last + 1)) {
    if (customStatus !== undefined) next = { ...next, customStatus };
    switch (event.EventType) {
      case HistoryEventType.ExecutionStarted:
      case HistoryEventType.ExecutionResumed:
        next = { ...next, runtimeStatus: 'Running' };
        break;
      case HistoryEventType.ExecutionSuspended:
        next = { ...next, runtimeStatus: 'Suspended' };
        break;
      case HistoryEventType.ExecutionTerminated:
        next = { ...next, runtimeStatus: 'Terminated', output: JSON.stringify(event.Input ?? '') };
        break;
      case HistoryEventType.ExecutionCompleted:
        if (event.OrchestrationStatus === 'Completed' || event.OrchestrationStatus === 'Failed')
          next = { ...next, runtimeStatus: event.OrchestrationStatus, output: String(event.Result) };
        break;
      default:
        break;
    }
  }
  return next;
}
