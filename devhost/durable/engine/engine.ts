/**
 * devhost's durable engine: runs orchestrations by replaying the real durable-functions SDK
 * handlers over persisted histories, exactly as the Durable extension drives an out-of-process
 * worker, and carries out the actions they return.
 *
 * Flow: client operations and task results become inbox messages (work items) for an instance; an
 * "episode" takes an instance's pending messages, appends them to its history (framed by
 * OrchestratorStarted/OrchestratorCompleted), runs the orchestrator over the whole history, checks
 * the replay against the history (non-determinism fails the instance), and stores the new
 * scheduling events, activities to run, timers to arm and messages for other instances. Retries of
 * CallActivityWithRetry/CallSubOrchestratorWithRetry are the engine's, as in the extension:
 * TaskFailed, then a retry timer (TimerCreated/TimerFired), then TaskScheduled again, with the
 * sequence numbers the SDK's RetryableTask expects.
 *
 * Advertises replay schema V2 (compound WhenAll/WhenAny actions; timers of any length are native).
 * Not supported: entities (CallEntity/SignalEntity/locks) and durable HTTP (CallHttp): an
 * orchestrator that uses them fails with UnsupportedActionError's message.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, type LogHandler } from '@azure/functions';
import {
  InstanceExistsError,
  UnknownOrchestratorError,
  type DurableEngine,
  type DurableTriggerHandler,
  type InstanceOperationResult,
  type InstancePage,
  type InstanceQuery,
  type InstanceStatus,
  type RuntimeStatus,
  type StatusOptions,
} from '../durable-api';
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
import { SystemClock, type Clock, type ClockTimer } from './clock';
import { crashHookFromEnvironment, type CommitHook } from './crash-points';
import { NonDeterministicOrchestrationError, UnsupportedActionError, isPayloadTooLarge } from './errors';
import {
  HistoryEventType,
  historyEvent,
  isSchedulingEvent,
  nextSequenceNumber,
  parseJsonOr,
  toDisplayHistory,
  type HistoryEvent,
  type StoredEvent,
} from './history';
import { MemoryDurableStore } from './memory-store';
import type {
  ActivityWork,
  DurableStore,
  EpisodeRef,
  InboxMessage,
  InstanceRecord,
  RetryState,
  TimerWork,
  WorkItem,
} from './store';

export type EngineLogLevel = 'information' | 'warning' | 'error';

export interface DurableEngineOptions {
  /** Default: a new MemoryDurableStore. */
  readonly store?: DurableStore;
  /** Default: SystemClock. */
  readonly clock?: Clock;
  /** host.json extensions.durableTask.maxConcurrentActivityFunctions; default 10. */
  readonly maxConcurrentActivityFunctions?: number;
  /** host.json extensions.durableTask.maxConcurrentOrchestratorFunctions; default 10. */
  readonly maxConcurrentOrchestratorFunctions?: number;
  /** The engine's own diagnostics; default: nothing. */
  readonly log?: (level: EngineLogLevel, message: string) => void;
  /** Where `context.log` of orchestrators and activities goes; default: the Node.js console. */
  readonly functionLogHandler?: LogHandler;
  /** Called right after each commit step (fault injection); default: `DEVHOST_CRASH_AT`'s hook. */
  readonly onCommitStep?: CommitHook;
}

/** The engine as devhost and the test environment use it. */
export interface DevhostDurableEngine extends DurableEngine {
  readonly clock: Clock;
  /** Resolves once nothing is running or runnable (armed timers may still be waiting). */
  whenIdle(): Promise<void>;
}

/** What the SDK's orchestrator handler returns (OrchestratorState), as JSON. */
export interface OrchestratorStateWire {
  readonly isDone: boolean;
  readonly actions?: WireAction[][];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

const SCHEMA_VERSION_V2 = 1;
const DEFAULT_CONCURRENCY = 10;
const OUT_OF_PROC_DATA = '\n\n$OutOfProcData$:';
/** How long an instance waits after an episode could not commit (e.g. Table Storage unreachable). */
const EPISODE_RETRY_MS = 1000;
const RUNNING_STATUSES: readonly RuntimeStatus[] = ['Pending', 'Running', 'Suspended'];

export function isRunningStatus(status: RuntimeStatus): boolean {
  return RUNNING_STATUSES.includes(status);
}

export function createDurableEngine(options: DurableEngineOptions = {}): DevhostDurableEngine {
  return new Engine(options);
}

class Engine implements DevhostDurableEngine {
  readonly clock: Clock;
  private readonly store: DurableStore;
  private readonly maxActivities: number;
  private readonly maxOrchestrations: number;
  private readonly log: (level: EngineLogLevel, message: string) => void;
  private readonly reached: CommitHook;
  private readonly orchestrators = new Map<string, DurableTriggerHandler>();
  private readonly activities = new Map<string, DurableTriggerHandler>();

  private running = false;
  /** While run() sorts out the stored work, nothing runs (an episode could rewrite work it deletes). */
  private recovering = false;
  private seq = 0;
  private readonly inbox = new Map<string, InboxMessage[]>();
  /** Instances whose pending messages cannot be applied until a control message arrives (suspended). */
  private readonly blocked = new Set<string>();
  private readonly activeInstances = new Set<string>();
  /** Instances whose last episode failed to commit (store unavailable): they wait a moment. */
  private readonly backingOff = new Set<string>();
  private activityQueue: ActivityWork[] = [];
  private activeActivities = 0;
  private readonly armedTimers = new Map<string, ClockTimer>();
  private readonly inflight = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DurableEngineOptions) {
    this.store = options.store ?? new MemoryDurableStore();
    this.clock = options.clock ?? new SystemClock();
    this.maxActivities = Math.max(1, options.maxConcurrentActivityFunctions ?? DEFAULT_CONCURRENCY);
    this.maxOrchestrations = Math.max(1, options.maxConcurrentOrchestratorFunctions ?? DEFAULT_CONCURRENCY);
    this.log = options.log ?? (() => undefined);
    this.reached = options.onCommitStep ?? crashHookFromEnvironment() ?? (() => undefined);
  }

  registerOrchestrator(name: string, handler: DurableTriggerHandler): void {
    this.orchestrators.set(name, handler);
  }

  registerActivity(name: string, handler: DurableTriggerHandler): void {
    this.activities.set(name, handler);
  }

  async run(): Promise<void> {
    this.inbox.clear();
    this.blocked.clear();
    this.activityQueue = [];
    for (const timer of this.armedTimers.values()) timer.cancel();
    this.armedTimers.clear();
    // Running from here: work delivered while the store is read is accepted too (accept dedupes by key).
    this.running = true;
    this.recovering = true;
    try {
      await this.store.init();
      const work = await this.committedWork(await this.store.listWork());
      for (const item of work) if (item.kind === 'message') this.seq = Math.max(this.seq, item.seq);
      for (const item of work.sort(bySeq)) this.accept(item);
    } finally {
      this.recovering = false;
    }
    this.pump();
  }

  /**
   * An episode stores its new work before its history, so a crash between the two leaves work of an
   * episode that never committed: its messages are still pending and the episode runs again, with
   * new timestamps, ids and inputs. That work is deleted here, before anything runs, so an activity
   * result never meets a history that did not schedule it. (In a running engine, an episode's work
   * is accepted only after its commit.)
   */
  private async committedWork(work: readonly WorkItem[]): Promise<WorkItem[]> {
    const histories = new Map<string, Promise<StoredEvent[]>>();
    const committed = (origin: EpisodeRef): Promise<boolean> => {
      const key = `${origin.instanceId}\u0000${origin.executionId}`;
      let history = histories.get(key);
      if (history === undefined) {
        history = this.store.getHistory(origin.instanceId, origin.executionId);
        histories.set(key, history);
      }
      return history.then((events) => events[origin.index]?.episode === origin.episode);
    };
    const kept: WorkItem[] = [];
    for (const item of work) {
      if (item.origin === undefined || (await committed(item.origin))) {
        kept.push(item);
        continue;
      }
      this.log('information', `work ${item.key} of an episode that never committed dropped`);
      await this.store.deleteWork(item.key);
    }
    return kept;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.armedTimers.values()) timer.cancel();
    this.armedTimers.clear();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  // ---- client operations -------------------------------------------------------------------

  async start(name: string, options: { readonly instanceId?: string; readonly input?: unknown }) {
    if (!this.orchestrators.has(name)) throw new UnknownOrchestratorError(name);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    await this.store.init();
    const existing = await this.store.getInstance(instanceId);
    if (existing !== undefined && isRunningStatus(existing.runtimeStatus))
      throw new InstanceExistsError(instanceId, existing.runtimeStatus);
    if (existing !== undefined) await this.store.deleteInstance(instanceId);
    const now = this.clock.now().toISOString();
    const executionId = randomUUID().replace(/-/g, '');
    const input = options.input === undefined ? undefined : JSON.stringify(options.input);
    // The start message is written before the Pending record: a crash between the two leaves a
    // message for an instance that does not exist yet (discarded), never a Pending instance with no
    // start message (stuck, and refusing a retried start with 409).
    const start = this.startMessage(instanceId, executionId, name, input);
    await this.store.putWork(start);
    this.reached('start');
    await this.store.putInstance({
      instanceId,
      name,
      executionId,
      runtimeStatus: 'Pending',
      ...(input === undefined ? {} : { input }),
      createdTime: now,
      lastUpdatedTime: now,
    });
    this.accept(start);
    this.pump();
    return { instanceId };
  }

  async status(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    await this.store.init();
    const record = await this.store.getInstance(instanceId);
    if (record === undefined) return undefined;
    const history = options.showHistory
      ? await this.store.getHistory(instanceId, record.executionId)
      : undefined;
    return toInstanceStatus(record, options.showInput ?? true, history, options.showHistoryOutput ?? false);
  }

  async query(query: InstanceQuery): Promise<InstancePage> {
    await this.store.init();
    const matching = filterInstances(await this.store.listInstances(), query);
    const offset = query.continuationToken
      ? Number(Buffer.from(query.continuationToken, 'base64url').toString())
      : 0;
    const pageSize =
      query.pageSize !== undefined && query.pageSize > 0 ? query.pageSize : matching.length || 1;
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return {
      instances: page.map((r) => toInstanceStatus(r, query.showInput ?? true, undefined, false)),
      ...(next < matching.length
        ? { continuationToken: Buffer.from(String(next)).toString('base64url') }
        : {}),
    };
  }

  async raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<InstanceOperationResult> {
    const found = await this.applicable(instanceId);
    if (found !== 'accepted') {
      this.log('warning', `event '${eventName}' for instance ${instanceId} discarded: ${found}`);
      return found;
    }
    const seq = this.nextSeq();
    await this.deliver({
      kind: 'message',
      key: `evt|${instanceId}|${seq}|${randomUUID()}`,
      instanceId,
      seq,
      event: historyEvent(HistoryEventType.EventRaised, this.clock.now(), {
        Name: eventName,
        Input: JSON.stringify(data ?? null),
      }),
    });
    return 'accepted';
  }

  terminate(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'terminate', reason);
  }

  suspend(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'suspend', reason);
  }

  resume(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'resume', reason);
  }

  async purge(instanceId: string): Promise<number> {
    await this.store.init();
    const record = await this.store.getInstance(instanceId);
    if (record === undefined || isRunningStatus(record.runtimeStatus)) return 0;
    await this.store.deleteInstance(instanceId);
    return 1;
  }

  async purgeMany(
    query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo'>,
  ): Promise<number> {
    await this.store.init();
    const matching = filterInstances(await this.store.listInstances(), query).filter(
      (r) => !isRunningStatus(r.runtimeStatus),
    );
    for (const record of matching) await this.store.deleteInstance(record.instanceId);
    return matching.length;
  }

  private async applicable(instanceId: string): Promise<InstanceOperationResult> {
    await this.store.init();
    const record = await this.store.getInstance(instanceId);
    if (record === undefined) return 'not_found';
    return isRunningStatus(record.runtimeStatus) ? 'accepted' : 'not_applicable';
  }

  private async control(
    instanceId: string,
    control: 'terminate' | 'suspend' | 'resume',
    reason: string | undefined,
  ): Promise<InstanceOperationResult> {
    const found = await this.applicable(instanceId);
    if (found !== 'accepted') return found;
    const seq = this.nextSeq();
    await this.deliver({
      kind: 'message',
      key: `ctl|${instanceId}|${seq}|${randomUUID()}`,
      instanceId,
      seq,
      control,
      ...(reason === undefined ? {} : { reason }),
    });
    return 'accepted';
  }

  // ---- scheduling --------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = Math.max(this.seq + 1, this.clock.now().getTime() * 1000);
    return this.seq;
  }

  private startMessage(
    instanceId: string,
    executionId: string,
    name: string,
    input: string | undefined,
    extra: Partial<InboxMessage> = {},
  ): InboxMessage {
    return {
      kind: 'message',
      key: `start|${instanceId}|${executionId}`,
      instanceId,
      executionId,
      seq: extra.seq ?? this.nextSeq(),
      event: historyEvent(HistoryEventType.ExecutionStarted, this.clock.now(), {
        Name: name,
        ...(input === undefined ? {} : { Input: input }),
      }),
      ...extra,
    };
  }

  /** Stores a work item, then makes it visible to this engine. */
  private async deliver(item: WorkItem): Promise<void> {
    await this.store.putWork(item);
    this.accept(item);
    this.pump();
  }

  private accept(item: WorkItem): void {
    if (!this.running) return;
    switch (item.kind) {
      case 'message': {
        const list = this.inbox.get(item.instanceId) ?? [];
        if (!list.some((m) => m.key === item.key)) list.push(item);
        list.sort(bySeq);
        this.inbox.set(item.instanceId, list);
        if (item.control !== undefined) this.blocked.delete(item.instanceId);
        break;
      }
      case 'activity':
        if (!this.activityQueue.some((a) => a.key === item.key)) this.activityQueue.push(item);
        break;
      case 'timer':
        this.armTimer(item);
        break;
    }
  }

  private armTimer(timer: TimerWork): void {
    if (this.armedTimers.has(timer.key)) return;
    const handle = this.clock.setTimer(new Date(timer.fireAt), () => {
      this.armedTimers.delete(timer.key);
      this.track(this.fireTimer(timer));
    });
    this.armedTimers.set(timer.key, handle);
  }

  private async fireTimer(timer: TimerWork): Promise<void> {
    const message: InboxMessage = {
      kind: 'message',
      key: `fired|${timer.instanceId}|${timer.executionId}|${timer.timerId}`,
      instanceId: timer.instanceId,
      executionId: timer.executionId,
      seq: this.nextSeq(),
      event: historyEvent(HistoryEventType.TimerFired, this.clock.now(), {
        TimerId: timer.timerId,
        FireAt: timer.fireAt,
      }),
      ...(timer.retry ? { retry: timer.retry } : {}),
    };
    await this.store.putWork(message);
    this.reached('timer-fired');
    await this.store.deleteWork(timer.key);
    this.accept(message);
  }

  private pump(): void {
    if (!this.running || this.recovering) return;
    for (const [instanceId, messages] of this.inbox) {
      if (this.activeInstances.size >= this.maxOrchestrations) break;
      if (
        messages.length === 0 ||
        this.activeInstances.has(instanceId) ||
        this.blocked.has(instanceId) ||
        this.backingOff.has(instanceId)
      )
        continue;
      this.activeInstances.add(instanceId);
      this.track(
        this.runEpisode(instanceId).finally(() => {
          this.activeInstances.delete(instanceId);
        }),
      );
    }
    while (this.activeActivities < this.maxActivities && this.activityQueue.length > 0) {
      const work = this.activityQueue.shift() as ActivityWork;
      this.activeActivities += 1;
      this.track(
        this.runActivity(work).finally(() => {
          this.activeActivities -= 1;
        }),
      );
    }
  }

  private backOff(instanceId: string): void {
    this.backingOff.add(instanceId);
    setTimeout(() => {
      this.backingOff.delete(instanceId);
      this.pump();
      this.checkIdle();
    }, EPISODE_RETRY_MS).unref();
  }

  private track(promise: Promise<void>): void {
    const tracked = promise
      .catch((error: unknown) => this.log('error', `durable engine: ${describe(error)}`))
      .finally(() => {
        this.inflight.delete(tracked);
        this.pump();
        this.checkIdle();
      });
    this.inflight.add(tracked);
  }

  private checkIdle(): void {
    if (this.inflight.size > 0) return;
    const runnable =
      this.running &&
      (this.activityQueue.length > 0 ||
        [...this.inbox].some(([id, messages]) => messages.length > 0 && !this.blocked.has(id)));
    if (runnable) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- activities --------------------------------------------------------------------------

  private async runActivity(work: ActivityWork): Promise<void> {
    await yieldToEventLoop();
    const base = {
      kind: 'message' as const,
      key: `res|${work.instanceId}|${work.executionId}|${work.taskId}`,
      instanceId: work.instanceId,
      executionId: work.executionId,
      ...(work.retry ? { retry: work.retry } : {}),
    };
    let event: HistoryEvent;
    try {
      const handler = this.activities.get(work.name);
      if (handler === undefined)
        throw new Error(
          `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`,
        );
      const context = new InvocationContext({
        functionName: work.name,
        invocationId: randomUUID(),
        ...(this.options.functionLogHandler ? { logHandler: this.options.functionLogHandler } : {}),
        options: { trigger: { type: 'activityTrigger', name: 'input' } as never },
      });
      const result = await handler(work.input, context);
      event = historyEvent(HistoryEventType.TaskCompleted, this.clock.now(), {
        TaskScheduledId: work.taskId,
        Result: JSON.stringify(result ?? null),
      });
    } catch (error) {
      event = historyEvent(HistoryEventType.TaskFailed, this.clock.now(), {
        TaskScheduledId: work.taskId,
        Reason: `Activity function '${work.name}' failed: ${errorMessage(error)}`,
        Details: errorDetails(error),
      });
    }
    let message: InboxMessage = { ...base, seq: this.nextSeq(), event };
    try {
      await this.store.putWork(message);
    } catch (error) {
      if (!isPayloadTooLarge(error)) throw error;
      // The result cannot be stored: the task fails saying why, as an activity that threw would.
      message = {
        ...message,
        event: historyEvent(HistoryEventType.TaskFailed, this.clock.now(), {
          TaskScheduledId: work.taskId,
          Reason: `Activity function '${work.name}' failed: its result could not be stored: ${errorMessage(error)}`,
          Details: errorMessage(error),
        }),
      };
      await this.store.putWork(message);
    }
    this.reached('activity-result');
    await this.store.deleteWork(work.key);
    this.accept(message);
  }

  // ---- orchestrator episodes -----------------------------------------------------------------

  private async runEpisode(instanceId: string): Promise<void> {
    await yieldToEventLoop();
    const batch = [...(this.inbox.get(instanceId) ?? [])];
    let outcome: EpisodeOutcome;
    try {
      outcome = await new Episode(this, instanceId, batch).run();
    } catch (error) {
      if (!isPayloadTooLarge(error)) {
        this.backOff(instanceId);
        throw error;
      }
      // What the episode produced cannot be stored: the instance fails saying why, rather than
      // running the same episode again and again.
      const reason = `its state could not be stored: ${errorMessage(error)}`;
      this.log('error', `instance ${instanceId} fails: ${reason}`);
      outcome = await new Episode(this, instanceId, batch, reason).run();
    }
    const remaining = (this.inbox.get(instanceId) ?? []).filter((m) => !outcome.consumed.has(m.key));
    if (remaining.length === 0) this.inbox.delete(instanceId);
    else this.inbox.set(instanceId, remaining);
    if (outcome.suspended && remaining.every((m) => m.control === undefined)) this.blocked.add(instanceId);
    for (const item of outcome.newWork) this.accept(item);
  }

  // Used by Episode.
  get internals() {
    return {
      store: this.store,
      clock: this.clock,
      orchestrators: this.orchestrators,
      functionLogHandler: this.options.functionLogHandler,
      nextSeq: () => this.nextSeq(),
      startMessage: (
        instanceId: string,
        executionId: string,
        name: string,
        input: string | undefined,
        extra?: Partial<InboxMessage>,
      ) => this.startMessage(instanceId, executionId, name, input, extra),
      log: this.log,
      reached: this.reached,
    };
  }
}

interface EpisodeOutcome {
  readonly consumed: Set<string>;
  readonly newWork: WorkItem[];
  readonly suspended: boolean;
}

/** One orchestrator episode for one instance: apply messages, replay, carry out, commit. */
class Episode {
  private readonly x: Engine['internals'];
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
    engine: Engine,
    private readonly instanceId: string,
    private readonly batch: readonly InboxMessage[],
    /** Set when a previous try could not be stored: the instance fails with this reason instead. */
    private readonly failure?: string,
  ) {
    this.x = engine.internals;
    this.now = this.x.clock.now();
  }

  async run(): Promise<EpisodeOutcome> {
    const { store } = this.x;
    let loaded = await store.getInstance(this.instanceId);
    const creation = this.batch.find((m) => m.create !== undefined && m.executionId !== loaded?.executionId);
    if (creation?.create !== undefined && creation.executionId !== undefined) {
      if (loaded !== undefined) await store.deleteInstance(this.instanceId);
      const { create } = creation;
      loaded = {
        instanceId: this.instanceId,
        name: create.name,
        executionId: creation.executionId,
        runtimeStatus: 'Pending',
        ...(create.input === undefined ? {} : { input: create.input }),
        createdTime: this.now.toISOString(),
        lastUpdatedTime: this.now.toISOString(),
        parent: create.parent,
        ...(create.retry ? { parentRetry: create.retry } : {}),
      };
    }
    // A crash after a continue-as-new episode saved its new work but before it saved the instance
    // record: the record is still on the old execution. Move it to the new one.
    const continuation = this.batch.find(
      (m) =>
        m.continuedFrom !== undefined &&
        m.continuedFrom === loaded?.executionId &&
        m.executionId !== undefined,
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
    if (loaded === undefined) {
      // Messages for an instance that does not exist (purged, or never started) are discarded.
      for (const m of this.batch) await this.discard(m);
      return { consumed: this.consumed, newWork: [], suspended: false };
    }
    this.history = await store.getHistory(this.instanceId, loaded.executionId);
    loaded = catchUpWithHistory(loaded, this.history);
    this.record = loaded;
    this.sequence = nextSequenceNumber(this.history);
    const applied = new Set(this.history.map((h) => h.messageKey).filter((k) => k !== undefined));

    let status = loaded.runtimeStatus;
    // A crash after the first episode saved its history but before it saved the instance record
    // leaves the record Pending although the execution has started.
    if (
      status === 'Pending' &&
      this.history.some((h) => h.event.EventType === HistoryEventType.ExecutionStarted)
    ) {
      status = 'Running';
    }
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
      const output = `Orchestrator function '${this.record.name}' failed: ${this.failure}`;
      this.push(
        historyEvent(HistoryEventType.ExecutionCompleted, this.now, {
          OrchestrationStatus: 'Failed',
          Result: JSON.stringify(output),
        }),
      );
      status = 'Failed';
      this.record = { ...this.record, output: JSON.stringify(output) };
      this.notifyParent({ ...this.record, runtimeStatus: 'Failed' }, false, output);
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
      record = await this.replay(record);
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

    // Commit: new work (idempotent keys, stamped with this episode), then the history, whose last
    // event is the commit point, then the instance row, then the consumed messages. A crash before
    // the history leaves work that the next engine drops (Engine.committedWork) and messages that
    // run the episode again; a crash after it leaves a row that the next episode catches up
    // (catchUpWithHistory) and messages already in the history, which are discarded.
    for (const [i, item] of newWork.entries()) {
      await store.putWork(item);
      if (i === 0) this.x.reached('work-first');
    }
    if (newWork.length > 0) this.x.reached('work');
    if (this.newEvents.length > 0) {
      await store.putHistory(this.instanceId, this.record.executionId, this.history.length, this.newEvents);
      this.x.reached('history');
    }
    await store.putInstance({ ...record, lastUpdatedTime: this.now.toISOString() });
    this.x.reached('instance');
    for (const key of this.consumed) {
      await store.deleteWork(key);
      this.x.reached('consumed-first');
    }
    return {
      consumed: this.consumed,
      newWork,
      suspended: record.runtimeStatus === 'Suspended',
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
      this.scheduleSubOrchestration(taskId, retry.name, retry.input, retry.subInstanceId, next, true);
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
    name: string,
    input: unknown,
    requestedId: string | undefined,
    retry: RetryState | undefined,
    engineRetry: boolean,
  ): void {
    const childId = requestedId ?? `${this.instanceId}:${taskId}`;
    const inputText = input === undefined ? undefined : JSON.stringify(input);
    this.push(
      historyEvent(
        HistoryEventType.SubOrchestrationInstanceCreated,
        this.now,
        { Name: name, InstanceId: childId, ...(inputText === undefined ? {} : { Input: inputText }) },
        taskId,
      ),
      undefined,
      engineRetry,
    );
    const childExecutionId = `${this.record.executionId}.${taskId}`;
    this.newWork.push(
      this.x.startMessage(childId, childExecutionId, name, inputText, {
        create: {
          name,
          ...(inputText === undefined ? {} : { input: inputText }),
          parent: { instanceId: this.instanceId, executionId: this.record.executionId, taskId },
          ...(retry ? { retry } : {}),
        },
      }),
    );
  }

  private async replay(record: InstanceRecord): Promise<InstanceRecord> {
    const handler = this.x.orchestrators.get(record.name);
    const all = [...this.history, ...this.newEvents];
    let state: OrchestratorStateWire | undefined;
    let failure: string | undefined;
    if (handler === undefined) {
      failure = `The function '${record.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    } else {
      const trigger = {
        history: all.map((s, i) => ({ ...s.event, IsPlayed: i < this.history.length })),
        input: record.input === undefined ? undefined : parseJsonOr(record.input),
        instanceId: this.instanceId,
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
        ...(this.x.functionLogHandler ? { logHandler: this.x.functionLogHandler } : {}),
        options: { trigger: { type: 'orchestrationTrigger', name: 'context' } as never },
      });
      try {
        state = JSON.parse(JSON.stringify(await handler(trigger, context))) as OrchestratorStateWire;
      } catch (error) {
        ({ failure, state } = unpackOrchestratorFailure(errorMessage(error)));
      }
    }

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
    if (failure !== undefined) {
      const output = `Orchestrator function '${record.name}' failed: ${failure}`;
      this.push(
        historyEvent(HistoryEventType.ExecutionCompleted, this.now, {
          OrchestrationStatus: 'Failed',
          Result: JSON.stringify(output),
        }),
      );
      next = { ...next, runtimeStatus: 'Failed', output: JSON.stringify(output) };
      this.notifyParent(next, false, output);
      return next;
    }
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
        this.x.startMessage(this.instanceId, executionId, record.name, inputText, {
          seq: 0,
          continuedFrom: record.executionId,
        }),
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
        const retry: RetryState | undefined =
          action.actionType === ActionType.CallSubOrchestratorWithRetry && action.retryOptions
            ? {
                kind: 'subOrchestration',
                name,
                ...(action.input === undefined ? {} : { input: action.input }),
                ...(action.instanceId ? { subInstanceId: action.instanceId } : {}),
                options: action.retryOptions,
                attempt: 1,
                firstAttemptAt: this.now.toISOString(),
              }
            : undefined;
        this.scheduleSubOrchestration(
          taskId,
          name,
          action.input,
          action.instanceId || undefined,
          retry,
          false,
        );
        return;
      }
      default:
        throw new UnsupportedActionError(describeAction(action));
    }
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

/**
 * Lets I/O (HTTP requests, Table Storage answers) run before the next episode or activity. A store
 * that answers without I/O (the memory store) would otherwise chain every episode and activity of a
 * busy orchestration in promise callbacks, and the event loop would serve nothing else until it ended.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function bySeq(a: WorkItem, b: WorkItem): number {
  const sa = a.kind === 'message' ? a.seq : 0;
  const sb = b.kind === 'message' ? b.seq : 0;
  return sa - sb;
}

function filterInstances(
  records: readonly InstanceRecord[],
  query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo' | 'instanceIdPrefix'>,
): InstanceRecord[] {
  return records
    .filter((r) => !query.runtimeStatus?.length || query.runtimeStatus.includes(r.runtimeStatus))
    .filter((r) => !query.createdTimeFrom || new Date(r.createdTime) >= query.createdTimeFrom)
    .filter((r) => !query.createdTimeTo || new Date(r.createdTime) <= query.createdTimeTo)
    .filter((r) => !query.instanceIdPrefix || r.instanceId.startsWith(query.instanceIdPrefix))
    .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId));
}

function toInstanceStatus(
  record: InstanceRecord,
  showInput: boolean,
  history: readonly StoredEvent[] | undefined,
  showHistoryOutput: boolean,
): InstanceStatus {
  return {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    ...(showInput && record.input !== undefined ? { input: parseJsonOr(record.input) } : {}),
    ...(record.output !== undefined ? { output: parseJsonOr(record.output) } : {}),
    ...(record.customStatus !== undefined ? { customStatus: parseJsonOr(record.customStatus) } : {}),
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
    ...(history ? { historyEvents: toDisplayHistory(history, { showHistoryOutput }) } : {}),
  };
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorDetails(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
