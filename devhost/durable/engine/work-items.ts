/** Work items the engine builds in more than one place, and their delivery order. */
import { HistoryEventType, historyEvent } from './history';
import type { InboxMessage, WorkItem } from './store';

/** The orchestration an ExecutionStarted message starts. */
export interface ExecutionStart {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  /** JSON text. */
  readonly input?: string;
  /** The orchestration version (ExecutionStarted's `Version`); none when unversioned. */
  readonly version?: string;
}

/** The message that starts an execution: its ExecutionStarted event, keyed by the execution. */
export function startMessage(
  start: ExecutionStart,
  seq: number,
  now: Date,
  extra: Partial<InboxMessage> = {},
): InboxMessage {
  const { instanceId, executionId, name, input, version } = start;
  return {
    kind: 'message',
    key: `start|${instanceId}|${executionId}`,
    instanceId,
    executionId,
    seq,
    event: historyEvent(HistoryEventType.ExecutionStarted, now, {
      Name: name,
      ...(version === undefined ? {} : { Version: version }),
      ...(input === undefined ? {} : { Input: input }),
    }),
    ...extra,
  };
}

/** Delivery order: inbox messages by `seq`; activities and timers have none (0). */
export function bySeq(a: WorkItem, b: WorkItem): number {
  const sa = a.kind === 'message' ? a.seq : 0;
  const sb = b.kind === 'message' ? b.seq : 0;
  return sa - sb;
}
