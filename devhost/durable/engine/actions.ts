/**
 * The orchestrator's actions (OrchestratorState.actions, as JSON) and what the engine needs from
 * them: the flat list of atomic actions in the order the SDK numbers its tasks, the check that a
 * replay asked for what the history says was scheduled, and the retry backoff.
 *
 * The SDK reports every action the orchestrator yielded since the execution began (replayed ones
 * too); compound WhenAll/WhenAny actions (replay schema V2) are flattened depth-first, which is the
 * order in which the SDK gives task ids.
 */
import { HistoryEventType, isSchedulingEvent, type StoredEvent } from './history';
import type { RetryOptionsWire } from './store';

/** durable-functions' ActionType. */
export enum ActionType {
  CallActivity = 0,
  CallActivityWithRetry = 1,
  CallSubOrchestrator = 2,
  CallSubOrchestratorWithRetry = 3,
  ContinueAsNew = 4,
  CreateTimer = 5,
  WaitForExternalEvent = 6,
  CallEntity = 7,
  CallHttp = 8,
  SignalEntity = 9,
  WhenAny = 11,
  WhenAll = 12,
  LockEntities = 13,
  ReleaseEntities = 14,
}

export interface WireAction {
  readonly actionType: ActionType;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly retryOptions?: RetryOptionsWire;
  readonly instanceId?: string;
  /** CallSubOrchestrator(WithRetry): the version asked for, if any. */
  readonly version?: string;
  readonly fireAt?: string;
  readonly isCanceled?: boolean;
  readonly externalEventName?: string;
  readonly compoundActions?: readonly WireAction[];
}

export function flattenActions(actions: readonly (readonly WireAction[])[] | undefined): WireAction[] {
  const out: WireAction[] = [];
  const visit = (action: WireAction): void => {
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      for (const child of action.compoundActions ?? []) visit(child);
    } else out.push(action);
  };
  for (const group of actions ?? []) for (const action of group) visit(action);
  return out;
}

/** Actions that take a task sequence number (and so a scheduling event in history). */
export function takesSequenceNumber(action: WireAction): boolean {
  return (
    action.actionType !== ActionType.WaitForExternalEvent &&
    action.actionType !== ActionType.ContinueAsNew &&
    action.actionType !== ActionType.ReleaseEntities
  );
}

/**
 * Compares the replayed actions with the scheduling events the orchestrator itself caused
 * (retry re-schedules are the engine's own). Returns a description of the first mismatch, if any.
 */
export function findNonDeterminism(
  scheduling: readonly WireAction[],
  history: readonly StoredEvent[],
  orchestratorDone: boolean,
): string | undefined {
  const recorded = history
    .filter(({ event, retry }) => isSchedulingEvent(event) && !retry)
    .map((s) => s.event);
  for (const [i, event] of recorded.entries()) {
    const action = scheduling[i];
    if (action === undefined) {
      if (orchestratorDone) return undefined;
      return `history has ${describeEvent(event)} at position ${i}, but the replay scheduled nothing there`;
    }
    if (!matches(action, event.EventType, event.Name)) {
      return `history has ${describeEvent(event)} at position ${i}, but the replay scheduled ${describeAction(action)}`;
    }
  }
  return undefined;
}

function matches(action: WireAction, type: HistoryEventType, name: unknown): boolean {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return type === HistoryEventType.TaskScheduled && name === action.functionName;
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return type === HistoryEventType.SubOrchestrationInstanceCreated && name === action.functionName;
    case ActionType.CreateTimer:
      return type === HistoryEventType.TimerCreated;
    default:
      return false;
  }
}

function describeEvent(event: { EventType: HistoryEventType; Name?: unknown }): string {
  const name = typeof event.Name === 'string' ? ` '${event.Name}'` : '';
  return `${HistoryEventType[event.EventType]}${name}`;
}

export function describeAction(action: WireAction): string {
  const name = action.functionName === undefined ? '' : ` '${action.functionName}'`;
  return `${ActionType[action.actionType] ?? `action ${String(action.actionType)}`}${name}`;
}

/**
 * The wait before retry number `failedAttempts` (1 after the first failure), as the Durable Task
 * Framework computes it: first * coefficient^(failedAttempts - 1), capped by the max interval.
 * Undefined once the retry timeout has passed.
 */
export function retryDelayMs(
  options: RetryOptionsWire,
  failedAttempts: number,
  firstAttemptAt: Date,
  now: Date,
): number | undefined {
  const timeout = options.retryTimeoutInMilliseconds;
  if (timeout !== undefined && timeout > 0 && now.getTime() >= firstAttemptAt.getTime() + timeout)
    return undefined;
  const coefficient = options.backoffCoefficient ?? 1;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(coefficient, failedAttempts - 1);
  const max = options.maxRetryIntervalInMilliseconds;
  return max !== undefined && max > 0 ? Math.min(delay, max) : delay;
}

/**
 * The SDK JSON-encodes string inputs of activity and continue-as-new actions (Utils.processInput);
 * the extension hands the activity the decoded value.
 */
export function decodeProcessedInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
