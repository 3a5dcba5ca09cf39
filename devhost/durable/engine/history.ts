/**
 * History events as the Durable extension hands them to an out-of-process orchestrator
 * (`EventType` is the numeric HistoryEventType of durable-functions; payloads are JSON strings),
 * and their display shape for `GET instances/{id}?showHistory=true` (EventType as a name,
 * OrchestratorStarted/Completed left out, TaskScheduled folded into its completion).
 */

/** Mirrors durable-functions' HistoryEventType. */
export enum HistoryEventType {
  ExecutionStarted = 0,
  ExecutionCompleted = 1,
  ExecutionFailed = 2,
  ExecutionTerminated = 3,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  SubOrchestrationInstanceCreated = 7,
  SubOrchestrationInstanceCompleted = 8,
  SubOrchestrationInstanceFailed = 9,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventSent = 14,
  EventRaised = 15,
  ContinueAsNew = 16,
  GenericEvent = 17,
  HistoryState = 18,
  ExecutionSuspended = 19,
  ExecutionResumed = 20,
}

/** One history event on the wire: the common fields plus the per-type ones (Name, Input, Result, ...). */
export interface HistoryEvent {
  readonly EventType: HistoryEventType;
  /** The task sequence number for scheduling events (TaskScheduled, TimerCreated, ...), else -1. */
  readonly EventId: number;
  readonly IsPlayed: boolean;
  /** ISO 8601. */
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

/** A history event as the engine keeps it: the event plus bookkeeping the orchestrator never sees. */
export interface StoredEvent {
  readonly event: HistoryEvent;
  /** The inbox message this event came from (so a re-delivered message is applied once). */
  readonly messageKey?: string;
  /** Set on scheduling events the engine created itself for a retry (no orchestrator action behind them). */
  readonly retry?: boolean;
  /** On an episode's closing OrchestratorCompleted: the episode's id (its commit mark). */
  readonly episode?: string;
  /** On an episode's closing OrchestratorCompleted: the instance's custom status then (JSON text). */
  readonly customStatus?: string;
}

export function historyEvent(
  type: HistoryEventType,
  timestamp: Date,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return {
    EventType: type,
    EventId: eventId,
    IsPlayed: false,
    Timestamp: timestamp.toISOString(),
    ...fields,
  };
}

/** Scheduling events take a task sequence number that the SDK's replay assigns in the same order. */
export function isSchedulingEvent(event: HistoryEvent): boolean {
  return (
    event.EventType === HistoryEventType.TaskScheduled ||
    event.EventType === HistoryEventType.TimerCreated ||
    event.EventType === HistoryEventType.SubOrchestrationInstanceCreated ||
    event.EventType === HistoryEventType.EventSent
  );
}

/**
 * The committed part of a stored history: up to its last episode's commit mark. What follows was
 * written by an episode cut short between the Table transactions of its history (a crash): it never
 * committed, and the episode that runs again writes over it.
 */
export function committedHistory(stored: readonly StoredEvent[]): StoredEvent[] {
  let end = stored.length;
  while (end > 0 && stored[end - 1]?.episode === undefined) end -= 1;
  return stored.slice(0, end);
}

export function nextSequenceNumber(history: readonly StoredEvent[]): number {
  let next = 0;
  for (const { event } of history) if (isSchedulingEvent(event)) next = Math.max(next, event.EventId + 1);
  return next;
}

const OUTPUT_FIELDS = ['Input', 'Result', 'Details'];

/** The extension's HTTP-API shape of a history, oldest first. */
export function toDisplayHistory(
  history: readonly StoredEvent[],
  options: { readonly showHistoryOutput?: boolean } = {},
): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const { event } of history) {
    if (
      event.EventType === HistoryEventType.TaskScheduled ||
      event.EventType === HistoryEventType.SubOrchestrationInstanceCreated
    )
      scheduled.set(event.EventId, event);
  }
  const folded = new Set<number>();
  const out: Record<string, unknown>[] = [];
  for (const { event } of history) {
    if (
      event.EventType === HistoryEventType.OrchestratorStarted ||
      event.EventType === HistoryEventType.OrchestratorCompleted
    )
      continue;
    const { EventType, EventId: _id, IsPlayed: _played, ...rest } = event;
    const shown: Record<string, unknown> = { EventType: HistoryEventType[EventType], ...rest };
    if (typeof event.TaskScheduledId === 'number') {
      const origin = scheduled.get(event.TaskScheduledId);
      if (origin !== undefined) {
        folded.add(origin.EventId);
        shown.FunctionName = origin.Name;
        shown.ScheduledTime = origin.Timestamp;
      }
    }
    if (EventType === HistoryEventType.ExecutionStarted) shown.FunctionName = event.Name;
    if (!options.showHistoryOutput) for (const field of OUTPUT_FIELDS) delete shown[field];
    else
      for (const field of OUTPUT_FIELDS)
        if (typeof shown[field] === 'string') shown[field] = parseJsonOr(shown[field]);
    out.push(shown);
  }
  // Scheduling events that were completed are shown through their completion, as the extension does.
  return out.filter(
    (e, i) =>
      !(
        (e.EventType === 'TaskScheduled' || e.EventType === 'SubOrchestrationInstanceCreated') &&
        folded.has(eventIdOf(history, i))
      ),
  );
}

function eventIdOf(history: readonly StoredEvent[], displayIndex: number): number {
  const shownEvents = history.filter(
    ({ event }) =>
      event.EventType !== HistoryEventType.OrchestratorStarted &&
      event.EventType !== HistoryEventType.OrchestratorCompleted,
  );
  return shownEvents[displayIndex]?.event.EventId ?? -1;
}

export function parseJsonOr(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
