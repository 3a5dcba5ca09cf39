/**
 * One call of an activity function, as the Durable extension makes it: the activity's input and an
 * InvocationContext (its `traceContext` starts a new trace: devhost does not carry the orchestration's
 * trace over to its activities); the result is the TaskCompleted event with the JSON of what it returned, or
 * TaskFailed with the extension's reason (`Activity function 'X' failed: <message>`) and the stack.
 * A handler may make an invocation of its own instead: durable support invokes activities through the
 * host, which fills their extra inputs (durable-support.ts), so this context then goes unused.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, type LogHandler } from '@azure/functions';
import { invocationTraceContext } from '../../common/trace-context';
import type { DurableTriggerHandler } from '../durable-api';
import { errorDetails, errorMessage } from './errors';
import { HistoryEventType, historyEvent, type HistoryEvent } from './history';
import type { ActivityWork } from './store';

export async function invokeActivity(
  handler: DurableTriggerHandler | undefined,
  work: ActivityWork,
  functionLogHandler: LogHandler | undefined,
  now: () => Date,
): Promise<HistoryEvent> {
  try {
    if (handler === undefined)
      throw new Error(
        `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`,
      );
    const context = new InvocationContext({
      functionName: work.name,
      invocationId: randomUUID(),
      traceContext: invocationTraceContext(work.name),
      ...(functionLogHandler ? { logHandler: functionLogHandler } : {}),
      options: { trigger: { type: 'activityTrigger', name: 'input' } as never },
    });
    const result = await handler(work.input, context);
    return historyEvent(HistoryEventType.TaskCompleted, now(), {
      TaskScheduledId: work.taskId,
      Result: JSON.stringify(result ?? null),
    });
  } catch (error) {
    return historyEvent(HistoryEventType.TaskFailed, now(), {
      TaskScheduledId: work.taskId,
      Reason: `Activity function '${work.name}' failed: ${errorMessage(error)}`,
      Details: errorDetails(error),
    });
  }
}
