/**
 * One orchestrator episode for one instance: load the instance and its history, append the pending
 * messages (framed by OrchestratorStarted/OrchestratorCompleted), replay the whole history through
 * the SDK's orchestrator handler, check the replay against the history (non-determinism fails the
 * instance), carry out the new actions, then commit: the new work, the history, the instance row,
 * and last the consumed messages.
 *
 * Retries of CallActivityWithRetry/CallSubOrchestratorWithRetry are the engine's, as in the
 * extension: TaskFailed, then a retry timer (TimerCreated/TimerFired), then TaskScheduled again,
 * with the sequence numbers the SDK's RetryableTask expects.
 *
 * Not supported: entities (CallEntity/SignalEntity/locks) and durable HTTP (CallHttp): an
 * orchestrator that uses them fails with UnsupportedActionError's message.
 */
import { randomUUID } from 'node:crypto';
import type { LogHandler } from '@azure/functions';
import type { Clock } from '../../common/clock';
import type { DurableTriggerHandler } from '../durable-api';
import {
  ActionType,
  decodeProcessedInput,
  describeAction,
  findNonDeterminism,
  flattenActions,
  retryDelayMs,
  takesSequenceNumber,
  type WireAction,
} from './actions';
import type { CommitHook } from './crash-points';
import { NonDeterministicOrchestrationError, UnsupportedActionError, errorMessage } from './errors';
import {
  HistoryEventType,
  historyEvent,
  isSchedulingEvent,
  nextSequenceNumber,
  type HistoryEvent,
  type StoredEvent,
} from './history';
import { loadInstance } from './instance-loading';
import { isRunningStatus } from './instance-status';
import { invokeOrchestrator } from './orchestrator-invocation';
import type {
  ActivityWork,
  DurableStore,
  EpisodeRef,
  InboxMessage,
  InstanceRecord,
  RetryState,
  WorkItem,
} from './store';
import { versionMismatch, type OrchestrationVersioning } from './versioning';
import { startMessage, type ExecutionStart } from './work-items';

export type EngineLogLevel = 'information' | 'warning' | 'error';
export type EngineLog = (level: EngineLogLevel, message: string) => void;

/** What an episode needs from the engine that runs it. */
export interface EpisodeDeps {
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly orchestrators: ReadonlyMap<string, DurableTriggerHandler>;
  readonly functionLogHandler?: LogHandler;
  readonly log: EngineLog;
  readonly reached: CommitHook;
  readonly versioning: OrchestrationVersioning;
  /** The next delivery order number, for the messages the episode sends. */
  nextSeq(): number;
}

export interface EpisodeOutcome {
  readonly consumed: Set<string>;
  readonly newWork: WorkItem[];
  readonly suspended: boolean;
  /**
   * Set when the instance's version may not run here and versionFailureStrategy is Reject: nothing
   * was applied or consumed (the reason).
   */
  readonly rejected?: string;
  /** The execution this episode ended (completed, failed, terminated or continued as new). */
  readonly ended?: string;
}

/** A CallSubOrchestrator action, or the next attempt of one called with retry. */
interface SubOrchestrationCall {
  readonly name: string;
  /** A JSON value. */
  readonly input?: unknown;
  readonly instanceId?: string;
  readonly version?: string;
}

/** One orchestrator episode for one instance: apply messages, replay, carry out, commit. */
export class Episode {
  private readonly now: Date;
  private record!: InstanceRecord;
  private history: StoredEvent[] = [];
  private readonly newEvents: StoredEvent[] = [];
  private readonly newWork: WorkItem[] = [];
  private readonly consumed = new Set<string>();
  private sequence = 0;
  /** This episode's commit mark, stored on its closing OrchestratorCompleted event. */
  private readonly episode = randomUUID().replace(/-/g, '');

  constructor(
    private readonly x: EpisodeDeps,
    private readonly instanceId: string,
    private readonly batch: readonly InboxMessage[],
    /** Set when a previous try could not be stored: the instance fails with this reason instead. */
    private readonly failure?: string,
  ) {
    this.now = this.x.clock.now();
  }

  async run(): Promise<EpisodeOutcome> {
    const { store } = this.x;
    const loaded = await loadInstance(store, this.instanceId, this.batch, this.now);
    if (loaded === undefined) {
      // Messages for an instance that does not exist (purged, or never started) are discarded.
      for (const m of this.batch) await this.discard(m);
      return { consumed: this.consumed, newWork: [], suspended: false };
    }
    this.history = loaded.history;
    this.record = loaded.record;
    this.sequence = nextSequenceNumber(this.history);
    const mismatch =
      this.failure === undefined && isRunningStatus(this.record.runtimeStatus)
        ? versionMismatch(this.record.version, this.x.versioning)
        : undefined;
    if (mismatch !== undefined && (this.x.versioning.versionFailureStrategy ?? 'Reject') === 'Reject') {
      // The work stays for a host that runs this version; a sub-orchestration created here is
      // stored (Pending), so its parent and clients see it.
      if (loaded.created) await store.putInstance(this.record);
      return { consumed: this.consumed, newWork: [], suspended: false, rejected: mismatch };
    }
    const applied = new Set(this.history.map((h) => h.messageKey).filter((k) => k !== undefined));

    let status = this.record.runtimeStatus;
    let holding = false;
    let runOrchestrator = false;
    let terminatedReason: string | undefined;
    const started = (): void => {
      if (this.newEvents.length === 0)
        this.push(historyEvent(HistoryEventType.OrchestratorStarted, this.now));
    };

    if (this.failure !== undefined && isRunningStatus(status)) {
      // None of the batch is applied (its payloads are what could not be stored).
      for (const m of this.batch) this.consumed.add(m.key);
      started();
      this.record = this.fail(
        this.record,
        `Orchestrator function '${this.record.name}' failed: ${this.failure}`,
      );
      status = 'Failed';
    }
    for (const m of this.batch) {
      if (applied.has(m.key) || !isRunningStatus(status)) {
        await this.discard(m);
        continue;
      }
      if (m.executionId !== undefined && m.executionId !== this.record.executionId) {
        await this.discard(m);
        continue;
      }
      if (m.control === 'terminate') {
        started();
        this.push(
          historyEvent(HistoryEventType.ExecutionTerminated, this.now, { Input: m.reason ?? '' }),
          m.key,
        );
        terminatedReason = m.reason ?? '';
        status = 'Terminated';
        this.consumed.add(m.key);
        continue;
      }
      if (m.control === 'suspend') {
        started();
        this.push(
          historyEvent(HistoryEventType.ExecutionSuspended, this.now, { Reason: m.reason ?? '' }),
          m.key,
        );
        status = 'Suspended';
        this.consumed.add(m.key);
        continue;
      }
      if (m.control === 'resume') {
        if (status === 'Suspended') {
          started();
          this.push(
            historyEvent(HistoryEventType.ExecutionResumed, this.now, { Reason: m.reason ?? '' }),
            m.key,
          );
          status = this.history.length > 0 || runOrchestrator ? 'Running' : 'Pending';
        }
        this.consumed.add(m.key);
        continue;
      }
      if (status === 'Suspended' || holding) {
        holding = true;
        continue;
      }
      if (m.event === undefined) {
        await this.discard(m);
        continue;
      }
      started();
      this.applyMessage(m);
      if (m.event.EventType === HistoryEventType.ExecutionStarted) status = 'Running';
      runOrchestrator = true;
      this.consumed.add(m.key);
    }

    let record: InstanceRecord = { ...this.record, runtimeStatus: status };
    if (terminatedReason !== undefined) {
      record = { ...record, output: JSON.stringify(terminatedReason) };
      this.notifyParent(record, false, `Orchestration terminated: ${terminatedReason}`);
    } else if (runOrchestrator && status === 'Running') {
      // versionFailureStrategy Fail: the orchestration fails with the mismatch, its code never run.
      record = mismatch === undefined ? await this.replay(record) : this.fail(record, mismatch);
    }
    let newWork: WorkItem[] = this.newWork;
    if (this.newEvents.length > 0) {
      this.newEvents.push({
        event: historyEvent(HistoryEventType.OrchestratorCompleted, this.now),
        episode: this.episode,
        ...(record.customStatus === undefined ? {} : { customStatus: record.customStatus }),
      });
      const origin: EpisodeRef = {
        instanceId: this.instanceId,
        executionId: this.record.executionId,
        index: this.history.length + this.newEvents.length - 1,
        episode: this.episode,
      };
      newWork = this.newWork.map((item) => ({ ...item, origin }));
      record = { ...record, episode: this.episode };
    }

    await store.commitEpisode(
      {
        instanceId: this.instanceId,
        executionId: this.record.executionId,
        fromIndex: this.history.length,
        newEvents: this.newEvents,
        newWork,
        record: { ...record, lastUpdatedTime: this.now.toISOString() },
        consumed: this.consumed,
      },
      this.x.reached,
    );
    return {
      consumed: this.consumed,
      newWork,
      suspended: record.runtimeStatus === 'Suspended',
      ...(isRunningStatus(record.runtimeStatus) && record.executionId === this.record.executionId
        ? {}
        : { ended: this.record.executionId }),
    };
  }

  private async discard(m: InboxMessage): Promise<void> {
    this.x.log('information', `message ${m.key} for instance ${this.instanceId} discarded`);
    this.consumed.add(m.key);
  }

  private push(event: HistoryEvent, messageKey?: string, retry = false): void {
    this.newEvents.push({ event, ...(messageKey ? { messageKey } : {}), ...(retry ? { retry } : {}) });
  }

  /** Appends a message's event, and what the engine's retry loop adds after it. */
  private applyMessage(m: InboxMessage): void {
    const event = m.event as HistoryEvent;
    this.push(event, m.key);
    const failed =
      event.EventType === HistoryEventType.TaskFailed ||
      event.EventType === HistoryEventType.SubOrchestrationInstanceFailed;
    if (m.retry && failed)
      this.retryAfterFailure(m.retry, {
        reason: String(event.Reason ?? ''),
        details: String(event.Details ?? ''),
      });
    if (m.retry && event.EventType === HistoryEventType.TimerFired) this.retryAfterTimer(m.retry);
  }

  private retryAfterFailure(retry: RetryState, failure: { reason: string; details: string }): void {
    const delay = retry.timedOut
      ? undefined
      : retryDelayMs(retry.options, retry.attempt, new Date(retry.firstAttemptAt), this.now);
    const timerId = this.sequence++;
    const fireAt = new Date(this.now.getTime() + (delay ?? 0)).toISOString();
    this.push(
      historyEvent(HistoryEventType.TimerCreated, this.now, { FireAt: fireAt }, timerId),
      undefined,
      true,
    );
    this.newWork.push({
      kind: 'timer',
      key: `tmr|${this.instanceId}|${this.record.executionId}|${timerId}`,
      instanceId: this.instanceId,
      executionId: this.record.executionId,
      timerId,
      fireAt,
      retry: { ...retry, lastFailure: failure, timedOut: delay === undefined },
    });
  }

  private retryAfterTimer(retry: RetryState): void {
    // The SDK's RetryableTask gives up once the failed attempts reach maxNumberOfAttempts.
    if (retry.attempt >= retry.options.maxNumberOfAttempts) return;
    const next: RetryState = { ...retry, attempt: retry.attempt + 1 };
    const taskId = this.sequence++;
    if (retry.kind === 'activity') {
      this.push(
        historyEvent(
          HistoryEventType.TaskScheduled,
          this.now,
          { Name: retry.name, Input: JSON.stringify(retry.input ?? null) },
          taskId,
        ),
        undefined,
        true,
      );
      if (retry.timedOut && retry.lastFailure) {
        // Past the retry timeout: the remaining attempts fail at once, without running the activity.
        this.push(
          historyEvent(HistoryEventType.TaskFailed, this.now, {
            TaskScheduledId: taskId,
            Reason: retry.lastFailure.reason,
            Details: retry.lastFailure.details,
          }),
        );
        this.retryAfterFailure(next, retry.lastFailure);
        return;
      }
      this.newWork.push(this.activityWork(taskId, retry.name, retry.input, next));
    } else {
      this.scheduleSubOrchestration(
        taskId,
        {
          name: retry.name,
          input: retry.input,
          ...optional('instanceId', retry.subInstanceId),
          ...optional('version', retry.version),
        },
        next,
        true,
      );
    }
  }

  private activityWork(taskId: number, name: string, input: unknown, retry?: RetryState): ActivityWork {
    return {
      kind: 'activity',
      key: `act|${this.instanceId}|${this.record.executionId}|${taskId}`,
      instanceId: this.instanceId,
      executionId: this.record.executionId,
      taskId,
      name,
      ...(input === undefined ? {} : { input }),
      ...(retry ? { retry } : {}),
    };
  }

  private scheduleSubOrchestration(
    taskId: number,
    call: SubOrchestrationCall,
    retry: RetryState | undefined,
    engineRetry: boolean,
  ): void {
    const { name, version } = call;
    const childId = call.instanceId ?? `${this.instanceId}:${taskId}`;
    const input = call.input === undefined ? undefined : JSON.stringify(call.input);
    this.push(
      historyEvent(
        HistoryEventType.SubOrchestrationInstanceCreated,
        this.now,
        { Name: name, InstanceId: childId, ...optional('Version', version), ...optional('Input', input) },
        taskId,
      ),
      undefined,
      engineRetry,
    );
    const childExecutionId = `${this.record.executionId}.${taskId}`;
    const parent = { instanceId: this.instanceId, executionId: this.record.executionId, taskId };
    this.newWork.push(
      this.startMessage(
        {
          instanceId: childId,
          executionId: childExecutionId,
          name,
          ...optional('input', input),
          ...optional('version', version),
        },
        this.x.nextSeq(),
        {
          create: {
            name,
            ...optional('input', input),
            ...optional('version', version),
            parent,
            ...(retry ? { retry } : {}),
          },
        },
      ),
    );
  }

  /** Ends the execution as Failed with `output` (its parent, if any, is told). */
  private fail(record: InstanceRecord, output: string): InstanceRecord {
    this.push(
      historyEvent(HistoryEventType.ExecutionCompleted, this.now, {
        OrchestrationStatus: 'Failed',
        Result: JSON.stringify(output),
      }),
    );
    const next: InstanceRecord = { ...record, runtimeStatus: 'Failed', output: JSON.stringify(output) };
    this.notifyParent(next, false, output);
    return next;
  }

  private async replay(record: InstanceRecord): Promise<InstanceRecord> {
    const all = [...this.history, ...this.newEvents];
    const invocation = await invokeOrchestrator(
      this.x.orchestrators.get(record.name),
      record,
      all.map((stored) => stored.event),
      this.history.length,
      this.x.functionLogHandler,
    );
    const { state } = invocation;
    let { failure } = invocation;

    let next: InstanceRecord = record;
    if (state?.customStatus !== undefined)
      next = { ...next, customStatus: JSON.stringify(state.customStatus) };
    const actions = flattenActions(state?.actions);
    const scheduling = actions.filter(takesSequenceNumber);
    if (failure === undefined) {
      const mismatch = findNonDeterminism(scheduling, all, state?.isDone ?? false);
      if (mismatch !== undefined)
        failure = new NonDeterministicOrchestrationError(this.instanceId, mismatch).message;
    }
    if (failure === undefined) {
      const recorded = all.filter(({ event, retry }) => isSchedulingEvent(event) && !retry).length;
      try {
        for (const action of scheduling.slice(recorded)) this.carryOut(action);
      } catch (error) {
        failure = errorMessage(error);
      }
    }
    if (failure !== undefined)
      return this.fail(next, `Orchestrator function '${record.name}' failed: ${failure}`);
    if (!state?.isDone) return next;

    const continueAction = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (continueAction !== undefined) {
      const input = decodeProcessedInput(continueAction.input);
      const inputText = input === undefined ? undefined : JSON.stringify(input);
      this.push(
        historyEvent(HistoryEventType.ExecutionCompleted, this.now, {
          OrchestrationStatus: 'ContinuedAsNew',
        }),
      );
      const executionId = randomUUID().replace(/-/g, '');
      // The new execution's start goes before any message that arrives meanwhile.
      this.newWork.push(
        this.startMessage(
          {
            instanceId: this.instanceId,
            executionId,
            name: record.name,
            ...optional('input', inputText),
            ...optional('version', record.version),
          },
          0,
          { continuedFrom: record.executionId },
        ),
      );
      const { output: _o, input: _i, ...rest } = next;
      return {
        ...rest,
        ...(inputText === undefined ? {} : { input: inputText }),
        runtimeStatus: 'Running',
        executionId,
      };
    }
    const output = JSON.stringify(state.output ?? null);
    this.push(
      historyEvent(HistoryEventType.ExecutionCompleted, this.now, {
        OrchestrationStatus: 'Completed',
        Result: output,
      }),
    );
    next = { ...next, runtimeStatus: 'Completed', output };
    this.notifyParent(next, true, output);
    return next;
  }

  private carryOut(action: WireAction): void {
    const taskId = this.sequence++;
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const name = action.functionName as string;
        const input = decodeProcessedInput(action.input);
        const retry: RetryState | undefined =
          action.actionType === ActionType.CallActivityWithRetry && action.retryOptions
            ? {
                kind: 'activity',
                name,
                ...(input === undefined ? {} : { input }),
                options: action.retryOptions,
                attempt: 1,
                firstAttemptAt: this.now.toISOString(),
              }
            : undefined;
        this.push(
          historyEvent(
            HistoryEventType.TaskScheduled,
            this.now,
            { Name: name, ...(input === undefined ? {} : { Input: JSON.stringify(input) }) },
            taskId,
          ),
        );
        this.newWork.push(this.activityWork(taskId, name, input, retry));
        return;
      }
      case ActionType.CreateTimer: {
        const fireAt = new Date(action.fireAt as string).toISOString();
        this.push(historyEvent(HistoryEventType.TimerCreated, this.now, { FireAt: fireAt }, taskId));
        // A timer cancelled in the episode that created it stays in history but is never armed.
        if (!action.isCanceled)
          this.newWork.push({
            kind: 'timer',
            key: `tmr|${this.instanceId}|${this.record.executionId}|${taskId}`,
            instanceId: this.instanceId,
            executionId: this.record.executionId,
            timerId: taskId,
            fireAt,
          });
        return;
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const name = action.functionName as string;
        // Without a version of its own, a sub-orchestration gets defaultVersion (not its parent's).
        const version =
          typeof action.version === 'string' ? action.version : this.x.versioning.defaultVersion;
        const retry: RetryState | undefined =
          action.actionType === ActionType.CallSubOrchestratorWithRetry && action.retryOptions
            ? {
                kind: 'subOrchestration',
                name,
                ...(action.input === undefined ? {} : { input: action.input }),
                ...(action.instanceId ? { subInstanceId: action.instanceId } : {}),
                ...optional('version', version),
                options: action.retryOptions,
                attempt: 1,
                firstAttemptAt: this.now.toISOString(),
              }
            : undefined;
        const call: SubOrchestrationCall = {
          name,
          input: action.input,
          ...(action.instanceId ? { instanceId: action.instanceId } : {}),
          ...optional('version', version),
        };
        this.scheduleSubOrchestration(taskId, call, retry, false);
        return;
      }
      default:
        throw new UnsupportedActionError(describeAction(action));
    }
  }

  private startMessage(start: ExecutionStart, seq: number, extra: Partial<InboxMessage>): InboxMessage {
    return startMessage(start, seq, this.x.clock.now(), extra);
  }

  private notifyParent(record: InstanceRecord, succeeded: boolean, outputOrReason: string): void {
    const parent = record.parent;
    if (parent === undefined) return;
    const retry = record.parentRetry;
    this.newWork.push({
      kind: 'message',
      key: `sub|${parent.instanceId}|${parent.executionId}|${parent.taskId}`,
      instanceId: parent.instanceId,
      executionId: parent.executionId,
      seq: this.x.nextSeq(),
      event: succeeded
        ? historyEvent(HistoryEventType.SubOrchestrationInstanceCompleted, this.now, {
            TaskScheduledId: parent.taskId,
            Result: outputOrReason,
          })
        : historyEvent(HistoryEventType.SubOrchestrationInstanceFailed, this.now, {
            TaskScheduledId: parent.taskId,
            Reason: outputOrReason,
            Details: outputOrReason,
          }),
      ...(retry ? { retry } : {}),
    });
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
