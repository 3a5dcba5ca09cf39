/**
 * One call of an orchestrator function, as the Durable extension makes it for an out-of-process
 * worker: the trigger input (the whole history, replayed events marked `IsPlayed`, plus the replay
 * schema and timer settings the SDK expects) and an InvocationContext (its `traceContext` starts a new
 * trace at each episode, not the starting caller's); the result is the SDK's
 * OrchestratorState, or the failure the orchestrator ended with.
 *
 * Advertises replay schema V2 (compound WhenAll/WhenAny actions; timers of any length are native).
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, type LogHandler } from '@azure/functions';
import { invocationTraceContext } from '../../common/trace-context';
import type { DurableTriggerHandler } from '../durable-api';
import type { WireAction } from './actions';
import { errorMessage } from './errors';
import { parseJsonOr, type HistoryEvent } from './history';
import type { InstanceRecord } from './store';

/** What the SDK's orchestrator handler returns (OrchestratorState), as JSON. */
export interface OrchestratorStateWire {
  readonly isDone: boolean;
  readonly actions?: WireAction[][];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

/** The orchestrator's state, and why it failed when it did (then `state` is what it had reached). */
export interface OrchestratorInvocation {
  readonly state?: OrchestratorStateWire;
  readonly failure?: string;
}

const SCHEMA_VERSION_V2 = 1;
const OUT_OF_PROC_DATA = '\n\n$OutOfProcData$:';

export async function invokeOrchestrator(
  handler: DurableTriggerHandler | undefined,
  record: InstanceRecord,
  history: readonly HistoryEvent[],
  playedCount: number,
  functionLogHandler: LogHandler | undefined,
): Promise<OrchestratorInvocation> {
  if (handler === undefined)
    return {
      failure: `The function '${record.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
    };
  const trigger = {
    history: history.map((event, i) => ({ ...event, IsPlayed: i < playedCount })),
    input: record.input === undefined ? undefined : parseJsonOr(record.input),
    instanceId: record.instanceId,
    isReplaying: false,
    parentInstanceId: record.parent?.instanceId,
    upperSchemaVersion: SCHEMA_VERSION_V2,
    upperSchemaVersionNew: SCHEMA_VERSION_V2,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  const context = new InvocationContext({
    functionName: record.name,
    invocationId: randomUUID(),
    traceContext: invocationTraceContext(record.name),
    ...(functionLogHandler ? { logHandler: functionLogHandler } : {}),
    options: { trigger: { type: 'orchestrationTrigger', name: 'context' } as never },
  });
  try {
    return { state: JSON.parse(JSON.stringify(await handler(trigger, context))) as OrchestratorStateWire };
  } catch (error) {
    return unpackOrchestratorFailure(errorMessage(error));
  }
}

/**
 * An orchestrator that throws makes the SDK throw OrchestrationFailureError: a message, then
 * `$OutOfProcData$:` and the OrchestratorState JSON, whose `error` is the thrown error's message.
 * durable-functions 3.x builds that error from a boolean (its message is "false"), so, as the
 * extension reports `Orchestrator function 'X' failed: <message>` from the state's `error`, the
 * state's `error` wins over the text before the marker.
 */
export function unpackOrchestratorFailure(message: string): {
  readonly failure: string;
  readonly state?: OrchestratorStateWire;
} {
  const at = message.indexOf(OUT_OF_PROC_DATA);
  if (at < 0) return { failure: message };
  const parsed = parseJsonOr(message.slice(at + OUT_OF_PROC_DATA.length));
  const state = typeof parsed === 'object' && parsed !== null ? (parsed as OrchestratorStateWire) : undefined;
  const error = state?.error;
  return {
    failure: typeof error === 'string' && error !== '' ? error : message.slice(0, at),
    ...(state === undefined ? {} : { state }),
  };
}
